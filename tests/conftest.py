"""Shared fixtures: a real database (SQLite always; PostgreSQL too when TEST_POSTGRES_URL is set).

The schema is built once per backend by running the Alembic migrations; every test then runs
inside a transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
# The audit log's HMAC key (bot.services.audit); the live stack's processes inherit it.
os.environ.setdefault("BOT_AUDIT_KEY", "test-audit-key-" + "x" * 32)
BACKENDS = ["sqlite", "postgres"]


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        eng = make_engine(url)
    else:
        url = os.environ.get("TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (.ci/run sets it)")
        eng = make_engine(url)
        _reset_postgres(eng)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _empty_database_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from an empty database. Most tests roll back (``session``); tests of
    code that commits on its own (channels, reminders, handover) leave rows that are wiped here."""
    yield
    if "engine" not in request.fixturenames:
        return
    eng: Engine = request.getfixturevalue("engine")
    from bot.models import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even where the code under test flushes."""
    conn = engine.connect()
    trans = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        trans.rollback()
        conn.close()


@pytest.fixture
def action_session(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    """Make custom actions use the test's rolled-back session (each action in a savepoint)."""
    from contextlib import contextmanager

    import actions.common

    @contextmanager
    def provider() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    monkeypatch.setattr(actions.common, "session_provider", provider)
    return session
