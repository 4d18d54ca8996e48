"""The typed change payloads: one object from the form to the approval, the same rules checked at
creation and at the desk, stored JSON read back strictly (and the seeded demo shapes still read)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid, InvalidInput
from bot.models import Customer, Policy, TicketStatus, TicketType
from bot.services.changes import beneficiary, contact, payment_account
from bot.services.changes.beneficiary import BeneficiaryChange, NewBeneficiary
from bot.services.changes.contact import ContactChange
from bot.services.changes.payment_account import PaymentAccountChange
from bot.services.tickets import workflow
from bot.text.zh_input import luhn_ok
from tests import desk_support
from tests.desk_support import World

world = desk_support.world  # fixtures

BAD_CARD = "6225880137005317"  # 16 digits, fails the Luhn check
GOOD_CARD = "6225880137005311"
LUHN_ZH = "这个银行卡号没有通过校验"
DESK_ZH = "工单中的变更信息不完整或有误"


def _ask_for_account(session: Session, world: World, card: str, conversation_id: str) -> Any:
    return payment_account.request_payment_account_change(
        session,
        policy=world.policy,
        bank_name="招行",
        card_number=card,
        holder_name="张小伟",
        conversation_id=conversation_id,
    )


def _to_checker(session: Session, world: World, ticket: Any) -> None:
    workflow.take(session, world.proc, ticket)
    workflow.process(session, world.proc, ticket)


def test_the_same_rule_rejects_a_bad_card_at_creation_and_at_the_desk(session: Session, world: World) -> None:
    assert not luhn_ok(BAD_CARD)
    with pytest.raises(ChangeRequestInvalid, match=LUHN_ZH):
        _ask_for_account(session, world, BAD_CARD, "web:luhn")
    stored = PaymentAccountChange(
        bank_name="招商银行", bank_account=BAD_CARD, account_holder="张小伟", policy_number="LF2023000456"
    )
    t = world.ticket(TicketType.PAYMENT_ACCOUNT_CHANGE, payload=stored.to_json())
    workflow.take(session, world.proc, t)
    with pytest.raises(InvalidInput, match=LUHN_ZH) as info:
        workflow.process(session, world.proc, t)
    assert info.value.message_zh.startswith(DESK_ZH)
    assert t.status is TicketStatus.IN_PROGRESS


def test_a_card_altered_after_processing_is_refused_at_approval(session: Session, world: World) -> None:
    t = world.account_ticket
    _to_checker(session, world, t)
    t.payload = {**t.payload, "after": {**t.payload["after"], "bank_account": BAD_CARD}}
    with pytest.raises(InvalidInput, match=LUHN_ZH):
        workflow.approve(session, world.reviewer, t)
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    assert policy is not None and policy.bank_account == "6222021234567890123"


@pytest.mark.parametrize(("written", "never_written"), [("name", "person_name"), ("share_pct", "share")])
def test_a_row_key_never_written_is_refused_at_the_desk(
    session: Session, world: World, written: str, never_written: str
) -> None:
    payload = copy.deepcopy(world.beneficiary_ticket.payload)
    for row in payload["after"]:
        row[never_written] = row.pop(written)
    t = world.ticket(TicketType.BENEFICIARY_CHANGE, payload=payload, conversation_id="web:keys")
    workflow.take(session, world.proc, t)
    with pytest.raises(InvalidInput, match=f"「{never_written}」"):
        workflow.process(session, world.proc, t)
    assert t.status is TicketStatus.IN_PROGRESS


def test_a_top_level_key_never_written_is_refused_at_approval(session: Session, world: World) -> None:
    t = world.contact_ticket
    _to_checker(session, world, t)
    t.payload = {**t.payload, "changes": {"mobile": "13700001111"}}
    with pytest.raises(InvalidInput, match="「changes」"):
        workflow.approve(session, world.reviewer, t)
    assert t.status is TicketStatus.PENDING_APPROVAL


def test_stored_payloads_round_trip(world: World) -> None:
    kinds: list[tuple[Any, Any]] = [
        (BeneficiaryChange, world.beneficiary_ticket),
        (ContactChange, world.contact_ticket),
        (PaymentAccountChange, world.account_ticket),
    ]
    for cls, ticket in kinds:
        change = cls.from_json(ticket.payload)
        assert change.to_json() == ticket.payload
        assert cls.from_json(change.to_json()) == change


def test_payloads_written_at_creation_round_trip(session: Session, world: World) -> None:
    son = NewBeneficiary("张晓明", "子女", world.id_new, Decimal("100"))
    made = [
        beneficiary.request_beneficiary_change(
            session, policy=world.policy, rows=[son], conversation_id="web:r"
        ),
        contact.request_contact_change(
            session, policy=world.policy, field_name="email", value="zx@example.cn", conversation_id="web:r"
        ),
        _ask_for_account(session, world, GOOD_CARD, "web:r"),
    ]
    classes: list[Any] = [BeneficiaryChange, ContactChange, PaymentAccountChange]
    for cls, result in zip(classes, made):
        assert cls.from_json(result.ticket.payload).to_json() == result.ticket.payload


def test_the_seeded_demo_shapes_are_read_and_applied(session: Session, world: World) -> None:
    seeded = {
        TicketType.BENEFICIARY_CHANGE: {
            "policy_number": "LF2023000456",
            "old_beneficiaries": [
                {"name": "张大山", "relationship": "配偶", "share_pct": "100.00", "order": 1}
            ],
            "beneficiaries": [
                {
                    "name": "张晓明",
                    "relationship": "子女",
                    "id_number": world.id_new,
                    "share_pct": "100.00",
                    "order": 1,
                }
            ],
            "reason": "希望将子女作为唯一身故受益人",
        },
        TicketType.CONTACT_CHANGE: {"changes": {"email": "seeded@example.com"}},
        TicketType.PAYMENT_ACCOUNT_CHANGE: {
            "policy_number": "LF2023000456",
            "bank_name": "招商银行",
            "bank_account": GOOD_CARD,
        },
    }
    for ticket_type, payload in seeded.items():
        t = world.ticket(ticket_type, payload=payload, conversation_id=f"web:seed-{ticket_type.value}")
        _to_checker(session, world, t)
        workflow.approve(session, world.reviewer, t)
        assert t.status is TicketStatus.APPROVED
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    customer = session.get(Customer, world.customer.id)
    assert policy is not None and customer is not None
    assert [b.name for b in policy.beneficiaries] == ["张晓明"]
    assert customer.email == "seeded@example.com"
    assert policy.bank_name == "招商银行" and policy.bank_account == GOOD_CARD
