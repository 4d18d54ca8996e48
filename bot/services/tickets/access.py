"""Who may see a ticket and who may act on it (object-level authorisation, OWASP API1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidTransition, PermissionDenied, SelfApproval, TicketNotFound
from bot.labels_zh import ACTION_LABELS_ZH, STATUS_LABELS_ZH
from bot.models import StaffRole, StaffUser, Ticket, TicketStatus

S = TicketStatus


def actor_label(user: StaffUser) -> str:
    """How a staff user is named as the actor in the audit log."""
    return f"staff:{user.username}"


def can_view(user: StaffUser, ticket: Ticket) -> bool:
    """Object-level read access. Callers answer 404 when this is False."""
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


def not_now(ticket: Ticket, action: str, detail: str) -> InvalidTransition:
    """The error for an action the ticket's current status does not allow."""
    return InvalidTransition(
        detail,
        message_zh=(
            f"工单 {ticket.number} 当前状态为「{STATUS_LABELS_ZH[ticket.status]}」,"
            f"不能执行「{ACTION_LABELS_ZH.get(action, action)}」。"
        ),
    )


def require_worker(user: StaffUser, ticket: Ticket, *, assignee_only: bool = True) -> None:
    """Processing actions: a processor of the ticket's team (its assignee) or a supervisor."""
    if user.role is StaffRole.SUPERVISOR:
        return
    if user.role is not StaffRole.PROCESSOR or ticket.team != user.team:
        raise PermissionDenied("not a worker of this ticket")
    if assignee_only and ticket.assignee_id != user.id:
        raise PermissionDenied("not the assignee", message_zh="请先领取该工单,再进行处理。")


def require_checker(user: StaffUser, ticket: Ticket, action: str) -> None:
    """The checker of a maker-checker ticket: a reviewer or supervisor who is not its maker."""
    if user.role not in (StaffRole.REVIEWER, StaffRole.SUPERVISOR):
        raise PermissionDenied(
            "checker role required", message_zh="该类业务须由复核员复核,经办人不能直接审批。"
        )
    if ticket.status is not S.PENDING_APPROVAL:
        raise not_now(ticket, action, action)
    if ticket.maker_id == user.id:
        raise SelfApproval(ticket.number)


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
