"""Lookups for the ticket desk, its JSON API and the agent console: a ticket or a staff member
by a name a person typed, the tickets of a conversation, and the audit entries of a ticket or a
customer. (To be merged with the desk's ticket queries.)"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.models import AuditEntry, Customer, Policy, StaffUser, Ticket


def ticket_by_number(session: Session, number: str) -> Ticket:
    return session.scalars(select(Ticket).where(Ticket.number == number)).one()


def conversation_tickets(session: Session, conversation_id: str) -> list[Ticket]:
    return list(
        session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id))
    )


def staff_by_username(session: Session, username: str) -> StaffUser:
    found = session.scalars(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    if found is None:
        raise NotFound(username, message_zh="未找到该员工。")
    return found


def ticket_audit_entries(session: Session, ticket: Ticket) -> list[AuditEntry]:
    """The ticket's entries, and those of its policy and customer since the ticket was opened."""
    conds = [and_(AuditEntry.object_type == "ticket", AuditEntry.object_id == ticket.number)]
    policy = session.get(Policy, ticket.policy_id) if ticket.policy_id else None
    if policy is not None:
        conds.append(
            and_(
                AuditEntry.object_type == "policy",
                AuditEntry.object_id == policy.number,
                AuditEntry.at >= ticket.created_at,
            )
        )
    if ticket.customer_id is not None:
        conds.append(
            and_(
                AuditEntry.object_type == "customer",
                AuditEntry.object_id == str(ticket.customer_id),
                AuditEntry.at >= ticket.created_at,
            )
        )
    return list(session.scalars(select(AuditEntry).where(or_(*conds)).order_by(AuditEntry.id)))


def customer_audit_entries(session: Session, customer_id: int) -> list[AuditEntry]:
    if session.get(Customer, customer_id) is None:
        raise NotFound(str(customer_id))
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.customer_id == customer_id).order_by(AuditEntry.id)
        )
    )
