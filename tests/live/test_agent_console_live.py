"""The agent console against the live stack (real Rasa, real action server, the app) in headless
Chromium: a call from the first utterance to a ticket. The caller asks about their policy, is
verified by the identity form (the same model and wording as the chat), the console shows the
policy card, and the agent opens a ticket linked to the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

pytestmark = [pytest.mark.live, pytest.mark.browser]
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
WAIT_MS = 60_000
SHOTS = Path("/tmp/desk-screens")


def _say(page, text_: str) -> str:
    from playwright.sync_api import expect

    before = page.locator("#dialog .msg").count()
    page.fill("#say-input", text_)
    page.click("#btn-say")
    # the caller's line, then the script line (or an error banner when Rasa is down)
    expect(page.locator("#dialog .msg")).not_to_have_count(before + 1, timeout=WAIT_MS)
    expect(page.locator("#btn-say")).to_be_enabled(timeout=WAIT_MS)
    assert page.locator("#console-error").is_hidden(), page.inner_text("#console-error")
    return page.inner_text("#script")


def test_call_from_first_utterance_to_ticket(live_stack) -> None:
    from playwright.sync_api import expect, sync_playwright

    from bot.models import Ticket, TicketType
    from bot.seeding import DEMO_PASSWORD
    from bot.seeding.demo import ZHANG_WEI

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.goto(f"{live_stack.app_url}/desk/login")
        page.fill("#username", "agent1")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/agent")

        page.click("#btn-start")
        expect(page.locator("#say-input")).to_be_enabled()
        call_id = page.inner_text("#call-label").split()[-1]

        first = _say(page, "帮我查一下我的保单")  # a training example of query_policy
        assert first.strip()
        assert page.inner_text("#intent") == "query_policy"
        assert page.inner_text("#confidence").endswith("%")
        _say(page, "保单号是LF2023000123")
        _say(page, ZHANG_WEI.name)
        _say(page, ZHANG_WEI.id_last6)
        expect(page.locator("#verified")).to_have_text("已核验", timeout=WAIT_MS)
        expect(page.locator("#policy-card")).to_be_visible()
        card = page.inner_text("#policy-card")
        assert "LF2023000123" in card and ZHANG_WEI.name not in card  # masked name only
        page.screenshot(path=str(SHOTS / "agent_live.png"), full_page=True)

        page.select_option("#ticket-type", "beneficiary_change")
        page.fill("#ticket-note", "来电客户申请变更身故受益人")
        page.click("#btn-ticket")
        expect(page.locator("#tickets li.new")).to_have_count(1, timeout=WAIT_MS)
        message = page.inner_text("#tickets li.new")
        number = message.split("工单 ")[1].split("(")[0].strip()
        browser.close()

    engine = create_engine(live_stack.database_url)
    with Session(engine) as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.conversation_id == f"hotline:{call_id}"
        assert ticket.ticket_type is TicketType.BENEFICIARY_CHANGE
        assert ticket.customer_id is not None and ticket.policy_id is not None
    engine.dispose()
