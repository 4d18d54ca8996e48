"""The typed change payloads: one object from the form to the approval, the same rules checked at
creation and at the desk, stored JSON read back strictly: a payload in any other shape (such as
the one the demo seed used to write) is refused, and the tickets the demo seed writes now are
validated and applied like the chat's own."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid, InvalidInput
from bot.models import Customer, Policy, StaffRole, StaffUser, Ticket, TicketStatus, TicketType
from bot.seeding import seed_database
from bot.services.changes import KINDS, beneficiary, contact, payment_account, validate_change
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


LEGACY_SHAPES: dict[TicketType, dict[str, Any]] = {  # what the demo seed used to write
    TicketType.BENEFICIARY_CHANGE: {
        "policy_number": "LF2023000456",
        "old_beneficiaries": [{"name": "张大山", "relationship": "配偶", "share_pct": "100.00", "order": 1}],
        "beneficiaries": [
            {
                "name": "张晓明",
                "relationship": "子女",
                "id_number": desk_support.ID_NEW_BENEFICIARY,
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


@pytest.mark.parametrize("ticket_type", list(LEGACY_SHAPES), ids=lambda t: t.value)
def test_a_legacy_shaped_payload_is_refused_at_approval(
    session: Session, world: World, ticket_type: TicketType
) -> None:
    t = {
        TicketType.BENEFICIARY_CHANGE: world.beneficiary_ticket,
        TicketType.CONTACT_CHANGE: world.contact_ticket,
        TicketType.PAYMENT_ACCOUNT_CHANGE: world.account_ticket,
    }[ticket_type]
    _to_checker(session, world, t)
    t.payload = LEGACY_SHAPES[ticket_type]
    with pytest.raises(InvalidInput) as info:
        workflow.approve(session, world.reviewer, t)
    assert info.value.message_zh.startswith(DESK_ZH)
    assert t.status is TicketStatus.PENDING_APPROVAL
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    customer = session.get(Customer, world.customer.id)
    assert policy is not None and customer is not None
    assert [b.name for b in policy.beneficiaries] == ["张大山"]
    assert customer.email == "zhangxw@example.com"
    assert policy.bank_account == "6222021234567890123"


def test_a_payment_account_without_its_holder_is_refused(session: Session, world: World) -> None:
    t = world.account_ticket
    _to_checker(session, world, t)
    after = {k: v for k, v in t.payload["after"].items() if k != "account_holder"}
    t.payload = {**t.payload, "after": after}
    with pytest.raises(InvalidInput, match="投保人本人"):
        workflow.approve(session, world.reviewer, t)
    assert t.status is TicketStatus.PENDING_APPROVAL


def _drive_to_approval(session: Session, ticket: Ticket, checker: StaffUser) -> StaffUser:
    """Take the ticket where the seed left it through the maker's steps, then the checker approves."""
    maker = session.get(StaffUser, ticket.assignee_id) if ticket.assignee_id else None
    if maker is None:
        maker = session.scalars(
            select(StaffUser).where(StaffUser.role == StaffRole.PROCESSOR, StaffUser.team == ticket.team)
        ).first()
    assert maker is not None and maker.id != checker.id
    if ticket.status is TicketStatus.OPEN:
        workflow.take(session, maker, ticket)
    if ticket.status is TicketStatus.AWAITING_DOCUMENTS:
        workflow.resume(session, maker, ticket)
    if ticket.status is TicketStatus.IN_PROGRESS:
        workflow.process(session, maker, ticket)
    assert ticket.status is TicketStatus.PENDING_APPROVAL and ticket.maker_id != checker.id
    workflow.approve(session, checker, ticket)
    assert ticket.status is TicketStatus.APPROVED
    return maker


def test_seeded_tickets_of_each_kind_validate_and_apply_at_approval(session: Session) -> None:
    seed_database(
        session, customers=30, seed=11, today=date(2026, 11, 24), password_hash=desk_support.password_hash()
    )
    tickets = list(session.scalars(select(Ticket).where(Ticket.ticket_type.in_(KINDS)).order_by(Ticket.id)))
    assert {t.ticket_type for t in tickets} == set(KINDS)
    for t in tickets:  # every seeded change passes the desk's checks, in the shape the chat writes
        validate_change(session, t)
        assert t.payload["kind"] == t.ticket_type.value and "after" in t.payload
    checker = session.scalars(select(StaffUser).where(StaffUser.role == StaffRole.REVIEWER)).first()
    assert checker is not None
    first = {kind: next(t for t in tickets if t.ticket_type is kind) for kind in KINDS}

    t = first[TicketType.BENEFICIARY_CHANGE]
    _drive_to_approval(session, t, checker)
    session.expire_all()
    policy = session.get(Policy, t.policy_id)
    assert policy is not None
    assert [(b.name, b.id_number, b.share_pct) for b in policy.beneficiaries] == [
        (r["name"], r["id_number"], Decimal(r["share_pct"])) for r in t.payload["after"]
    ]
    assert [r["id_number"] for r in t.payload["before"]] != [r["id_number"] for r in t.payload["after"]]

    t = first[TicketType.CONTACT_CHANGE]
    (name,) = t.payload["changed"]
    customer = session.get(Customer, t.customer_id)
    assert customer is not None and getattr(customer, name) == t.payload["before"][name]
    _drive_to_approval(session, t, checker)
    session.expire_all()
    customer = session.get(Customer, t.customer_id)
    assert customer is not None and getattr(customer, name) == t.payload["after"][name]

    t = first[TicketType.PAYMENT_ACCOUNT_CHANGE]
    policy = session.get(Policy, t.policy_id)
    assert policy is not None and policy.bank_account == t.payload["before"]["bank_account"]
    holder = session.get(Customer, policy.policyholder_id)
    assert holder is not None and t.payload["after"]["account_holder"] == holder.name
    _drive_to_approval(session, t, checker)
    session.expire_all()
    policy = session.get(Policy, t.policy_id)
    assert policy is not None
    assert (policy.bank_name, policy.bank_account) == (
        t.payload["after"]["bank_name"],
        t.payload["after"]["bank_account"],
    )
