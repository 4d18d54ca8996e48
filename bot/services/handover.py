"""Live handover to a human agent: the queue, accepting, handing back.

The conversation is paused in Rasa (``ConversationPaused``) while a handover is waiting or
active; the channel layer does the Rasa side, this module keeps the state. Each handover gets a
``human_handover`` ticket (or reuses the one the dialogue opened) so the back office sees it too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import HandoverClosed, PermissionDenied
from bot.labels_zh import HANDOVER_REASON_ZH
from bot.models import (
    Channel,
    ChannelBinding,
    ChatMessage,
    Handover,
    HandoverStatus,
    StaffRole,
    StaffUser,
    TicketType,
    VerifiedSession,
)
from bot.models.base import utcnow
from bot.services.tickets.create import create_ticket, open_tickets_for_conversation

OPEN = (HandoverStatus.WAITING, HandoverStatus.ACTIVE)
PREVIEW_MESSAGES = 10

# What a staff member may see of a handover (``access``).
FULL = "full"  # the agent who accepted the active handover: the transcript, reply, hand back
PREVIEW = "preview"  # a waiting handover: its newest few messages, to decide whether to accept
READ_ONLY = "read_only"  # a closed one: supervisors and the agent who handled it
NONE = "none"


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


def get_open(session: Session, handover_id: int, *, lock: bool = False) -> Handover:
    handover = session.get(Handover, handover_id, with_for_update=lock or None, populate_existing=lock)
    if handover is None or handover.status not in OPEN:
        raise HandoverClosed(str(handover_id))
    return handover


def access(handover: Handover, user: StaffUser) -> str:
    """FULL, PREVIEW, READ_ONLY or NONE: what ``user`` may see and do with ``handover``."""
    if handover.status == HandoverStatus.ACTIVE:
        return FULL if handover.agent_id == user.id else NONE
    if handover.status == HandoverStatus.WAITING:
        return PREVIEW
    if user.role == StaffRole.SUPERVISOR or handover.agent_id == user.id:
        return READ_ONLY
    return NONE


def messages(
    session: Session, handover: Handover, level: str, *, after_id: int = 0, limit: int = 500
) -> list[ChatMessage]:
    """The messages ``level`` allows, oldest first: the newest ``limit`` after ``after_id`` (the
    preview: the newest few; read-only: up to the hand-back)."""
    if level == NONE:
        return []
    if level == PREVIEW:
        after_id, limit = 0, PREVIEW_MESSAGES
    query = select(ChatMessage).where(
        ChatMessage.conversation_id == handover.conversation_id, ChatMessage.id > after_id
    )
    if level == READ_ONLY and handover.closed_at is not None:
        query = query.where(ChatMessage.created_at <= handover.closed_at)
    rows = list(session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit)))
    rows.reverse()
    return rows


def accept(
    session: Session, handover_id: int, *, agent_id: int | None, agent_label: str, now: datetime | None = None
) -> Handover:
    """The agent takes a waiting handover; accepting one's own active handover again changes
    nothing, and nobody takes over another agent's (PermissionDenied)."""
    handover = get_open(session, handover_id, lock=True)
    if handover.status == HandoverStatus.ACTIVE:
        if handover.agent_id != agent_id:
            raise PermissionDenied("handover taken", message_zh="该会话已由其他坐席接入。")
        return handover
    handover.status = HandoverStatus.ACTIVE
    handover.accepted_at = now or utcnow()
    handover.agent_id = agent_id
    handover.agent_label = agent_label[:64]
    session.flush()
    return handover


def require_own_active(session: Session, handover_id: int, agent_id: int, *, lock: bool = False) -> Handover:
    """The active handover ``agent_id`` accepted; PermissionDenied for anyone else."""
    handover = get_open(session, handover_id, lock=lock)
    if handover.status != HandoverStatus.ACTIVE or handover.agent_id != agent_id:
        raise PermissionDenied("not your handover", message_zh="只有接入该会话的坐席可以回复或交还。")
    return handover


def close(
    session: Session, handover_id: int, *, agent_id: int | None = None, now: datetime | None = None
) -> Handover:
    """Hand back to the assistant; with ``agent_id``, only that agent's active handover."""
    if agent_id is not None:
        handover = require_own_active(session, handover_id, agent_id, lock=True)
    else:
        handover = get_open(session, handover_id, lock=True)
    handover.status = HandoverStatus.CLOSED
    handover.closed_at = now or utcnow()
    session.flush()
    return handover
