"""The ticket workflow: who may see a ticket, the state machine, maker-checker and applying changes.

Every change writes a ticket event and a hash-chained audit entry with before and after. The caller
owns the transaction: a final approval and the change to the policy records commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import masking
from bot.errors import (
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    SelfApproval,
    TicketNotFound,
)
from bot.ids import is_valid_id_number
from bot.models import (
    Beneficiary,
    Customer,
    Policy,
    StaffRole,
    StaffUser,
    Ticket,
    TicketStatus,
    TicketType,
)
from bot.models.base import utcnow
from bot.services import audit
from bot.services.tickets import TICKET_RULES, add_event, get_by_number

S = TicketStatus

STATUS_LABELS_ZH: dict[TicketStatus, str] = {
    S.OPEN: "待领取",
    S.IN_PROGRESS: "处理中",
    S.AWAITING_DOCUMENTS: "待补充材料",
    S.PENDING_APPROVAL: "待复核",
    S.APPROVED: "已通过",
    S.REJECTED: "已驳回",
    S.CLOSED: "已关闭",
}

TYPE_LABELS_ZH: dict[TicketType, str] = {t: rule.title_zh for t, rule in TICKET_RULES.items()}

# The state machine: every allowed (from, to) pair. Anything else raises InvalidTransition (409).
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.AWAITING_DOCUMENTS, S.PENDING_APPROVAL, S.APPROVED, S.REJECTED}),
    S.AWAITING_DOCUMENTS: frozenset({S.IN_PROGRESS}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

ACTION_LABELS_ZH = {
    "take": "领取",
    "assign": "分派",
    "request_documents": "要求补充材料",
    "resume": "恢复处理",
    "process": "提交复核",
    "approve": "审批通过",
    "reject": "驳回",
    "close": "关闭",
}

# Which statuses each action starts from (the transition table alone would let "resume" open a ticket).
ACTION_FROM: dict[str, frozenset[TicketStatus]] = {
    "take": frozenset({S.OPEN}),
    "assign": frozenset({S.OPEN}),
    "request_documents": frozenset({S.IN_PROGRESS}),
    "resume": frozenset({S.AWAITING_DOCUMENTS}),
    "process": frozenset({S.IN_PROGRESS}),
    "approve": frozenset({S.IN_PROGRESS, S.PENDING_APPROVAL}),
    "reject": frozenset({S.IN_PROGRESS, S.PENDING_APPROVAL}),
    "close": frozenset({S.APPROVED, S.REJECTED}),
}

MAKER_CHECKER_TYPES = frozenset(t for t, rule in TICKET_RULES.items() if rule.requires_checker)
CONTACT_FIELDS = ("mobile", "email", "address")
NOTIFY_INTENT = "EXTERNAL_ticket_update"


def actor_label(user: StaffUser) -> str:
    return f"staff:{user.username}"


# ---------------------------------------------------------------- object-level authorisation


def can_view(user: StaffUser, ticket: Ticket) -> bool:
    """Object-level read access (OWASP API1). Callers answer 404 when this is False."""
    if user.role is StaffRole.SUPERVISOR:
        return True
    if user.role is StaffRole.PROCESSOR:
        return user.team is not None and ticket.team == user.team
    if user.role is StaffRole.REVIEWER:
        return ticket.status is S.PENDING_APPROVAL or ticket.checker_id == user.id
    return False


def load_for(session: Session, user: StaffUser, number: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this number if ``user`` may see it; otherwise TicketNotFound (no leak)."""
    stmt = select(Ticket).where(Ticket.number == number.strip().upper())
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    ticket = session.scalars(stmt).first()
    if ticket is None or not can_view(user, ticket):
        raise TicketNotFound(number)
    return ticket


def _require_worker(user: StaffUser, ticket: Ticket, *, assignee_only: bool = True) -> None:
    """Processing actions: a processor of the ticket's team (its assignee) or a supervisor."""
    if user.role is StaffRole.SUPERVISOR:
        return
    if user.role is not StaffRole.PROCESSOR or ticket.team != user.team:
        raise PermissionDenied("not a worker of this ticket")
    if assignee_only and ticket.assignee_id != user.id:
        err = PermissionDenied("not the assignee")
        err.message_zh = "请先领取该工单,再进行处理。"
        raise err


