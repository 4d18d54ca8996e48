"""Issue 12 item 5: a repeated request after the first ticket was closed is not swallowed."""

from __future__ import annotations

from datetime import date, timedelta

from bot.models import TicketStatus, TicketType
from bot.models.base import utcnow
from bot.services import policy_service
from bot.services.tickets.create import create_ticket
from tests.factories import make_customer, make_policy

CONV = "web:dup-attack"


def test_surrender_asked_again_after_the_ticket_was_closed_opens_a_new_ticket(session) -> None:
    holder = make_customer(session)
    policy = make_policy(session, holder)
    first = policy_service.request_service(
        session, policy=policy, kind="surrender", conversation_id=CONV, today=date(2026, 11, 23)
    )
    first.ticket.status = TicketStatus.CLOSED
    session.flush()
    again = policy_service.request_service(
        session, policy=policy, kind="surrender", conversation_id=CONV, today=date(2026, 11, 23)
    )
    assert again.created
    assert again.ticket.number != first.ticket.number
    assert again.ticket.status is TicketStatus.OPEN


def test_a_duplicate_key_expires_after_the_window(session) -> None:
    holder = make_customer(session)
    policy = make_policy(session, holder)
    old, created = create_ticket(
        session,
        ticket_type=TicketType.SURRENDER,
        policy_id=policy.id,
        idempotency_key="k-window",
        now=utcnow() - timedelta(hours=25),
    )
    assert created
    new, created = create_ticket(
        session, ticket_type=TicketType.SURRENDER, policy_id=policy.id, idempotency_key="k-window"
    )
    assert created and new.id != old.id


def test_a_retry_still_returns_the_open_ticket(session) -> None:
    holder = make_customer(session)
    policy = make_policy(session, holder)
    first, _ = create_ticket(
        session, ticket_type=TicketType.SURRENDER, policy_id=policy.id, idempotency_key="k"
    )
    again, created = create_ticket(
        session, ticket_type=TicketType.SURRENDER, policy_id=policy.id, idempotency_key="k"
    )
    assert not created and again.id == first.id
