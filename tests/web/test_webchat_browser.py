"""The web chat in a real headless Chromium (the app on loopback, Rasa faked in-process):
buttons and quick replies, the typing indicator, an upload attached to a claim, history after a
reload, messages pushed by the server (server-sent events, no polling; a slow poll only without
EventSource), and nothing a customer types is ever run as HTML."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.db import make_engine
from bot.models import ChatMessage
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
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
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
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
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
        # pushed on the stream: the page loaded its history once per load and never polled
        assert [u for u in requested if "/chat/api/stream" in u]
        assert len([u for u in requested if "/chat/api/history" in u]) == 2  # the first load + the reload
        if SHOTS:
            page.screenshot(path=str(SHOTS / "chat-mobile-after-reload.png"), full_page=True)
        browser.close()


def test_without_event_source_the_page_polls_slowly(site, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, engine, _fake = site
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.add_init_script("window.EventSource = undefined;")  # an old browser, or a blocked stream
        page.clock.install()
        page.goto(base + "/chat")
        page.fill("#input", "你好")
        page.click("#send")
        expect(page.locator(".msg.bot").last).to_have_text("收到:你好")

        sid_cookie = next(c for c in page.context.cookies() if c["name"] == "chat_session")
        from itsdangerous import URLSafeSerializer

        sid = URLSafeSerializer("test-session-secret", salt="web-chat-session").loads(sid_cookie["value"])
        with Session(engine) as s, s.begin():
            s.add(ChatMessage(conversation_id=f"web:{sid}", role="agent", text="您好,这里是人工客服。"))
        page.clock.run_for(21_000)  # one slow poll
        expect(page.locator(".msg.agent").last).to_contain_text("您好,这里是人工客服。")
        browser.close()


def test_live_handover_pages_are_pushed_both_ways(site) -> None:
    """The agent's live page and the customer's chat, side by side, without any polling."""
    from playwright.sync_api import expect, sync_playwright

    from bot.models import StaffRole
    from bot.services.staff import create_user

    base, engine, _fake = site
    with Session(engine) as s, s.begin():
        create_user(
            s, username="live_agent", password="agent-pass-123", role=StaffRole.AGENT, display_name="坐席小王"
        )
    with sync_playwright() as p:
        browser = launch(p)
        agent = browser.new_context().new_page()
        requested: list[str] = []
        agent.on("request", lambda r: requested.append(r.url))
        agent.goto(base + "/agent/live")  # → the login page, then back
        agent.fill("#username", "live_agent")
        agent.fill("#password", "agent-pass-123")
        agent.click("button[type=submit]")
        expect(agent.locator("#empty")).to_be_visible()

        customer = browser.new_context().new_page()
        customer.goto(base + "/chat")
        customer.locator(".chip", has_text="转人工").click()
        expect(customer.locator("#status")).to_have_text("正在为您转接人工客服…")

        expect(agent.locator("#queue li")).to_have_count(1)  # pushed: the queue changed
        agent.locator("#queue li").first.click()
        expect(agent.locator("#log .m.customer")).to_contain_text("转人工客服")
        agent.click("#accept")
        expect(customer.locator(".msg.agent").last).to_contain_text("人工客服已接入")
        expect(customer.locator("#status")).to_have_text("人工客服为您服务中")

        customer.fill("#input", "我的理赔款什么时候到账?")
        customer.click("#send")
        expect(agent.locator("#log .m.customer").last).to_have_text("客户:我的理赔款什么时候到账?")
        agent.fill("#text", "您好,预计3个工作日内到账。")
        agent.click("#reply button[type=submit]")
        expect(customer.locator(".msg.agent").last).to_contain_text("您好,预计3个工作日内到账。")
        expect(agent.locator("#log .m.agent")).to_have_count(2)  # pushed and fetched: shown once

        agent.click("#release")
        expect(customer.locator(".msg.system").last).to_contain_text("智能助手将继续为您服务")
        expect(customer.locator("#status")).to_have_text("智能助手为您服务")
        expect(agent.locator("#empty")).to_be_visible()
        assert [u for u in requested if "/agent/live/api/stream" in u]
        # no polling: one fetch after each of the agent's three actions, the rest was pushed
        assert len([u for u in requested if "/agent/live/api/" in u and "/messages?" in u]) == 3
        browser.close()