def allowed_actions(user: StaffUser, ticket: Ticket) -> list[str]:
    """The actions the page offers this user on this ticket (the API checks again on each call)."""
    out: list[str] = []
    status = ticket.status
    worker = user.role is StaffRole.SUPERVISOR or (
        user.role is StaffRole.PROCESSOR and ticket.team == user.team
    )
    mine = user.role is StaffRole.SUPERVISOR or ticket.assignee_id == user.id
    if worker and status in (S.OPEN, S.IN_PROGRESS, S.AWAITING_DOCUMENTS):
        if ticket.assignee_id != user.id:
            out.append("take")
        out.append("assign")
    if worker and mine:
        if status is S.IN_PROGRESS:
            out.append("request_documents")
            if ticket.requires_checker:
                out.append("process")
            else:
                out += ["approve", "reject"]
        if status is S.AWAITING_DOCUMENTS:
            out.append("resume")
        if status in (S.APPROVED, S.REJECTED):
            out.append("close")
    checker = user.role in (StaffRole.REVIEWER, StaffRole.SUPERVISOR)
    if checker and status is S.PENDING_APPROVAL and ticket.maker_id != user.id:
        out += ["approve", "reject"]
    if can_view(user, ticket):
        out.append("comment")
    return out


# ---------------------------------------------------------------- state machine


def _transition(
    session: Session,
    user: StaffUser,
    ticket: Ticket,
    to: TicketStatus,
    action: str,
    *,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    extra_after: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> None:
    before = before if before is not None else snapshot(ticket)
    if to not in TRANSITIONS[ticket.status] or ticket.status not in ACTION_FROM.get(action, frozenset(S)):
        err = InvalidTransition(f"{ticket.status.value}->{to.value}")
        err.message_zh = (
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS_ZH[ticket.status]}」,"
            f"不能执行「{ACTION_LABELS_ZH.get(action, action)}」。"
        )
        raise err
    from_status = ticket.status
    ticket.status = to
    ticket.updated_at = utcnow()
    if to is S.CLOSED:
        ticket.closed_at = ticket.updated_at
    session.flush()
    session.expire(ticket, ["assignee", "maker", "checker"])  # ids changed; reload on access
    add_event(
        session,
        ticket,
        kind=action,
        actor=user,
        from_status=from_status.value,
        to_status=to.value,
        note=note,
        data=data,
    )
    after = snapshot(ticket)
    if extra_after:
        after.update(extra_after)
    audit.record(
        session,
        actor=actor_label(user),
        action=f"ticket_{action}",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        before=before,
        after=after,
    )


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status.value,
        "assignee_id": ticket.assignee_id,
        "maker_id": ticket.maker_id,
        "checker_id": ticket.checker_id,
        "team": ticket.team.value,
        "resolution": ticket.resolution,
    }


def _clean_text(value: str | None, *, required: bool, what: str, limit: int = 2000) -> str:
    text = (value or "").strip()
    if required and not text:
        err = InvalidInput(f"{what} required")
        err.message_zh = f"请填写{what}。"
        raise err
    return text[:limit]


# ---------------------------------------------------------------- actions


def take(session: Session, user: StaffUser, ticket: Ticket) -> None:
    assign(session, user, ticket, user)


