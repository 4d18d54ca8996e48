"""End to end in a real headless Chromium: a beneficiary change processed by one user and
approved by another, then seen on the policy card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import Beneficiary
from tests.browser.conftest import DeskSite
from tests.desk_support import PASSWORD, notifier_of, use_rasa

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/desk-screens")


def log_in(page: Any, site: DeskSite, username: str) -> None:
    page.goto(f"{site.url}/desk/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_beneficiary_change_maker_checker_in_the_browser(desk_site: DeskSite, browser: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    site = desk_site
    number = site.world.beneficiary_ticket.number

    # 1. the processor finds the ticket by its policy number and processes it
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, site, "proc_wang")
    assert page.url.endswith("/desk")
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    page.fill("input[name=q]", "LF2023000456")
    page.click("form.search button")
    page.wait_for_load_state("networkidle")
    row = page.locator("#queue tbody tr", has_text="受益人变更")
    assert row.count() == 1
    row.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert number in page.inner_text("h1")
    assert "张*山" in page.inner_text("#beneficiaries")
    page.click("#btn-take")
    page.wait_for_load_state("networkidle")
    assert "处理中" in page.inner_text("#ticket-status")
    page.fill("form.block textarea[name=note]", "已核对受益人身份证明及关系证明,信息无误。")
    page.click("#btn-process")
    page.wait_for_load_state("networkidle")
    assert "待复核" in page.inner_text("#ticket-status")
    page.screenshot(path=str(SHOTS / "ticket_processed.png"), full_page=True)
    assert page.locator("#btn-approve").count() == 0  # the maker cannot approve
    ctx.close()

    # 2. the reviewer approves; the policy's beneficiaries change
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, site, "rev_sun")
    assert page.locator("#queue tbody tr", has_text=number).count() == 1
    page.click(f"text={number}")
    page.wait_for_load_state("networkidle")
    page.fill("#decision-note", "复核通过")
    page.click("#btn-approve")
    page.wait_for_load_state("networkidle")
    assert "已通过" in page.inner_text("#ticket-status")
    card = page.inner_text("#beneficiaries")
    assert "张*明" in card and "李*英" in card and "张*山" not in card
    assert "60.00%" in card and "40.00%" in card
    history = page.inner_text("#history")
    assert "经办完成,提交复核" in history and "审批通过" in history and "通知客户" in history
    page.screenshot(path=str(SHOTS / "ticket_approved.png"), full_page=True)
    ctx.close()

    with site.session() as s:
        names = set(s.scalars(select(Beneficiary.name).where(Beneficiary.policy_id == site.world.policy.id)))
    assert names == {"张晓明", "李秀英"}
    assert notifier_of(site.app).calls[-1][2]["ticket_status_text"] == "approved"


def test_processor_cannot_approve_own_work_after_reviewer_view(desk_site: DeskSite, browser: Any) -> None:
    """The maker who is also a supervisor sees the refusal on the page."""
    site = desk_site
    number = site.world.contact_ticket.number
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    log_in(page, site, "sup_zhou")
    page.goto(f"{site.url}/desk/tickets/{number}")
    page.click("#btn-take")
    page.wait_for_load_state("networkidle")
    page.click("#btn-process")
    page.wait_for_load_state("networkidle")
    assert page.locator("#btn-approve").count() == 0  # not offered to the maker
    ctx.close()


def test_reports_and_agent_pages_render(desk_site: DeskSite, browser: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, desk_site, "sup_zhou")
    page.goto(f"{desk_site.url}/desk/reports")
    assert page.locator("svg").count() >= 6
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
    page.goto(f"{desk_site.url}/agent")
    assert "坐席话术助手" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "agent.png"), full_page=True)
    ctx.close()


def test_agent_console_call_to_ticket_with_a_fake_rasa(desk_site: DeskSite, browser: Any) -> None:
    """The console page in Chromium against a scripted Rasa (the live test uses the real one)."""
    import json
    from datetime import timedelta

    import httpx

    from bot.models import Ticket, VerifiedSession
    from bot.models.base import utcnow

    site = desk_site
    replies = iter(
        [
            "请问您的保单号是多少?",
            "请问投保人姓名是?",
            "请提供投保人身份证号后六位。",
            "核验通过,请问要办理什么业务?",
        ]
    )
    slots: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            text = next(replies)
            if text.startswith("核验通过"):
                with site.session() as s, s.begin():
                    s.add(
                        VerifiedSession(
                            conversation_id=body["sender"],
                            customer_id=site.world.customer.id,
                            policy_id=site.world.policy.id,
                            expires_at=utcnow() + timedelta(minutes=30),
                        )
                    )
                slots.update(verified=True, business_type="受益人变更")
            slots["policy_number"] = "LF2023000456"
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": text}])
        return httpx.Response(
            200,
            json={"latest_message": {"intent": {"name": "inform", "confidence": 0.87}}, "slots": slots},
        )

    use_rasa(site.app, handler)
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    log_in(page, site, "agent_li")
    assert page.url.endswith("/agent")
    page.click("#btn-start")
    for said in ("我要改受益人", "LF2023000456", "张小伟", "00200X"):
        before = page.locator("#dialog .msg").count()
        page.fill("#say-input", said)
        page.press("#say-input", "Enter")
        page.locator("#dialog .msg").nth(before + 1).wait_for()  # no page-side eval: the CSP forbids it
    assert page.inner_text("#script") == "核验通过,请问要办理什么业务?"
    assert page.inner_text("#intent") == "inform" and page.inner_text("#confidence") == "87.0%"
    assert page.inner_text("#verified") == "已核验"
    card = page.inner_text("#policy-card")
    assert "LF2023000456" in card and "张*伟" in card and "6222 **** **** 0123" in card
    assert "受益人变更材料清单" in page.inner_text("#checklist-card")
    page.select_option("#ticket-type", "beneficiary_change")
    page.fill("#ticket-note", "来电申请变更受益人")
    page.click("#btn-ticket")
    page.wait_for_selector("#tickets li.new")
    page.screenshot(path=str(SHOTS / "agent_call.png"), full_page=True)
    message = page.inner_text("#tickets li.new")
    ctx.close()
    with site.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.conversation_id.like("hotline:%"))).one()
    assert ticket.number in message and ticket.customer_id == site.world.customer.id
