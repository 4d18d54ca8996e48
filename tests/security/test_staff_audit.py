"""Attacks on the audit log (issue 12, item 3): concurrent appends chaining to the same
predecessor, a deleted tail going unnoticed, a chain anyone with database access can recompute,
and failed logins that leave no trace."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.models import AuditEntry
from bot.services import audit
from tests import desk_support
from tests.desk_support import CSRF_RE, World

app, world = desk_support.app, desk_support.world  # fixtures

THREADS = 8
PER_THREAD = 5


def _append_concurrently(engine: Engine) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                with transaction(factory) as session:  # one request: a ticket view
                    audit.record_view(session, "staff:sup_zhou", ("ticket", f"TK{n}-{i}", None), {"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_parallel_views_keep_the_chain_intact(engine: Engine) -> None:
    _append_concurrently(engine)
    with Session(engine) as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert len(rows) == THREADS * PER_THREAD
        assert len({r.prev_hash for r in rows}) == len(rows)  # no two writers chained to one predecessor
        assert audit.verify_chain(s) is None


def _some_entries(session: Session, n: int = 4) -> list[AuditEntry]:
    for i in range(n):
        audit.record(session, actor="staff:sup_zhou", action="view", object_type="ticket", object_id=f"T{i}")
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_deleting_the_newest_entries_is_detected(session: Session) -> None:
    ids = [r.id for r in _some_entries(session)]
    session.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": ids[-2]})
    session.expire_all()
    assert audit.verify_chain(session) == ids[-1]


def test_deleting_the_tail_and_rolling_the_head_back_is_detected(session: Session) -> None:
    rows = _some_entries(session)
    last_id, (prev_id, prev_hash) = rows[-1].id, (rows[-2].id, rows[-2].entry_hash)
    session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last_id})
    session.execute(
        text("UPDATE audit_head SET last_id = :id, last_hash = :h, entries = entries - 1"),
        {"id": prev_id, "h": prev_hash},
    )
    session.expire_all()
    assert audit.verify_chain(session) is not None
    # and the next append does not launder it by signing the altered head again
    audit.record(session, actor="system", action="view", object_type="ticket", object_id="T9")
    assert audit.verify_chain(session) is not None


def test_deleting_the_head_row_is_detected(session: Session) -> None:
    _some_entries(session)
    session.execute(text("DELETE FROM audit_head"))
    session.expire_all()
    assert audit.verify_chain(session) is not None


def _rewrite(session: Session, digest: Callable[..., str]) -> AuditEntry:
    """Edit the second entry and recompute every hash after it with ``digest``."""
    rows = _some_entries(session)
    prev = rows[0].entry_hash
    for row in rows[1:]:  # read before anything changes (the loop never expires them)
        after = {"edited": True} if row is rows[1] else row.after
        h = digest(prev, row, after)
        session.execute(
            text("UPDATE audit_log SET after = :a, prev_hash = :p, entry_hash = :h WHERE id = :id"),
            {"a": json.dumps(after) if after is not None else None, "p": prev, "h": h, "id": row.id},
        )
        prev = h
    session.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
    session.expire_all()
    return rows[1]


def _body(prev: str, row: AuditEntry, after: Any) -> bytes:
    fields = [prev, row.at.isoformat(), row.actor, row.action, row.object_type, row.object_id]
    return audit.canonical([*fields, row.customer_id, row.before, after]).encode()


def test_an_edited_entry_cannot_be_hidden_by_recomputing_the_chain_without_the_key(session: Session) -> None:
    edited = _rewrite(session, lambda prev, row, after: hashlib.sha256(_body(prev, row, after)).hexdigest())
    assert audit.verify_chain(session) == edited.id


def test_a_guessed_key_does_not_help_either(session: Session) -> None:
    edited = _rewrite(
        session, lambda prev, row, after: audit.entry_digest(
            prev, row.at, row.actor, row.action, row.object_type, row.object_id, row.customer_id,
            row.before, after, key=b"guessed-key",
        ),
    )  # fmt: skip
    assert audit.verify_chain(session) == edited.id


def test_editing_any_entry_is_detected(session: Session) -> None:
    rows = [(r.id, r.actor) for r in _some_entries(session)]
    for row_id, actor in rows:
        session.execute(text("UPDATE audit_log SET actor = 'staff:nobody' WHERE id = :id"), {"id": row_id})
        session.expire_all()
        assert audit.verify_chain(session) == row_id
        session.execute(text("UPDATE audit_log SET actor = :a WHERE id = :id"), {"a": actor, "id": row_id})
        session.expire_all()
    assert audit.verify_chain(session) is None


def test_the_key_is_not_in_the_database(session: Session) -> None:
    _some_entries(session)
    key = audit.audit_key().decode()
    for table in ("audit_log", "audit_head"):
        for row in session.execute(text(f"SELECT * FROM {table}")):
            assert key not in str(tuple(row))


def test_failed_logins_are_audited(app: Any, world: World, session: Session) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    for username in ("sup_zhou", "no_such_user"):
        token = CSRF_RE.search(client.get("/desk/login").text)
        assert token is not None
        resp = client.post(
            "/desk/login",
            data={"username": username, "password": "wrong-guess", "csrf_token": token.group(1)},
        )
        assert resp.status_code == 400
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
    assert sorted(r.object_id for r in rows) == ["no_such_user", "sup_zhou"]
    assert all(r.actor.startswith("client:") for r in rows)
    assert "wrong-guess" not in str([(r.after, r.before) for r in rows])
    assert audit.verify_chain(session) is None


def test_a_missing_key_refuses_to_write(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import SecretStr

    from bot.config import get_settings

    monkeypatch.setattr(get_settings(), "audit_key", SecretStr(""))
    with pytest.raises(audit.AuditKeyMissing):
        audit.record(session, actor="system", action="view", object_type="ticket", object_id="1")


def test_the_migration_chains_older_entries_again_with_the_key(tmp_path: Any) -> None:
    from alembic import command

    from bot.db import make_engine
    from tests.conftest import alembic_config

    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config()
    try:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "procs_tg_inbox")  # before the keyed chain: plain SHA-256 entries
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, object_type, object_id, after, prev_hash, "
                        "entry_hash) VALUES ('2026-11-30 10:00:00.123456', 'staff:a', 'view', 'ticket', :o, "
                        ":a, 'unkeyed', :h)"
                    ),
                    {"o": f"T{i}", "a": '{"k": 1}', "h": f"unkeyed-{i}"},
                )
            command.upgrade(cfg, "head")
        with Session(eng) as s:
            assert audit.verify_chain(s) is None
            audit.record(s, actor="system", action="view", object_type="ticket", object_id="new")
            assert audit.verify_chain(s) is None
    finally:
        eng.dispose()
