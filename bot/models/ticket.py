"""Tickets for the back office and their history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, TimestampMixin, enum_column, utcnow
from bot.models.enums import Channel, Team, TicketPriority, TicketStatus, TicketType

if TYPE_CHECKING:
    from bot.models.claim import Claim, Document
    from bot.models.customer import Customer
    from bot.models.policy import Policy
    from bot.models.staff import StaffUser


class Ticket(TimestampMixin, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_team_status_created", "team", "status", "created_at"),
        Index("ix_tickets_status_sla", "status", "sla_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # TK + 10 digits
    ticket_type: Mapped[TicketType] = mapped_column(enum_column(TicketType, 32), index=True)
    team: Mapped[Team] = mapped_column(enum_column(Team, 24))
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, 24))
    priority: Mapped[TicketPriority] = mapped_column(enum_column(TicketPriority, 16))
    sla_due_at: Mapped[datetime]
    subject: Mapped[str] = mapped_column(String(200))

    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(160), index=True)
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, 16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    requires_checker: Mapped[bool] = mapped_column(default=False)
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    # Idempotency: a retried creation with the same key returns the existing ticket.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    customer: Mapped[Customer | None] = relationship()
    policy: Mapped[Policy | None] = relationship()
    claim: Mapped[Claim | None] = relationship()
    assignee: Mapped[StaffUser | None] = relationship(foreign_keys=[assignee_id])
    maker: Mapped[StaffUser | None] = relationship(foreign_keys=[maker_id])
    checker: Mapped[StaffUser | None] = relationship(foreign_keys=[checker_id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id"
    )
    documents: Mapped[list[Document]] = relationship(
        primaryjoin="Ticket.id == Document.ticket_id", viewonly=True
    )


class TicketEvent(Base):
    """One entry of a ticket's history: created, assigned, commented, status changed, notified."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_label: Mapped[str] = mapped_column(String(64))  # "assistant", "customer", staff username
    kind: Mapped[str] = mapped_column(String(32))  # created/assigned/comment/status/notified/document
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