def assign(session: Session, user: StaffUser, ticket: Ticket, assignee: StaffUser) -> None:
    """Assign (or take, when ``assignee`` is ``user``). An open ticket moves to in progress."""
    _require_worker(user, ticket, assignee_only=False)
    if (
        user.role is StaffRole.PROCESSOR
        and ticket.assignee_id not in (None, user.id)
        and ticket.status is not S.OPEN
    ):
        err = PermissionDenied("already assigned")
        err.message_zh = "该工单已有经办人,如需改派请联系主管。"
        raise err
    if (
        assignee.role is not StaffRole.PROCESSOR and assignee.role is not StaffRole.SUPERVISOR
    ) or not assignee.active:
        raise InvalidInput("assignee role")
    if assignee.role is StaffRole.PROCESSOR and assignee.team != ticket.team:
        bad = InvalidInput("assignee team")
        bad.message_zh = "只能分派给该工单所属小组的经办人。"
        raise bad
    action = "take" if assignee.id == user.id else "assign"
    if ticket.status not in (S.OPEN, S.IN_PROGRESS, S.AWAITING_DOCUMENTS):
        invalid = InvalidTransition("assign")
        invalid.message_zh = (
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS_ZH[ticket.status]}」,"
            f"不能执行「{ACTION_LABELS_ZH[action]}」。"
        )
        raise invalid
    before = snapshot(ticket)
    ticket.assignee_id = assignee.id
    session.flush()
    session.expire(ticket, ["assignee"])
    data = {"assignee": assignee.username}
    if ticket.status is S.OPEN:
        _transition(session, user, ticket, S.IN_PROGRESS, action, data=data, before=before)
        return
    ticket.updated_at = utcnow()
    session.flush()
    add_event(session, ticket, kind=action, actor=user, data=data)
    audit.record(
        session,
        actor=actor_label(user),
        action=f"ticket_{action}",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        before=before,
        after=snapshot(ticket),
    )


def comment(session: Session, user: StaffUser, ticket: Ticket, note: str) -> None:
    if not can_view(user, ticket):
        raise TicketNotFound(ticket.number)
    text = _clean_text(note, required=True, what="备注内容")
    add_event(session, ticket, kind="comment", actor=user, note=text)
    audit.record(
        session,
        actor=actor_label(user),
        action="ticket_comment",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        after={"note": text},
    )


def request_documents(
    session: Session, user: StaffUser, ticket: Ticket, documents: list[str], note: str | None = None
) -> dict[str, Any]:
    """In progress → awaiting documents; returns the notification to send to the customer."""
    _require_worker(user, ticket)
    docs = [d.strip()[:100] for d in documents if d and d.strip()]
    if not docs:
        err = InvalidInput("documents required")
        err.message_zh = "请至少选择或填写一项需要客户补充的材料。"
        raise err
    text = _clean_text(note, required=False, what="说明")
    _transition(
        session,
        user,
        ticket,
        S.AWAITING_DOCUMENTS,
        "request_documents",
        note=text or None,
        data={"documents": docs},
    )
    return notification(ticket, "documents_requested", "、".join(docs) + (f"({text})" if text else ""))


def resume(session: Session, user: StaffUser, ticket: Ticket, note: str | None = None) -> None:
    _require_worker(user, ticket)
    _transition(
        session,
        user,
        ticket,
        S.IN_PROGRESS,
        "resume",
        note=_clean_text(note, required=False, what="说明") or None,
    )


def process(session: Session, user: StaffUser, ticket: Ticket, note: str | None = None) -> None:
    """The maker's step for a maker-checker ticket: in progress → pending approval."""
    _require_worker(user, ticket)
    if not ticket.requires_checker:
        err = InvalidTransition("process on a non maker-checker ticket")
        err.message_zh = "该类工单无需复核,请直接审批通过或驳回。"
        raise err
    if ticket.status is S.IN_PROGRESS:
        validate_change(session, ticket)
    before = snapshot(ticket)
    if ticket.status is S.IN_PROGRESS:
        ticket.maker_id = user.id
    _transition(
        session,
        user,
        ticket,
        S.PENDING_APPROVAL,
        "process",
        note=_clean_text(note, required=False, what="经办意见") or None,
        before=before,
    )


def approve(session: Session, user: StaffUser, ticket: Ticket, reason: str | None = None) -> dict[str, Any]:
    """Approve. For maker-checker tickets this is the checker's final approval: the change is
    applied to the policy records in the same transaction. Returns the customer notification."""
    text = _clean_text(reason, required=False, what="审批意见") or "审核通过"
    before = snapshot(ticket)
    extra: dict[str, Any] = {}
    if ticket.requires_checker:
        _require_checker(user, ticket, "approve")
        ticket.checker_id = user.id
        ticket.resolution = text
        change = apply_change(session, user, ticket)
        extra = {"applied": change}
    else:
        _require_worker(user, ticket)
        ticket.resolution = text
    _transition(
        session, user, ticket, S.APPROVED, "approve", note=text, extra_after=extra or None, before=before
    )
    return notification(ticket, "approved", text)


