"""The web chat against the live stack (real Rasa, real action server, the app) in headless
Chromium: a greeting, a premium reminder delivered on the page, and the full claim report of the
hotline script with a photo upload."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from tests.channel_support import JPEG

pytestmark = [pytest.mark.live, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
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
APOLOGY = "智能助手暂时无法回复"
BOT_WAIT_MS = 60_000


def _sid(page, live_stack) -> str:
    from itsdangerous import URLSafeSerializer

    raw = next(c for c in page.context.cookies() if c["name"] == "chat_session")["value"]
    secret = live_stack.env["BOT_SESSION_SECRET"]
    return str(URLSafeSerializer(secret, salt="web-chat-session").loads(raw))


def _say(page, text_: str) -> str:
    """Type a message, wait for the assistant's answer, return the text of its last message."""
    from playwright.sync_api import expect

    before = page.locator(".msg.bot, .msg.system").count()
    page.fill("#input", text_)
    page.click("#send")
    expect(page.locator(".msg.bot, .msg.system")).not_to_have_count(before, timeout=BOT_WAIT_MS)
    expect(page.locator("#typing")).to_be_hidden(timeout=BOT_WAIT_MS)
    reply = page.locator(".msg.bot, .msg.system").last.inner_text()
    assert APOLOGY not in reply, f"the assistant failed on {text_!r}"
    return reply


def _click(page, title: str) -> str:
    from playwright.sync_api import expect

    before = page.locator(".msg.bot, .msg.system").count()
    page.locator(".msg.bot .buttons button:not([disabled])", has_text=title).last.click()
    expect(page.locator(".msg.bot, .msg.system")).not_to_have_count(before, timeout=BOT_WAIT_MS)
    expect(page.locator("#typing")).to_be_hidden(timeout=BOT_WAIT_MS)
    return page.locator(".msg.bot, .msg.system").last.inner_text()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        yield page
        browser.close()


def test_live_greeting_and_a_premium_reminder_on_the_page(live_stack, browser_page) -> None:
    from playwright.sync_api import expect

    from bot.models import Channel, ChannelBinding, Customer
    from bot.seeding import DEMO_CUSTOMERS

    page = browser_page
    page.goto(live_stack.app_url + "/chat")
    reply = _say(page, "你好")
    assert reply.strip()

    # bind this web session to the demo customer whose premium is due in 7 days, run the job
    li_na = next(c for c in DEMO_CUSTOMERS if c.key == "li_na")
    engine = create_engine(live_stack.database_url)
    with Session(engine) as s, s.begin():
        customer_id = s.scalars(select(Customer.id).where(Customer.id_number == li_na.id_number)).one()
        s.add(
            ChannelBinding(customer_id=customer_id, channel=Channel.WEB, external_id=_sid(page, live_stack))
        )
        s.execute(text("DELETE FROM reminder_records"))  # the job may have run for this date before
    engine.dispose()
    tz = ZoneInfo("Asia/Shanghai")
    today = datetime.now(tz).date()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=tz).astimezone(timezone.utc)
    cmd = [
        str(ROOT / ".venv/bin/python"),
        "-m",
        "bot",
        "reminders",
        "run",
        "--date",
        today.isoformat(),
        "--now",
        noon.isoformat(),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=live_stack.env, capture_output=True, text=True, timeout=300)
    assert "已发送" in done.stdout, done.stdout + done.stderr
    job_output = f"reminder job output: {done.stdout.strip()}"
    # stored by another process: the page's event stream finds it at its next database check
    expect(page.locator(".msg.bot").last, job_output).to_contain_text("续期交费提醒", timeout=30_000)
    expect(page.locator(".msg.bot").last, job_output).to_contain_text("HE2024****21")


def test_live_claim_report_with_a_photo_upload(live_stack, browser_page, tmp_path) -> None:
    """The hotline script: greet → 我要报案 → claim type → identity (policy number, name, last six
    of the ID) → incident details → confirmation → claim number; then a photo of the scene."""
    from playwright.sync_api import expect

    from bot.seeding import DEMO_CUSTOMERS

    zhang = next(c for c in DEMO_CUSTOMERS if c.key == "zhang_wei")
    motor = next(p for p in zhang.policies if p.number.startswith("AU"))
    page = browser_page
    page.goto(live_stack.app_url + "/chat")
    _say(page, "你好")
    reply = _say(page, "我要报案")
    if page.locator(".msg.bot .buttons button:not([disabled])", has_text="车险").count():
        reply = _click(page, "车险")
    elif "车险" in reply or "类型" in reply:
        reply = _say(page, "车险")
    # identity, in whatever order the form asks for it
    answers = {"保单": motor.number, "姓名": zhang.name, "身份证": zhang.id_last6, "后六位": zhang.id_last6}
    narrative = "昨天下午三点在北京市朝阳区望京西路等红灯时被后车追尾,车尾保险杠受损,无人受伤"
    details = [
        ("描述", narrative),
        ("情况", narrative),
        ("经过", narrative),
        ("什么时候", "昨天下午三点"),
        ("时间", "昨天下午三点"),
        ("哪里", "北京市朝阳区望京西路和阜通东大街路口"),
        ("地点", "北京市朝阳区望京西路和阜通东大街路口"),
        ("报警", "已经报警了"),
        ("伤", "没有人受伤"),
        ("照片", "拍了现场照片"),
        ("车牌", "京A8K2J6"),
    ]
    claim_number = None
    for _turn in range(20):
        m = re.search(r"CL\d{10}", reply)
        if m and ("报案号" in reply or "案件号" in reply or "理赔案号" in reply):
            claim_number = m.group(0)
            break
        if page.locator(".msg.bot .buttons button:not([disabled])", has_text="确认").count():
            reply = _click(page, "确认")
            continue
        if "确认" in reply or "是否正确" in reply or "对吗" in reply:
            reply = _say(page, "是的,确认")
            continue
        answer = next((a for key, a in answers.items() if key in reply), None)
        if answer is None:
            answer = next((a for key, a in details if key in reply), None)
        assert answer is not None, f"unexpected question from the assistant: {reply!r}"
        reply = _say(page, answer)
    assert claim_number, f"no claim number after the dialogue; last reply: {reply!r}"

    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(JPEG)
    page.set_input_files("#file", str(photo))
    expect(page.locator(".msg.bot").last).to_contain_text(claim_number, timeout=BOT_WAIT_MS)
    expect(page.locator(".msg.bot").last).to_contain_text("已收到")
