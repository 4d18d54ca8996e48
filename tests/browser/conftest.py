"""Browser tests: the app served by uvicorn on a free loopback port (in a thread) against a
temporary SQLite database seeded with a minimal fixture, driven by Debian's Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import make_engine
from tests.conftest import upgrade
from tests.desk_support import Notifier, World, use_notifier

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DeskSite:
    url: str
    app: Any
    world: World
    database_url: str

    def session(self) -> Session:
        return Session(bind=self.app.state.engine, expire_on_commit=False)


@pytest.fixture
def desk_site(tmp_path: Path) -> Iterator[DeskSite]:
    from bot.web.app import create_app

    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(bind=engine, expire_on_commit=False) as session, session.begin():
        world = World(session)
    engine.dispose()
    settings = Settings(
        database_url=database_url,
        session_secret="browser-test-secret",
        tracker_database_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        telegram_token="",
    )
    app = create_app(settings)
    use_notifier(app, Notifier())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield DeskSite(f"http://127.0.0.1:{port}", app, world, database_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
