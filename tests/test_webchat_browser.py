"""The web chat in a real headless Chromium (the app on loopback, Rasa faked in-process):
buttons and quick replies, the typing indicator, an upload attached to a claim, history after a
reload, and nothing a customer types is ever run as HTML."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.db import make_engine
from bot.web.app import create_app
from tests.channel_support import (
    JPEG,
    FakeRasa,
    ServerThread,
    free_port,
    make_claim,
    make_customer,
    make_policy,
    make_settings,
)
from tests.conftest import upgrade

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SHOTS = Path(os.environ.get("CHAT_SCREENSHOTS", "")) if os.environ.get("CHAT_SCREENSHOTS") else None


def launch(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Any, FakeRasa]]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fake = FakeRasa()
    settings = make_settings(url, tmp_path)
    app = create_app(settings)
    app.state.hub.rasa = RasaClient(settings, transport=fake.transport())
    port = free_port()
    with ServerThread(app, port):
        yield f"http://127.0.0.1:{port}", engine, fake
    engine.dispose()


def test_web_chat_in_chromium(site, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, engine, fake = site
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page.goto(base + "/chat")
        expect(page.locator(".bar .title")).to_have_text("在线客服")

        page.fill("#input", "我要报案")
        page.click("#send")
        expect(page.locator(".msg.bot").last).to_contain_text("请问您要报哪一类案件")
        expect(page.locator("#typing")).to_be_hidden()
        page.locator(".msg.bot .buttons button", has_text="车险").click()
        expect(page.locator(".msg.customer").last).to_have_text("车险")  # the title, not the payload
        expect(page.locator(".msg.bot").last).to_contain_text('收到:/inform{"claim_type":"车险"}')

        # a claim exists for this conversation: the upload is attached to it
        sid_cookie = next(c for c in page.context.cookies() if c["name"] == "chat_session")
        from itsdangerous import URLSafeSerializer

        sid = URLSafeSerializer("test-session-secret", salt="web-chat-session").loads(sid_cookie["value"])
        with Session(engine, expire_on_commit=False) as s, s.begin():
            claim = make_claim(s, make_policy(s, make_customer(s)), f"web:{sid}")
        photo = tmp_path / "现场照片.jpg"
        photo.write_bytes(JPEG)
        page.set_input_files("#file", str(photo))
        expect(page.locator(".msg.bot").last).to_contain_text(claim.number)
        expect(page.locator(".msg.bot").last).to_contain_text("事故现场照片")

        # client-side check: a file of the wrong type is refused before upload
        bad = tmp_path / "病毒.exe"
        bad.write_bytes(b"MZ")
        page.set_input_files("#file", str(bad))
        expect(page.locator("#error")).to_contain_text("仅支持")

        # markup typed by the customer is shown as text and never runs
        evil = '<img src=x onerror="window.__xss=1">'
        page.fill("#input", evil)
        page.click("#send")
        expect(page.locator(".msg.customer").last).to_have_text(evil)
        expect(page.locator(".msg.bot").last).to_have_text("收到:" + evil)
        assert page.evaluate("window.__xss") is None
        assert page.locator(".msg img").count() == 0

        # quick reply chips
        page.locator(".chip", has_text="交费查询").click()
        expect(page.locator(".msg.bot").last).to_have_text("收到:下期保费什么时候交")

        if SHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "chat-mobile.png"), full_page=True)
        count_before = page.locator(".msg").count()
        page.reload()
        expect(page.locator(".msg")).to_have_count(count_before)  # the history survives a reload
        expect(page.locator(".msg.customer").first).to_have_text("我要报案")

        # a proactive message (reminder) appears without any action by the customer
        import asyncio
        import threading

        from sqlalchemy.orm import sessionmaker

        from bot.channels.hub import ChannelHub
        from bot.channels.outbound import notify_conversation

        hub = ChannelHub(
            settings=make_settings(str(engine.url), tmp_path),
            sessionmaker=sessionmaker(bind=engine),
            rasa=RasaClient(make_settings(str(engine.url), tmp_path), transport=fake.transport()),
        )
        worker = threading.Thread(  # playwright's sync API owns this thread's event loop
            target=lambda: asyncio.run(
                notify_conversation(
                    f"web:{sid}", "EXTERNAL_premium_reminder", {"reminder_stage": "d7"}, hub=hub
                )
            )
        )
        worker.start()
        worker.join(30)
        expect(page.locator(".msg.bot").last).to_contain_text("reminder_stage=d7", timeout=10_000)
        if SHOTS:
            page.screenshot(path=str(SHOTS / "chat-mobile-after-reload.png"), full_page=True)
        browser.close()
