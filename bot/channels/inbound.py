"""A customer's message, from any channel, on its way to the assistant (or to a human agent).

The caller holds ``hub.lock(conversation_id)`` so one conversation is handled in order. The
customer always gets an answer: when Rasa or the action server is down, an apology and a way to
reach a human; while a human agent has the conversation, the message goes to the live queue.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import live, transcript
from bot.channels.hub import ChannelHub, channel_and_id
from bot.channels.rasa_client import RasaUnavailable
from bot.models import Channel, ChannelBinding, ChatMessage, HandoverStatus
from bot.services import handover as handover_service
from bot.services.identity import get_verified

log = logging.getLogger(__name__)

HUMAN_PAYLOAD = "/request_human"
INTENT_PREFIX = "/"
# Rasa reads a message that starts with "/" as an intent (with entities): only the payload of a
# button the assistant offered in this conversation may do that; anything else typed that way is
# sent as text, its "/" replaced by the full-width "／" (the NLU reads it like any other text).
ESCAPED_PREFIX = "／"
# Payloads the app itself sends without a button (Telegram's /start, the way to a human).
APP_PAYLOADS = frozenset({"/greet", HUMAN_PAYLOAD})
OFFERED_LOOKBACK = 30  # the assistant's latest messages whose buttons still count as offered
APOLOGY_ZH = "非常抱歉,智能助手暂时无法回复您。请您稍后再试,或点击下方“转人工客服”,由人工客服为您继续处理。"
APOLOGY_BUTTONS = [{"title": "转人工客服", "payload": HUMAN_PAYLOAD}]
HANDOVER_QUEUED_ZH = "您的消息已转给人工客服,请稍候。"


def asks_for_human(text: str) -> bool:
    return text.strip() == HUMAN_PAYLOAD or "人工" in text


def bind_verified_customer(session: Session, conversation_id: str) -> None:
    """A conversation whose customer proved who they are becomes a channel binding (reminders go there)."""
    channel, external = channel_and_id(conversation_id)
    if channel not in (Channel.TELEGRAM.value, Channel.WEB.value) or not external:
        return
    ctx = get_verified(session, conversation_id)
    if ctx is None:
        return
    binding = session.scalars(
        select(ChannelBinding).where(
            ChannelBinding.channel == Channel(channel), ChannelBinding.external_id == external
        )
    ).first()
    if binding is None:
        session.add(
            ChannelBinding(customer_id=ctx.customer.id, channel=Channel(channel), external_id=external)
        )
    elif binding.customer_id != ctx.customer.id:
        binding.customer_id = ctx.customer.id
    session.flush()


def offered_payloads(session: Session, conversation_id: str) -> set[str]:
    """The button payloads of the assistant's latest messages in this conversation."""
    rows = session.scalars(
        select(ChatMessage.payload)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.role == "bot")
        .order_by(ChatMessage.id.desc())
        .limit(OFFERED_LOOKBACK)
    )
    return {
        str(button.get("payload"))
        for payload in rows
        for button in (payload or {}).get("buttons") or []
        if isinstance(button, dict) and button.get("payload")
    }


def text_for_rasa(session: Session, conversation_id: str, text: str) -> str:
    """What goes to Rasa for a customer's message: a payload only when the assistant offered it
    in this conversation (never an ``EXTERNAL_*`` intent); other "/..." text is escaped."""
    stripped = text.strip()
    if not stripped.startswith(INTENT_PREFIX):
        return text
    intent = stripped[len(INTENT_PREFIX) :].split("{", 1)[0].split("@", 1)[0].strip()
    if not intent.upper().startswith("EXTERNAL_") and (
        stripped in APP_PAYLOADS or stripped in offered_payloads(session, conversation_id)
    ):
        return stripped
    return ESCAPED_PREFIX + stripped.lstrip(INTENT_PREFIX)


async def _handover_reason(hub: ChannelHub, conversation_id: str) -> str | None:
    """Did this turn end with the assistant paused, or the customer asking for a human?"""
    try:
        tracker = await hub.rasa.tracker(conversation_id, include_events="NONE")
    except RasaUnavailable:
        return None
    latest = tracker.get("latest_message") or {}
    intent = (latest.get("intent") or {}).get("name")
    if intent == "request_human":
        return "request_human"
    if tracker.get("paused"):
        return "fallback"
    return None


async def handle_customer_message(
    hub: ChannelHub,
    conversation_id: str,
    text: str,
    *,
    shown_text: str | None = None,
    client: str | None = None,
) -> list[dict[str, Any]]:
    """Record the message, get the answer (assistant or live queue), record it, return it.

    ``client`` (web: ``ip:<address>``) goes to Rasa as message metadata: the identity check counts
    wrong tries per client across conversations."""
    with hub.session() as session:
        transcript.record(
            session, conversation_id, "customer", shown_text if shown_text is not None else text
        )
        text = text_for_rasa(session, conversation_id, text)
        handover = handover_service.current(session, conversation_id)
        status = handover.status if handover else None
        if status == HandoverStatus.WAITING:
            return [transcript.record_note(session, conversation_id, HANDOVER_QUEUED_ZH)]
    if status == HandoverStatus.ACTIVE:
        return []  # the agent sees it in the live queue and answers

    try:
        replies = await hub.rasa.send_message(
            conversation_id, text, metadata={"client": client} if client else None
        )
    except RasaUnavailable:
        log.warning("Rasa unavailable for %s", conversation_id)
        if asks_for_human(text):
            return await live.start_handover(hub, conversation_id, "rasa_unavailable", pause_in_rasa=False)
        with hub.session() as session:
            return [
                transcript.record_note(
                    session, conversation_id, APOLOGY_ZH, role="bot", buttons=APOLOGY_BUTTONS
                )
            ]

    with hub.session() as session:
        transcript.record_bot_messages(session, conversation_id, replies)
        bind_verified_customer(session, conversation_id)
    reason = await _handover_reason(hub, conversation_id)
    if reason:
        replies = [*replies, *await live.start_handover(hub, conversation_id, reason)]
    if not replies:
        # Rasa answered nothing: typically the action server failed. Never leave the customer in silence.
        with hub.session() as session:
            replies = [
                transcript.record_note(
                    session, conversation_id, APOLOGY_ZH, role="bot", buttons=APOLOGY_BUTTONS
                )
            ]
    return replies