def reject(session: Session, user: StaffUser, ticket: Ticket, reason: str) -> dict[str, Any]:
    text = _clean_text(reason, required=True, what="驳回原因")
    before = snapshot(ticket)
    if ticket.requires_checker:
        _require_checker(user, ticket, "reject")
        ticket.checker_id = user.id
    else:
        _require_worker(user, ticket)
    ticket.resolution = text
    _transition(session, user, ticket, S.REJECTED, "reject", note=text, before=before)
    return notification(ticket, "rejected", text)


def close(session: Session, user: StaffUser, ticket: Ticket, note: str | None = None) -> None:
    _require_worker(user, ticket)
    _transition(
        session, user, ticket, S.CLOSED, "close", note=_clean_text(note, required=False, what="说明") or None
    )


def _require_checker(user: StaffUser, ticket: Ticket, action: str) -> None:
    if user.role not in (StaffRole.REVIEWER, StaffRole.SUPERVISOR):
        err = PermissionDenied("checker role required")
        err.message_zh = "该类业务须由复核员复核,经办人不能直接审批。"
        raise err
    if ticket.status is not S.PENDING_APPROVAL:
        invalid = InvalidTransition(action)
        invalid.message_zh = (
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS_ZH[ticket.status]}」,"
            f"不能执行「{ACTION_LABELS_ZH[action]}」。"
        )
        raise invalid
    if ticket.maker_id == user.id:
        raise SelfApproval(ticket.number)


# ---------------------------------------------------------------- notifications


@dataclass
class Notification:
    ticket_number: str
    conversation_id: str | None
    status_text: str
    note: str
    entities: dict[str, Any] = field(default_factory=dict)


def notification(ticket: Ticket, status_text: str, note: str) -> dict[str, Any]:
    """What to send the customer: EXTERNAL_ticket_update with these entities, on the ticket's
    conversation. ``status_text`` is approved / rejected / documents_requested."""
    return {
        "ticket_number": ticket.number,
        "conversation_id": ticket.conversation_id,
        "intent": NOTIFY_INTENT,
        "entities": {"ticket_number": ticket.number, "ticket_status_text": status_text, "ticket_note": note},
    }


def record_notification(
    session: Session, ticket: Ticket, spec: dict[str, Any], result: dict[str, Any]
) -> None:
    """A ``notified`` event: the messages produced, or why the customer was not told (yet)."""
    if result.get("delivered"):
        texts = [m.get("text", "") for m in result.get("messages", []) if isinstance(m, dict)]
        note = "已通知客户:" + " / ".join(t for t in texts if t) if any(texts) else "已通知客户。"
    elif result.get("reason") == "no_conversation":
        note = "该工单未关联客户会话,未发送通知。"
    else:
        note = "通知未送达,请稍后在工单页点击「重新通知」。"
    add_event(
        session,
        ticket,
        kind="notified",
        actor_label="system",
        note=note,
        data={
            "delivered": bool(result.get("delivered")),
            "intent": spec.get("intent"),
            "entities": spec.get("entities"),
            "messages": result.get("messages", []),
            "error": result.get("error"),
        },
    )


def last_notification_spec(ticket: Ticket) -> dict[str, Any] | None:
    """The notification of the ticket's latest approve/reject/request_documents, for a resend."""
    for event in reversed(ticket.events):
        if event.kind in ("approve", "reject", "request_documents"):
            status_text = {"approve": "approved", "reject": "rejected"}.get(event.kind, "documents_requested")
            if event.kind == "request_documents":
                docs = "、".join((event.data or {}).get("documents", []))
                note = docs + (f"({event.note})" if event.note else "")
            else:
                note = event.note or ""
            return notification(ticket, status_text, note)
    return None


# ---------------------------------------------------------------- applying changes (maker-checker)


