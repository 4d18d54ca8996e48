"""Proactive messages while a conversation is handed to a human agent.

The assistant is paused in Rasa during a handover, so an ``EXTERNAL_*`` trigger would render
nothing and the customer would never hear about their ticket, claim or premium. Instead the app
does not trigger Rasa and sends the message worded by ``bot.channels.notices`` (a copy of the
domain.yml responses, checked here) on the customer's own channel: exactly once, at once."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import notices
from bot.channels.outbound import notify_claim_update, notify_conversation
from bot.channels.rasa_client import RasaClient
from bot.jobs.reminders import run_reminders
from bot.models import (
    Channel,
    ChatMessage,
    Handover,
    HandoverStatus,
    ReminderRecord,
    ReminderStatus,
    StaffRole,
    TicketType,
)
from bot.services import handover as handover_service
from bot.services.staff import create_user
from bot.services.tickets.create import create_ticket
from bot.web.app import create_app
from tests.channel_support import (
    TOKEN,
    FakeBotApi,
    FakeRasa,
    ServerThread,
    bind,
    chat_session_id,
    db_url,
    free_port,
    make_customer,
    make_hub,
    make_policy,
    make_premium,
    make_settings,
    staff_login,
    utc,
)

ROOT = Path(__file__).resolve().parents[2]
H = {"X-Chat-Request": "1"}
DOCS_NOTE = "您好,为继续办理您的业务(工单号 {number}),还需要您补充以下材料:驾驶证、行驶证。"


def transcript_texts(engine, conversation_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.scalars(
            select(ChatMessage.text)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        )
        return [r or "" for r in rows]


def open_handover(engine, conversation_id: str) -> int:
    with Session(engine) as s, s.begin():
        handover, _ = handover_service.open_handover(s, conversation_id, "request_human")
        return handover.id


# ---------------------------------------------------------------- the wording is domain.yml's


def test_the_templates_are_the_domain_responses() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for intent, notice in notices.NOTICES.items():
        assert intent in domain["intents"]
        variants = domain["responses"][notice.response]
        default = [v["text"] for v in variants if not v.get("condition")]
        assert default == [notice.default], notice.response
        conditioned = {}
        for variant in variants:
            for condition in variant.get("condition") or []:
                assert condition["type"] == "slot" and condition["name"] == notice.condition_slot
                conditioned[condition["value"]] = variant["text"]
        assert conditioned == notice.variants, notice.response
        # the entities the app sends fill slots of other names where domain.yml maps them so
        for entity, slot in notice.renames.items():
            mappings = domain["slots"][slot]["mappings"]
            assert {"type": "from_entity", "entity": entity, "intent": intent} in mappings


def test_a_template_is_filled_like_rasa_fills_the_response() -> None:
    [message] = notices.render(
        "EXTERNAL_ticket_update",
        {"ticket_number": "TK2600000123", "ticket_status_text": "approved", "ticket_note": "受益人已变更"},
    )
    assert message["text"].startswith("您好,您办理的业务(工单号 TK2600000123)已审核通过:受益人已变更。")
    [message] = notices.render("EXTERNAL_premium_reminder", {"reminder_stage": "unknown"})
    assert message["text"].startswith("【续期交费提醒】")  # the default variant, never a crash
    assert notices.render("EXTERNAL_something_else", {}) == []


# ---------------------------------------------------------------- the desk, the web chat


def test_a_ticket_update_from_the_desk_reaches_a_customer_talking_to_an_agent_once(engine, tmp_path) -> None:
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
    with Session(engine) as s, s.begin():
        create_user(
            s,
            username=f"resend_sup_{engine.dialect.name}",
            password="sup-pass-1234",
            role=StaffRole.SUPERVISOR,
            display_name="主管",
        )
    with TestClient(app) as customer, TestClient(app) as staff:
        customer.get("/chat")
        conversation = f"web:{chat_session_id(customer, settings)}"
        assert customer.post("/chat/api/message", json={"text": "转人工"}, headers=H).json()["handover"]
        with Session(engine) as s, s.begin():
            ticket, _ = create_ticket(
                s, ticket_type=TicketType.CLAIM, subject="车险理赔", conversation_id=conversation
            )
            number = ticket.number
        csrf = staff_login(staff, f"resend_sup_{engine.dialect.name}", "sup-pass-1234")
        hdr = {"X-CSRF-Token": csrf}
        assert staff.post(f"/api/tickets/{number}/take", headers=hdr).status_code == 200
        resp = staff.post(
            f"/api/tickets/{number}/request-documents", json={"documents": ["驾驶证", "行驶证"]}, headers=hdr
        ).json()

        expected = DOCS_NOTE.format(number=number)
        assert resp["notification"]["delivered"] is True
        assert resp["notification"]["messages"][0]["text"].startswith(expected)
        assert not [t for t in fake.triggered if t[0] == conversation]  # the paused Rasa is left alone
        history = customer.get("/chat/api/history").json()
        assert history["handover"] == "waiting"
        assert [m["text"] for m in history["messages"] if m["text"].startswith(expected)] != []

        # the agent hands back: nothing is sent again, and the next update goes through Rasa
        handover_id = max(i["id"] for i in staff.get("/agent/live/api/queue").json()["items"])
        staff.post(f"/agent/live/api/{handover_id}/accept", headers=hdr)  # only its agent hands back
        assert staff.post(f"/agent/live/api/{handover_id}/release", headers=hdr).json()["released"]
        customer.post("/chat/api/message", json={"text": "好的,我马上补"}, headers=H)
        assert [t for t in transcript_texts(engine, conversation) if t.startswith(expected)] == [
            resp["notification"]["messages"][0]["text"]
        ]
        assert staff.post(f"/api/tickets/{number}/notify", headers=hdr).status_code == 200  # 重新通知
        assert [t[1] for t in fake.triggered if t[0] == conversation] == ["EXTERNAL_ticket_update"]


# ---------------------------------------------------------------- the reminder job


def test_a_premium_reminder_during_a_handover_is_sent_once_and_not_retried(engine, tmp_path) -> None:
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    hub = make_hub(engine, settings, fake)
    due = date(2061, 3, 20)
    chat = "resend-reminder-2061"
    conversation = f"web:{chat}"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        customer = make_customer(s)
        policy = make_policy(s, customer)
        make_premium(s, policy, due)
        bind(s, customer, Channel.WEB, chat)
    open_handover(engine, conversation)

    on = date(2061, 3, 15)  # due in 5 days: the d7 stage
    report = asyncio.run(run_reminders(hub, on, now=utc(on.year, on.month, on.day)))
    assert report.sent == 1 and report.failed == 0
    reminders = [t for t in transcript_texts(engine, conversation) if t.startswith("【续期交费提醒】")]
    assert len(reminders) == 1
    assert "距交费日仅剩7天" in reminders[0] and policy.number not in reminders[0]  # masked
    assert "2061年3月20日" in reminders[0] and "1,234.50" in reminders[0]
    assert fake.triggered == []
    with Session(engine) as s:
        assert s.scalars(select(ReminderRecord.status)).all() == [ReminderStatus.SENT]

    asyncio.run(run_reminders(hub, on, now=utc(on.year, on.month, on.day, 5)))  # the next hourly run
    assert len([t for t in transcript_texts(engine, conversation) if t.startswith("【续期交费提醒】")]) == 1


# ---------------------------------------------------------------- Telegram


def test_a_claim_update_reaches_a_paused_telegram_chat_once(engine, tmp_path) -> None:
    api = FakeBotApi(port=free_port())
    fake = FakeRasa()
    settings = make_settings(
        db_url(engine), tmp_path, telegram_token=TOKEN, telegram_api_base_url=api.base_url
    )
    hub = make_hub(engine, settings, fake)
    chat = 8_900_123
    conversation = f"telegram:{chat}"
    handover_id = open_handover(engine, conversation)
    with ServerThread(api.app(), api.port):
        messages = asyncio.run(
            notify_claim_update(conversation, "CL2600000088", "已审核通过,赔款将于3个工作日内到账", hub=hub)
        )
        expected = (
            "您好,您的理赔案件 CL2600000088 有新进展:已审核通过,赔款将于3个工作日内到账。"
            "如需了解详情,请回复“理赔进度”,或回复“转人工”。"
        )
        assert [m["text"] for m in messages] == [expected]
        assert api.texts_to(chat) == [expected]
        assert fake.triggered == []

        # handed back (as the live page does): the next update is Rasa's again, the first is not repeated
        from bot.channels.live import end_handover

        asyncio.run(end_handover(hub, handover_id))
        asyncio.run(notify_conversation(conversation, "EXTERNAL_claim_update", {"x": "1"}, hub=hub))
    assert api.texts_to(chat).count(expected) == 1
    assert [t[1] for t in fake.triggered] == ["EXTERNAL_claim_update"]
    assert transcript_texts(engine, conversation).count(expected) == 1
    with Session(engine) as s:
        assert s.get(Handover, handover_id).status is HandoverStatus.CLOSED  # type: ignore[union-attr]


def test_when_rasa_renders_nothing_the_customer_still_hears_it(engine, tmp_path) -> None:
    """A handover closed while Rasa was unreachable leaves the conversation paused in Rasa."""
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    hub = make_hub(engine, settings, fake)
    conversation = "web:resend-still-paused-in-rasa"
    fake.paused.add(conversation)
    messages: list[dict[str, Any]] = asyncio.run(
        notify_claim_update(conversation, "CL2600000345", "资料审核中", hub=hub)
    )
    assert [t[0] for t in fake.triggered] == [conversation]  # no handover open: Rasa was asked first
    assert messages and messages[0]["text"].startswith("您好,您的理赔案件 CL2600000345 有新进展:资料审核中。")
    assert transcript_texts(engine, conversation) == [messages[0]["text"]]
