"""The ticket state machine, maker-checker and applying changes to the policy records."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import labels_zh, masking
from bot.errors import InvalidInput, InvalidTransition, PermissionDenied, SelfApproval, TicketNotFound
from bot.models import AuditEntry, Customer, Policy, TicketStatus, TicketType
from bot.services.tickets import access, workflow
from bot.services.tickets.rules import TICKET_RULES
from tests import desk_support
from tests.desk_support import World

world = desk_support.world  # fixtures

S = TicketStatus


def test_transition_table_matches_the_documented_state_machine() -> None:
    allowed = {(a, b) for a, tos in workflow.TRANSITIONS.items() for b in tos}
    assert allowed == {
        (S.OPEN, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.AWAITING_DOCUMENTS),
        (S.AWAITING_DOCUMENTS, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.PENDING_APPROVAL),
        (S.IN_PROGRESS, S.APPROVED),
        (S.IN_PROGRESS, S.REJECTED),
        (S.PENDING_APPROVAL, S.APPROVED),
        (S.PENDING_APPROVAL, S.REJECTED),
        (S.APPROVED, S.CLOSED),
        (S.REJECTED, S.CLOSED),
    }


def test_maker_checker_types_are_the_sensitive_changes() -> None:
    assert {
        TicketType.BENEFICIARY_CHANGE,
        TicketType.CONTACT_CHANGE,
        TicketType.PAYMENT_ACCOUNT_CHANGE,
    } == workflow.MAKER_CHECKER_TYPES
    assert all(TICKET_RULES[t].requires_checker for t in workflow.MAKER_CHECKER_TYPES)


def test_non_checker_ticket_full_path(session: Session, world: World) -> None:
    t = world.surrender_ticket
    workflow.take(session, world.proc, t)
    assert t.status is S.IN_PROGRESS and t.assignee_id == world.proc.id
    spec = workflow.request_documents(session, world.proc, t, ["退保申请书", "身份证明"], "请上传清晰照片")
    assert t.status is S.AWAITING_DOCUMENTS
    assert spec["entities"]["ticket_status_text"] == "documents_requested"
    assert "退保申请书" in spec["entities"]["ticket_note"]
    workflow.resume(session, world.proc, t)
    spec = workflow.approve(session, world.proc, t, "材料齐全,同意退保")
    assert t.status is S.APPROVED and t.resolution == "材料齐全,同意退保"
    assert spec["entities"] == {
        "ticket_number": t.number,
        "ticket_status_text": "approved",
        "ticket_note": "材料齐全,同意退保",
    }
    workflow.close(session, world.proc, t)
    assert t.status is S.CLOSED and t.closed_at is not None
    kinds = [e.kind for e in t.events]
    assert kinds == ["created", "take", "request_documents", "resume", "approve", "close"]


@pytest.mark.parametrize(
    "setup, action",
    [
        ([], "approve"),  # open → approved
        ([], "close"),  # open → closed
        (["take"], "close"),  # in progress → closed
        (["take"], "resume"),  # in progress → in progress
        (["take", "reject"], "approve"),  # rejected → approved
        (["take", "approve", "close"], "reject"),  # closed → rejected
    ],
)
def test_disallowed_transitions_raise_409_with_a_clear_message(
    session: Session, world: World, setup: list[str], action: str
) -> None:
    t = world.surrender_ticket
    for step in setup:
        _do(session, world, t, step)
    status_before = t.status
    with pytest.raises(InvalidTransition) as info:
        _do(session, world, t, action)
    assert info.value.http_status == 409
    assert t.number in info.value.message_zh
    assert labels_zh.STATUS_LABELS_ZH[status_before] in info.value.message_zh
    assert t.status is status_before


def _do(session: Session, world: World, t: object, step: str) -> None:
    user = world.supervisor  # may do every step: only the state machine decides
    if step == "take":
        workflow.take(session, user, t)  # type: ignore[arg-type]
    elif step == "approve":
        workflow.approve(session, user, t, "同意")  # type: ignore[arg-type]
    elif step == "reject":
        workflow.reject(session, user, t, "材料不全")  # type: ignore[arg-type]
    elif step == "close":
        workflow.close(session, user, t)  # type: ignore[arg-type]
    elif step == "resume":
        workflow.resume(session, user, t)  # type: ignore[arg-type]


def test_reject_needs_a_reason(session: Session, world: World) -> None:
    t = world.surrender_ticket
    workflow.take(session, world.proc, t)
    with pytest.raises(InvalidInput) as info:
        workflow.reject(session, world.proc, t, "  ")
    assert "驳回原因" in info.value.message_zh
    assert t.status is S.IN_PROGRESS


def test_processor_must_take_before_acting_and_cannot_grab_a_colleagues_ticket(
    session: Session, world: World
) -> None:
    t = world.surrender_ticket
    with pytest.raises(PermissionDenied):
        workflow.request_documents(session, world.proc, t, ["身份证明"])
    workflow.take(session, world.proc, t)
    with pytest.raises(PermissionDenied) as info:
        workflow.take(session, world.proc2, t)
    assert "主管" in info.value.message_zh
    with pytest.raises(PermissionDenied):
        workflow.approve(session, world.proc2, t, "同意")
    # a supervisor reassigns
    workflow.assign(session, world.supervisor, t, world.proc2)
    assert t.assignee_id == world.proc2.id


def test_assign_only_within_the_ticket_team(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput):
        workflow.assign(session, world.supervisor, world.surrender_ticket, world.claims_proc)


def test_other_team_cannot_see_or_touch_the_ticket(session: Session, world: World) -> None:
    assert not access.can_view(world.claims_proc, world.surrender_ticket)
    with pytest.raises(TicketNotFound):
        access.load_for(session, world.claims_proc, world.surrender_ticket.number)
    with pytest.raises(PermissionDenied):
        workflow.take(session, world.claims_proc, world.surrender_ticket)
    assert not access.can_view(world.agent, world.surrender_ticket)


def test_beneficiary_change_maker_checker_applies_the_change(session: Session, world: World) -> None:
    t = world.beneficiary_ticket
    workflow.take(session, world.proc, t)
    # the maker cannot approve a maker-checker ticket directly
    with pytest.raises(PermissionDenied):
        workflow.approve(session, world.proc, t, "同意")
    workflow.process(session, world.proc, t, "已核对关系证明")
    assert t.status is S.PENDING_APPROVAL and t.maker_id == world.proc.id
    assert [b.name for b in world.policy.beneficiaries] == ["张大山"]  # nothing applied yet

    workflow.approve(session, world.reviewer, t, "复核无误")
    assert t.status is S.APPROVED and t.checker_id == world.reviewer.id
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    assert policy is not None
    rows = sorted((b.name, b.relationship_to_insured, b.share_pct) for b in policy.beneficiaries)
    assert rows == [("张晓明", "子女", Decimal("60.00")), ("李秀英", "配偶", Decimal("40.00"))]

    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "update_beneficiaries", AuditEntry.object_id == policy.number
        )
    ).one()
    assert entry.actor == "staff:rev_sun"
    assert entry.before == {
        "beneficiaries": [
            {
                "name": "张*山",
                "relationship": "配偶",
                "id_number": world.id_old[:6] + "*" * 12,
                "share_pct": "100.00",
                "order": 1,
            }
        ]
    }
    assert {b["name"] for b in entry.after["beneficiaries"]} == {"张*明", "李*英"}
    assert world.id_new not in str(entry.after)  # full ID numbers never reach the log


def test_self_approval_is_refused_even_for_a_supervisor(session: Session, world: World) -> None:
    t = world.beneficiary_ticket
    workflow.take(session, world.supervisor, t)
    workflow.process(session, world.supervisor, t)
    with pytest.raises(SelfApproval) as info:
        workflow.approve(session, world.supervisor, t, "同意")
    assert info.value.http_status == 403
    assert t.status is S.PENDING_APPROVAL
    assert [b.name for b in world.policy.beneficiaries] == ["张大山"]
    with pytest.raises(SelfApproval):
        workflow.reject(session, world.supervisor, t, "重复提交")


def test_checker_reject_leaves_the_policy_unchanged(session: Session, world: World) -> None:
    t = world.account_ticket
    workflow.take(session, world.proc, t)
    workflow.process(session, world.proc, t)
    spec = workflow.reject(session, world.reviewer, t, "账户户名与投保人不一致")
    assert t.status is S.REJECTED
    assert spec["entities"]["ticket_status_text"] == "rejected"
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    assert policy is not None and policy.bank_account == "6222021234567890123"


def test_contact_and_account_changes_are_applied_with_masked_audit(session: Session, world: World) -> None:
    for t in (world.contact_ticket, world.account_ticket):
        workflow.take(session, world.proc, t)
        workflow.process(session, world.proc, t)
        workflow.approve(session, world.supervisor, t)
    session.expire_all()
    customer = session.get(Customer, world.customer.id)
    policy = session.get(Policy, world.policy.id)
    assert customer is not None and policy is not None
    assert customer.mobile == "13900001111" and customer.email == "new@example.com"
    assert policy.bank_name == "建设银行" and policy.bank_account == "6217001294567890"
    contact = session.scalars(select(AuditEntry).where(AuditEntry.action == "update_contact")).one()
    assert contact.before == {"mobile": "138****5678", "email": "z***@example.com"}
    assert contact.after == {"mobile": "139****1111", "email": "n***@example.com"}
    account = session.scalars(select(AuditEntry).where(AuditEntry.action == "update_payment_account")).one()
    assert account.before == {"bank_name": "工商银行", "bank_account": "6222 **** **** 0123"}
    assert account.after == {"bank_name": "建设银行", "bank_account": "6217 **** **** 7890"}


def test_invalid_change_cannot_go_to_the_checker(session: Session, world: World) -> None:
    t = world.ticket(
        TicketType.BENEFICIARY_CHANGE,
        payload={
            "after": [
                {
                    "name": "王五",
                    "relationship": "子女",
                    "id_number": "110101199003071235",
                    "share_pct": "100",
                }
            ]
        },
    )
    workflow.take(session, world.proc, t)
    with pytest.raises(InvalidInput) as info:
        workflow.process(session, world.proc, t)
    assert "身份证号" in info.value.message_zh
    assert t.status is S.IN_PROGRESS


def test_shares_of_one_order_must_total_100(session: Session, world: World) -> None:
    t = world.ticket(
        TicketType.BENEFICIARY_CHANGE,
        payload={
            "after": [{"name": "王五", "relationship": "子女", "id_number": world.id_new, "share_pct": "50"}]
        },
    )
    workflow.take(session, world.proc, t)
    with pytest.raises(InvalidInput) as info:
        workflow.process(session, world.proc, t)
    assert "100%" in info.value.message_zh


def test_reviewer_sees_only_pending_approval(session: Session, world: World) -> None:
    t = world.beneficiary_ticket
    assert not access.can_view(world.reviewer, t)
    workflow.take(session, world.proc, t)
    workflow.process(session, world.proc, t)
    assert access.can_view(world.reviewer, t)
    assert access.allowed_actions(world.reviewer, t) == ["approve", "reject", "comment"]
    assert "approve" not in access.allowed_actions(world.proc, t)


def test_every_change_writes_an_event_and_an_audit_entry(session: Session, world: World) -> None:
    t = world.beneficiary_ticket
    workflow.take(session, world.proc, t)
    workflow.comment(session, world.proc, t, "客户来电催办")
    workflow.process(session, world.proc, t)
    workflow.approve(session, world.reviewer, t)
    workflow.close(session, world.proc, t)
    actions = list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "ticket", AuditEntry.object_id == t.number)
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["ticket_take", "ticket_comment", "ticket_process", "ticket_approve", "ticket_close"]
    statuses = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == t.number, AuditEntry.action == "ticket_process")
        )
    )
    before, after = statuses[0].before or {}, statuses[0].after or {}
    assert before["status"] == "in_progress" and after["status"] == "pending_approval"
    assert before["maker_id"] is None and after["maker_id"] == world.proc.id
    assert [e.kind for e in t.events] == ["created", "take", "comment", "process", "approve", "close"]


def test_masked_payload_hides_personal_data(world: World) -> None:
    masked = masking.masked_payload(world.beneficiary_ticket)
    text = str(masked)
    assert world.id_new not in text and "张晓明" not in text
    assert masked["after"][0]["name"] == "张*明" and masked["before"][0]["name"] == "张*山"
    account = masking.masked_payload(world.account_ticket)["after"]
    assert account == {
        "bank_name": "建设银行",
        "bank_account": "6217 **** **** 7890",
        "account_holder": "张*伟",
    }
    contact = masking.masked_payload(world.contact_ticket)
    assert contact["after"]["mobile"] == "139****1111" and contact["changed"] == ["mobile", "email"]