def _payload_beneficiaries(ticket: Ticket) -> list[dict[str, Any]]:
    # The contract (bot/services/changes.py): payload["after"] is the new list of beneficiaries.
    rows = ticket.payload.get("after")
    if not isinstance(rows, list):
        rows = ticket.payload.get("beneficiaries")
    if not isinstance(rows, list) or not rows:
        raise _bad_payload("受益人信息缺失")
    out: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row, dict):
            raise _bad_payload("受益人信息格式不正确")
        name = str(row.get("name") or row.get("person_name") or "").strip()
        rel = str(row.get("relationship") or row.get("relationship_to_insured") or "").strip()
        id_number = str(row.get("id_number") or "").strip().upper()
        try:
            share = Decimal(str(row.get("share_pct", row.get("share", "100")))).quantize(Decimal("0.01"))
        except InvalidOperation as exc:
            raise _bad_payload("受益比例格式不正确") from exc
        order = int(row.get("order") or 1)
        if not name or not rel:
            raise _bad_payload("受益人姓名或关系缺失")
        if not is_valid_id_number(id_number):
            raise _bad_payload("受益人身份证号校验未通过")
        if share <= 0 or share > 100:
            raise _bad_payload("受益比例须在0到100之间")
        out.append(
            {"name": name, "relationship": rel, "id_number": id_number, "share_pct": share, "order": order}
        )
    totals: dict[int, Decimal] = {}
    for row in out:
        totals[row["order"]] = totals.get(row["order"], Decimal(0)) + row["share_pct"]
    if any(total != Decimal(100) for total in totals.values()):
        raise _bad_payload("同一受益顺序的受益比例合计须为100%")
    return out


def _bad_payload(message: str) -> InvalidInput:
    err = InvalidInput(message)
    err.message_zh = f"工单中的变更信息不完整或有误:{message}。请核实后处理。"
    return err


def _contact_changes(ticket: Ticket, customer: Customer | None = None) -> dict[str, str]:
    """The contact fields to change: payload["after"] (the contract), only those that differ."""
    payload = ticket.payload or {}
    nested = payload.get("after") if isinstance(payload.get("after"), dict) else payload.get("changes")
    source: dict[str, Any] = nested if isinstance(nested, dict) else payload
    changed = payload.get("changed")
    fields = [k for k in CONTACT_FIELDS if not isinstance(changed, list) or k in changed]
    changes = {k: str(source[k]).strip() for k in fields if source.get(k)}
    if customer is not None:
        changes = {k: v for k, v in changes.items() if getattr(customer, k) != v}
    if not changes:
        raise _bad_payload("未填写新的联系方式")
    mobile = changes.get("mobile")
    if mobile is not None and not (len(mobile) == 11 and mobile.isdigit() and mobile[0] == "1"):
        raise _bad_payload("手机号格式不正确")
    return changes


def _account_change(ticket: Ticket) -> dict[str, str]:
    payload = ticket.payload or {}
    source: dict[str, Any] = payload["after"] if isinstance(payload.get("after"), dict) else payload
    account = str(source.get("bank_account") or "").replace(" ", "")
    bank = str(source.get("bank_name") or "").strip()
    if not (12 <= len(account) <= 30 and account.isdigit()) or not bank:
        raise _bad_payload("开户行或银行账号不正确")
    return {"bank_name": bank, "bank_account": account}


def validate_change(session: Session, ticket: Ticket) -> None:
    """Check the change carried by a maker-checker ticket before it goes to the checker."""
    if ticket.ticket_type is TicketType.BENEFICIARY_CHANGE:
        _payload_beneficiaries(ticket)
        _policy_of(session, ticket)
    elif ticket.ticket_type is TicketType.CONTACT_CHANGE:
        _contact_changes(ticket, _customer_of(session, ticket))
    elif ticket.ticket_type is TicketType.PAYMENT_ACCOUNT_CHANGE:
        _account_change(ticket)
        _policy_of(session, ticket)


def _policy_of(session: Session, ticket: Ticket) -> Policy:
    policy = session.get(Policy, ticket.policy_id) if ticket.policy_id else None
    if policy is None:
        raise _bad_payload("工单未关联保单")
    return policy


def _customer_of(session: Session, ticket: Ticket) -> Customer:
    customer_id = ticket.customer_id or (ticket.payload or {}).get("customer_id")
    customer = session.get(Customer, int(customer_id)) if customer_id else None
    if customer is None:
        raise _bad_payload("工单未关联客户")
    return customer


