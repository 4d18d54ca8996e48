"""Live handover to a human agent: the queue, accepting, handing back.

The conversation is paused in Rasa (``ConversationPaused``) while a handover is waiting or
active; the channel layer does the Rasa side, this module keeps the state. Each handover gets a
``human_handover`` ticket (or reuses the one the dialogue opened) so the back office sees it too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import HandoverClosed
from bot.labels_zh import HANDOVER_REASON_ZH
from bot.models import Channel, ChannelBinding, Handover, HandoverStatus, TicketType, VerifiedSession
from bot.models.base import utcnow
from bot.services.tickets.create import create_ticket, open_tickets_for_conversation

OPEN = (HandoverStatus.WAITING, HandoverStatus.ACTIVE)


def current(session: Session, conversation_id: str) -> Handover | None:
    """The waiting or active handover of a conversation, if any."""
    return session.scalars(
        select(Handover)
        .where(Handover.conversation_id == conversation_id, Handover.status.in_(OPEN))
        .order_by(Handover.id.desc())
    ).first()


def customer_of(session: Session, conversation_id: str) -> int | None:
    vs = session.scalars(
        select(VerifiedSession).where(VerifiedSession.conversation_id == conversation_id)
    ).first()
    if vs is not None:
        return vs.customer_id
    channel, _, external = conversation_id.partition(":")
    try:
        ch = Channel(channel)
    except ValueError:
        return None
    binding = session.scalars(
        select(ChannelBinding).where(ChannelBinding.channel == ch, ChannelBinding.external_id == external)
    ).first()
    return binding.customer_id if binding else None


def open_handover(
    session: Session, conversation_id: str, reason: str, *, now: datetime | None = None
) -> tuple[Handover, bool]:
    """Put the conversation in the live queue; returns ``(handover, created)`` (idempotent)."""
    existing = current(session, conversation_id)
    if existing is not None:
        return existing, False
    now = now or utcnow()
    customer_id = customer_of(session, conversation_id)
    ticket = next(
        (
            t
            for t in open_tickets_for_conversation(session, conversation_id)
            if t.ticket_type == TicketType.HUMAN_HANDOVER
        ),
        None,
    )
    handover = Handover(
        conversation_id=conversation_id,
        status=HandoverStatus.WAITING,
        reason=reason[:64],
        customer_id=customer_id,
        requested_at=now,
    )
    session.add(handover)
    session.flush()
    if ticket is None:
        ticket, _ = create_ticket(
            session,
            ticket_type=TicketType.HUMAN_HANDOVER,
            subject=f"转人工服务:{HANDOVER_REASON_ZH.get(reason, reason)}",
            customer_id=customer_id,
            conversation_id=conversation_id,
            payload={"handover_id": handover.id, "reason": reason},
            idempotency_key=f"handover:{handover.id}",
            now=now,
        )
    handover.ticket_id = ticket.id
    session.flush()
    return handover, True


def live_queue(session: Session) -> list[Handover]:
    return list(
        session.scalars(select(Handover).where(Handover.status.in_(OPEN)).order_by(Handover.requested_at))
    )


def get_open(session: Session, handover_id: int) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None or handover.status not in OPEN:
        raise HandoverClosed(str(handover_id))
    return handover


def accept(
    session: Session, handover_id: int, *, agent_id: int | None, agent_label: str, now: datetime | None = None
) -> Handover:
    handover = get_open(session, handover_id)
    if handover.status == HandoverStatus.WAITING:
        handover.status = HandoverStatus.ACTIVE
        handover.accepted_at = now or utcnow()
    handover.agent_id = agent_id
    handover.agent_label = agent_label[:64]
    session.flush()
    return handover


def close(session: Session, handover_id: int, *, now: datetime | None = None) -> Handover:
    handover = get_open(session, handover_id)
    handover.status = HandoverStatus.CLOSED
    handover.closed_at = now or utcnow()
    session.flush()
    return handover
