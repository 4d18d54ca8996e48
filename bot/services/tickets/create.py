"""Ticket creation (idempotent), history events and look-ups; ``open_service_ticket`` is how a
customer's service request (relief, surrender, a change request...) becomes a ticket."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import catalog
from bot.config import get_settings
from bot.models import (
    Channel,
    Policy,
    StaffUser,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from bot.models.base import utcnow
from bot.services.tickets.rules import OPEN_STATUSES, TICKET_RULES


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

    A key only matches a ticket that is still open and was made within
    ``ticket_idempotency_hours`` (a retried action, a double click). A closed or older ticket gives
    its key up: the same request later is a new request and gets a new ticket.

    Returns ``(ticket, created)``.
    """
    now = now or utcnow()
    if idempotency_key:
        existing = session.scalars(select(Ticket).where(Ticket.idempotency_key == idempotency_key)).first()
        if existing is not None:
            window = timedelta(hours=get_settings().ticket_idempotency_hours)
            if existing.status in OPEN_STATUSES and existing.created_at > now - window:
                return existing, False
            existing.idempotency_key = None  # retired: the key is unique in the table
            session.flush()
    rule = TICKET_RULES[ticket_type]
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


def conversation_tickets(session: Session, conversation_id: str) -> list[Ticket]:
    """Every ticket of a conversation, oldest first (the agent console's call panel)."""
    return list(
        session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id))
    )


def open_tickets_for_conversation(session: Session, conversation_id: str) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at.desc())
        )
    )


@dataclass
class ServiceTicket:
    """The ticket a customer's request opened (or the one already open), and what to tell them."""

    ticket: Ticket
    created: bool
    title_zh: str
    checklist_zh: str
    timeline_zh: str
    next_steps_zh: str

    @property
    def requires_checker(self) -> bool:
        return self.ticket.requires_checker


def open_service_ticket(
    session: Session,
    *,
    ticket_type: TicketType,
    catalog_key: str,
    policy: Policy,
    conversation_id: str | None,
    payload: dict[str, Any],
    idempotency_key: str,
    subject: str | None = None,
    conditions: dict[str, bool | None] | None = None,
) -> ServiceTicket:
    """Open the policy's ticket for a service request (idempotent on ``idempotency_key``), with the
    documents, timeline and next steps of the catalog entry ``catalog_key``."""
    ticket, created = create_ticket(
        session,
        ticket_type=ticket_type,
        subject=subject,
        customer_id=policy.policyholder_id,
        policy_id=policy.id,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=idempotency_key,
    )
    item = catalog.entry(catalog_key)
    return ServiceTicket(
        ticket=ticket,
        created=created,
        title_zh=item.title,
        checklist_zh=catalog.format_checklist_zh(
            catalog.service_requirements(catalog_key, **(conditions or {}))
        ),
        timeline_zh=item.timeline,
        next_steps_zh=item.next_steps,
    )