def masked_beneficiaries(policy: Policy) -> list[dict[str, Any]]:
    return [
        {
            "name": masking.mask_name(b.name),
            "relationship": b.relationship_to_insured,
            "id_number": masking.mask_id_number(b.id_number),
            "share_pct": str(b.share_pct),
            "order": b.order,
        }
        for b in policy.beneficiaries
    ]


def apply_change(session: Session, user: StaffUser, ticket: Ticket) -> dict[str, Any]:
    """Apply the ticket's change to the policy records, with before and after in the audit log.

    Runs inside the caller's transaction, with the approval that triggers it."""
    actor = actor_label(user)
    if ticket.ticket_type is TicketType.BENEFICIARY_CHANGE:
        rows = _payload_beneficiaries(ticket)
        policy = _policy_of(session, ticket)
        before = {"beneficiaries": masked_beneficiaries(policy)}
        policy.beneficiaries.clear()
        session.flush()
        for row in rows:
            policy.beneficiaries.append(
                Beneficiary(
                    name=row["name"],
                    relationship_to_insured=row["relationship"],
                    id_number=row["id_number"],
                    share_pct=row["share_pct"],
                    order=row["order"],
                )
            )
        policy.updated_at = utcnow()
        session.flush()
        session.refresh(policy, ["beneficiaries"])
        after = {"beneficiaries": masked_beneficiaries(policy)}
        audit.record(
            session,
            actor=actor,
            action="update_beneficiaries",
            object_type="policy",
            object_id=policy.number,
            customer_id=policy.policyholder_id,
            before=before,
            after=after,
        )
        return {"policy": policy.number, "fields": ["beneficiaries"]}
    if ticket.ticket_type is TicketType.CONTACT_CHANGE:
        customer = _customer_of(session, ticket)
        changes = _contact_changes(ticket, customer)
        before_c = {k: _mask_field(k, getattr(customer, k)) for k in changes}
        for key, value in changes.items():
            setattr(customer, key, value)
        customer.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="update_contact",
            object_type="customer",
            object_id=customer.id,
            customer_id=customer.id,
            before=before_c,
            after={k: _mask_field(k, v) for k, v in changes.items()},
        )
        return {"customer": customer.id, "fields": sorted(changes)}
    if ticket.ticket_type is TicketType.PAYMENT_ACCOUNT_CHANGE:
        change = _account_change(ticket)
        policy = _policy_of(session, ticket)
        before_a = {
            "bank_name": policy.bank_name,
            "bank_account": masking.mask_bank_account(policy.bank_account),
        }
        policy.bank_name = change["bank_name"]
        policy.bank_account = change["bank_account"]
        policy.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="update_payment_account",
            object_type="policy",
            object_id=policy.number,
            customer_id=policy.policyholder_id,
            before=before_a,
            after={
                "bank_name": change["bank_name"],
                "bank_account": masking.mask_bank_account(change["bank_account"]),
            },
        )
        return {"policy": policy.number, "fields": ["bank_name", "bank_account"]}
    return {}


def _mask_field(key: str, value: Any) -> Any:
    if value is None:
        return None
    return mask_value(key, value)


# ---------------------------------------------------------------- masking of payloads

_MASKERS = (
    ("id_number", masking.mask_id_number),
    ("id_tail", masking.mask_id_number),  # last six of an ID: ****17
    ("holder", masking.mask_name),
    ("account", masking.mask_bank_account),
    ("mobile", masking.mask_mobile),
    ("phone", masking.mask_mobile),
    ("email", masking.mask_email),
    ("address", masking.mask_address),
    ("name", masking.mask_name),
)
_UNMASKED_NAME_KEYS = {"bank_name", "product_name", "file_name", "doc_name"}


def mask_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v) for v in value]
    if not isinstance(value, str) or key in _UNMASKED_NAME_KEYS:
        return value
    lowered = key.lower()
    for needle, fn in _MASKERS:
        if needle in lowered:
            return fn(value)
    return value


def masked_payload(ticket: Ticket) -> dict[str, Any]:
    result: dict[str, Any] = mask_value("payload", dict(ticket.payload or {}))
    return result


def find_for(session: Session, user: StaffUser, number: str) -> Ticket | None:
    ticket = get_by_number(session, number)
    return ticket if ticket is not None and can_view(user, ticket) else None
