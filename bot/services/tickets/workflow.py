"""The ticket state machine: take, assign, comment, request documents, resume, process, approve,
reject, close, with maker-checker for the change requests.

Every change writes a ticket event and a hash-chained audit entry with before and after. The caller
owns the transaction: a final approval and the change to the policy records commit together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.errors import InvalidInput, InvalidTransition, PermissionDenied, TicketNotFound
from bot.models import StaffRole, StaffUser, Ticket, TicketStatus
from bot.models.base import utcnow
from bot.services import audit
from bot.services.changes import apply_change, validate_change
from bot.services.tickets.access import actor_label, can_view, not_now, require_checker, require_worker
from bot.services.tickets.create import add_event
from bot.services.tickets.notify import documents_note, notification
from bot.services.tickets.rules import TICKET_RULES

S = TicketStatus

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


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status.value,
        "assignee_id": ticket.assignee_id,
        "maker_id": ticket.maker_id,
        "checker_id": ticket.checker_id,
        "team": ticket.team.value,
        "resolution": ticket.resolution,
    }


def _audit(
    session: Session,
    user: StaffUser,
    ticket: Ticket,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
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
        raise not_now(ticket, action, f"{ticket.status.value}->{to.value}")
    from_status = ticket.status
    session.flush()
    # Compare-and-set: another process (a second app worker) may have moved the ticket since this
    # session read it. Only the status this session saw may change; otherwise nothing happens.
    now = utcnow()
    values: dict[str, Any] = {"status": to, "updated_at": now}
    if to is S.CLOSED:
        values["closed_at"] = now
    moved = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(ticket)
        raise not_now(ticket, action, f"{from_status.value}->{to.value}: changed meanwhile")
    for key, value in values.items():
        set_committed_value(ticket, key, value)
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
    _audit(session, user, ticket, action, before=before, after=after)


def _clean_text(value: str | None, *, required: bool, what: str, limit: int = 2000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} required", message_zh=f"请填写{what}。")
    return text[:limit]


def take(session: Session, user: StaffUser, ticket: Ticket) -> None:
    assign(session, user, ticket, user)


def assign(session: Session, user: StaffUser, ticket: Ticket, assignee: StaffUser) -> None:
    """Assign (or take, when ``assignee`` is ``user``). An open ticket moves to in progress."""
    require_worker(user, ticket, assignee_only=False)
    if (
        user.role is StaffRole.PROCESSOR
        and ticket.assignee_id not in (None, user.id)
        and ticket.status is not S.OPEN
    ):
        raise PermissionDenied("already assigned", message_zh="该工单已有经办人,如需改派请联系主管。")
    if (
        assignee.role is not StaffRole.PROCESSOR and assignee.role is not StaffRole.SUPERVISOR
    ) or not assignee.active:
        raise InvalidInput("assignee role")
    if assignee.role is StaffRole.PROCESSOR and assignee.team != ticket.team:
        raise InvalidInput("assignee team", message_zh="只能分派给该工单所属小组的经办人。")
    action = "take" if assignee.id == user.id else "assign"
    if ticket.status not in (S.OPEN, S.IN_PROGRESS, S.AWAITING_DOCUMENTS):
        raise not_now(ticket, action, "assign")
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
    _audit(session, user, ticket, action, before=before, after=snapshot(ticket))


def comment(session: Session, user: StaffUser, ticket: Ticket, note: str) -> None:
    if not can_view(user, ticket):
        raise TicketNotFound(ticket.number)
    text = _clean_text(note, required=True, what="备注内容")
    add_event(session, ticket, kind="comment", actor=user, note=text)
    _audit(session, user, ticket, "comment", after={"note": text})


def request_documents(
    session: Session, user: StaffUser, ticket: Ticket, documents: list[str], note: str | None = None
) -> dict[str, Any]:
    """In progress → awaiting documents; returns the notification to send to the customer."""
    require_worker(user, ticket)
    docs = [d.strip()[:100] for d in documents if d and d.strip()]
    if not docs:
        raise InvalidInput("documents required", message_zh="请至少选择或填写一项需要客户补充的材料。")
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
    return notification(ticket, "documents_requested", documents_note(docs, text))


def resume(session: Session, user: StaffUser, ticket: Ticket, note: str | None = None) -> None:
    require_worker(user, ticket)
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
    require_worker(user, ticket)
    if not ticket.requires_checker:
        raise InvalidTransition(
            "process on a non maker-checker ticket", message_zh="该类工单无需复核,请直接审批通过或驳回。"
        )
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


def lock_for_decision(session: Session, ticket: Ticket) -> None:
    """Re-read the ticket under a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
    no row locks and relies on the compare-and-set in ``_transition``): a second process deciding
    the same ticket waits, then sees the decision already made."""
    session.flush()
    session.refresh(ticket, with_for_update=True)


def approve(session: Session, user: StaffUser, ticket: Ticket, reason: str | None = None) -> dict[str, Any]:
    """Approve. For maker-checker tickets this is the checker's final approval: the change is
    applied to the policy records in the same transaction. Returns the customer notification."""
    text = _clean_text(reason, required=False, what="审批意见") or "审核通过"
    lock_for_decision(session, ticket)  # the status checks below see the latest decision
    before = snapshot(ticket)
    extra: dict[str, Any] = {}
    if ticket.requires_checker:
        require_checker(user, ticket, "approve")
        ticket.checker_id = user.id
        ticket.resolution = text
        extra = {"applied": apply_change(session, user, ticket)}
    else:
        require_worker(user, ticket)
        ticket.resolution = text
    _transition(
        session, user, ticket, S.APPROVED, "approve", note=text, extra_after=extra or None, before=before
    )
    return notification(ticket, "approved", text)


def reject(session: Session, user: StaffUser, ticket: Ticket, reason: str) -> dict[str, Any]:
    text = _clean_text(reason, required=True, what="驳回原因")
    lock_for_decision(session, ticket)  # the status checks below see the latest decision
    before = snapshot(ticket)
    if ticket.requires_checker:
        require_checker(user, ticket, "reject")
        ticket.checker_id = user.id
    else:
        require_worker(user, ticket)
    ticket.resolution = text
    _transition(session, user, ticket, S.REJECTED, "reject", note=text, before=before)
    return notification(ticket, "rejected", text)


def close(session: Session, user: StaffUser, ticket: Ticket, note: str | None = None) -> None:
    require_worker(user, ticket)
    _transition(
        session, user, ticket, S.CLOSED, "close", note=_clean_text(note, required=False, what="说明") or None
    )
