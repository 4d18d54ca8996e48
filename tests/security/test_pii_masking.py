"""Attacks of issue 12, item 4 (and the mask of item 7): what staff see is masked whatever the
separators, by payload key and by value, in the desk transcript for every team (the verification
answers included), in the agent console's slots and the live queue, and in log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.models import TicketType
from bot.services import agent_console
from bot.services.tickets.create import create_ticket
from tests import desk_support
from tests.desk_support import StaffClient, World, make_test_app
from tests.web.test_desk_pages import _tracker_db as tracker_db

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures

CARD = "6222021234567890123"
MOBILE = "13812345678"


def digits(text: str) -> str:
    table = str.maketrans("０１２３４５６７８９", "0123456789")
    return "".join(c for c in text.translate(table) if c.isdigit() or c in "Xx")


def leaks(text: str, *secrets: str) -> list[str]:
    """Which secrets appear in ``text``, as typed or with every separator taken out."""
    flat = digits(text)
    return [s for s in secrets if s in text or digits(s) in flat]


def _tracker_db(path: Path, sender: str, events: list[tuple[str, dict[str, Any]]]) -> str:
    now = datetime.now(timezone.utc).timestamp()
    rows = [(sender, t, now - 100 + i, d.pop("intent", None), None, d) for i, (t, d) in enumerate(events)]
    return tracker_db(path, rows)


def test_desk_transcript_masks_spaced_cards_hyphenated_mobiles_and_the_verification_answers(
    tmp_path: Path, engine: Engine, session: Session, world: World
) -> None:
    conv = "telegram:5550001"  # the beneficiary ticket's conversation
    id_tail = world.id_holder[-6:]

    def ask(slot: str, text: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("bot", {"text": text}),
            ("slot", {"event": "slot", "name": "requested_slot", "value": slot}),
        ]

    events = [
        ("user", {"text": "我要改扣款卡", "intent": "change_payment_account"}),
        *ask("policy_number", "请问您的保单号是?"),
        ("user", {"text": "LF2023000456", "intent": "inform"}),
        *ask("person_name", "请问投保人的姓名是?"),
        ("user", {"text": "张小伟", "intent": "inform"}),
        *ask("id_tail", "请提供投保人身份证号码的后六位。"),
        ("user", {"text": id_tail, "intent": "inform"}),
        ("slot", {"event": "slot", "name": "requested_slot", "value": None}),
        (
            "user",
            {
                "text": f"保单LF2023000456,我叫张小伟,后六位{id_tail}",
                "intent": "inform",
                "parse_data": {
                    "entities": [
                        {"entity": "policy_number", "start": 2, "end": 14},
                        {"entity": "person_name", "start": 17, "end": 20},
                        {"entity": "id_number", "start": 24, "end": 30},
                    ]
                },
            },
        ),
        ("user", {"text": "新卡号 6222 0212 3456 7890 123", "intent": "inform"}),
        ("user", {"text": "手机138-1234-5678,座机不用", "intent": "inform"}),
        ("user", {"text": "手机１３８１２３４５６７８", "intent": "inform"}),
        ("user", {"text": f"身份证 {world.id_holder[:6]} {world.id_holder[6:14]} {world.id_holder[14:]}"}),
    ]
    url = _tracker_db(tmp_path / "tracker.db", conv, events)
    app = make_test_app(engine, session, tracker_database_url=url)
    n = world.beneficiary_ticket.number
    for who in ("proc_wang", "sup_zhou"):
        client = StaffClient(app, who)
        api = client.get(f"/api/tickets/{n}").json()
        said = [line["text"] for line in api["transcript"] if line["speaker"] == "customer"]
        assert len(said) == 9, said
        page = client.get(f"/desk/tickets/{n}").text
        for body in (json.dumps(api["transcript"], ensure_ascii=False), page):
            assert not leaks(body, CARD, MOBILE, world.id_holder, id_tail), leaks(body, CARD, MOBILE)
            assert "张小伟" not in body
        assert said[1:4] == ["LF20****0456", "张*伟", "******"]
        assert said[4] == "保单LF20****0456,我叫张*伟,后六位******"
        assert "6222 **** **** 0123" in said[5] and "138****5678" in said[6] and "138****5678" in said[7]
        assert world.id_holder[:6] + "*" * 12 in said[8]


def test_ticket_payload_masks_by_key_and_by_value_and_hides_the_conversation_id(
    login: Callable[[str], StaffClient], world: World, session: Session
) -> None:
    sender = "web:Qm9iLXNlc3Npb24tc2VjcmV0LWlk"
    ticket, _ = create_ticket(
        session,
        ticket_type=TicketType.COMPLAINT,
        customer_id=world.customer.id,
        conversation_id=sender,
        payload={
            "complaint_text": (
                f"你们从我卡 6222-0212-3456-7890-123 乱扣钱,回电 138 1234 5678,身份证{world.id_holder}"
            ),
            "channel_conversation": sender,
            "card": CARD,
            "value": "139-0000-1111",
        },
    )
    resp = login("sup_zhou").get(f"/api/tickets/{ticket.number}")
    body = resp.text
    assert not leaks(body, CARD, MOBILE, "13900001111", world.id_holder)
    assert "Qm9iLXNlc3Npb24tc2VjcmV0LWlk" not in body and "3Npb24tc2VjcmV0LWlk"[-4:] not in body
    payload = resp.json()["payload"]
    assert payload["card"] == "6222 **** **** 0123" and payload["value"] == "139****1111"
    assert payload["channel_conversation"].startswith("web#")
    assert resp.json()["conversation"] == payload["channel_conversation"]


def test_agent_console_slots_mask_cards_and_the_id_tail() -> None:
    slots = agent_console.masked_slots(
        {
            "pa_card": "6222 0212 3456 7890 123",
            "cc_value": "138-1234-5678",
            "bf_id_number": "110105 19491231 002X",
            "id_tail": "31002X",
            "incident_description": f"撞车了,对方电话{MOBILE}",
            "policy_number": "LF2023000456",
        }
    )
    text = json.dumps(slots, ensure_ascii=False)
    assert not leaks(text, CARD, MOBILE, "11010519491231002X", "31002X")
    assert slots["pa_card"] == "6222 **** **** 0123" and slots["id_tail"] == "******"
    assert slots["policy_number"] == "LF2023000456"


def test_the_app_transcript_is_stored_and_shown_masked(session: Session) -> None:
    """The live queue read the customer's card, ID and mobile in full (issue 12, items 1 and 4)."""
    from bot.channels import transcript
    from bot.models import ChatMessage

    msg = transcript.record(session, "web:abcdefabcdefabcdef", "customer", "卡号 6222 0212 3456 7890 123")
    assert msg.text == "卡号 6222 **** **** 0123"
    older = ChatMessage(conversation_id="web:x", role="customer", text="手机138-1234-5678", payload={})
    session.add(older)
    session.flush()  # a row stored before masking: staff still see it masked
    assert transcript.to_staff_json(older)["text"] == "手机138****5678"


def test_log_lines_of_the_app_are_masked(app: Any, world: World, caplog: pytest.LogCaptureFixture) -> None:
    """``create_app`` installs the masking of every log record (the action server and the CLI too)."""
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot.channels.inbound").info("customer said %s", "卡号6222 0212 3456 7890 123")
        logging.getLogger("uvicorn.error").warning("mobile %s id %s", "138-1234-5678", world.id_holder)
    assert not leaks(caplog.text, CARD, MOBILE, world.id_holder)


def test_a_masked_id_shows_none_of_the_six_characters_verification_asks_for(
    login: Callable[[str], StaffClient], world: World
) -> None:
    data = login("proc_wang").get(f"/api/tickets/{world.beneficiary_ticket.number}").json()
    shown = [data["customer"]["id_number"]] + [b["id_number"] for b in data["policy"]["beneficiaries"]]
    shown += [r["id_number"] for r in data["payload"]["after"] + data["payload"]["before"]]
    for masked in shown:
        assert masked.endswith("*" * 6) and masked.count("*") == 12, masked
