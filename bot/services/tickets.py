"""Ticket creation (idempotent) and history. The desk's workflow builds on these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import (
    Channel,
    StaffUser,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from bot.models.base import utcnow


@dataclass(frozen=True)
class TicketRule:
    team: Team
    sla_hours: int
    requires_checker: bool
    title_zh: str
    priority: TicketPriority = TicketPriority.NORMAL


TICKET_RULES: dict[TicketType, TicketRule] = {
    TicketType.CLAIM: TicketRule(Team.CLAIMS, 72, False, "理赔报案"),
    TicketType.BENEFICIARY_CHANGE: TicketRule(Team.POLICY_SERVICE, 120, True, "受益人变更"),
    TicketType.CONTACT_CHANGE: TicketRule(Team.POLICY_SERVICE, 48, True, "联系方式变更"),
    TicketType.PAYMENT_ACCOUNT_CHANGE: TicketRule(Team.POLICY_SERVICE, 72, True, "扣款账户变更"),
    TicketType.SURRENDER: TicketRule(Team.POLICY_SERVICE, 120, False, "退保申请"),
    TicketType.COOLING_OFF_CANCELLATION: TicketRule(Team.POLICY_SERVICE, 48, False, "犹豫期退保"),
    TicketType.REINSTATEMENT: TicketRule(Team.POLICY_SERVICE, 120, False, "保单复效"),
    TicketType.PAYMENT_RELIEF: TicketRule(Team.RENEWALS, 72, False, "交费困难协助"),
    TicketType.PAYMENT_ISSUE: TicketRule(Team.RENEWALS, 48, False, "扣款失败跟进"),
    TicketType.COMPLAINT: TicketRule(Team.CUSTOMER_SERVICE, 24, False, "客户投诉", TicketPriority.HIGH),
    TicketType.HUMAN_HANDOVER: TicketRule(Team.CUSTOMER_SERVICE, 1, False, "转人工服务", TicketPriority.HIGH),
}

OPEN_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.AWAITING_DOCUMENTS,
    TicketStatus.PENDING_APPROVAL,
)


def new_ticket_number(session: Session) -> str:
    """``TK`` + 10 digits: the year's last two digits and 8 random digits, unique."""
    year = utcnow().year % 100
    while True:
        number = f"TK{year:02d}{secrets.randbelow(10**8):08d}"
        if session.scalars(select(Ticket.id).where(Ticket.number == number)).first() is None:
            return number


def channel_of(conversation_id: str | None) -> Channel | None:
    if not conversation_id or ":" not in conversation_id:
        return None
    try:
        return Channel(conversation_id.split(":", 1)[0])
    except ValueError:
        return None


def create_ticket(
    session: Session,
    *,
    ticket_type: TicketType,
    subject: str | None = None,
    customer_id: int | None = None,
    policy_id: int | None = None,
    claim_id: int | None = None,
    conversation_id: str | None = None,
    payload: dict[str, Any] | None = None,
    priority: TicketPriority | None = None,
    idempotency_key: str | None = None,
    actor_label: str = "assistant",
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Create a ticket, or return the one already made with the same idempotency key.

    Returns ``(ticket, created)``.
    """
    if idempotency_key:
        existing = session.scalars(select(Ticket).where(Ticket.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return existing, False
    rule = TICKET_RULES[ticket_type]
    now = now or utcnow()
    ticket = Ticket(
        number=new_ticket_number(session),
        ticket_type=ticket_type,
        team=rule.team,
        status=TicketStatus.OPEN,
        priority=priority or rule.priority,
        sla_due_at=now + timedelta(hours=rule.sla_hours),
        subject=subject or rule.title_zh,
        customer_id=customer_id,
        policy_id=policy_id,
        claim_id=claim_id,
        conversation_id=conversation_id,
        channel=channel_of(conversation_id),
        payload=payload or {},
        requires_checker=rule.requires_checker,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    add_event(session, ticket, kind="created", actor_label=actor_label, to_status=ticket.status.value)
    return ticket, True


def add_event(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.username if actor else "system"),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )
    session.add(event)
    session.flush()
    return event


def get_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.number == number.upper())).first()


def open_tickets_for_conversation(session: Session, conversation_id: str) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at.desc())
        )
    )
