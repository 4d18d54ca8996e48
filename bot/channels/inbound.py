"""A customer's message, from any channel, on its way to the assistant (or to a human agent).

The caller holds ``hub.lock(conversation_id)`` so one conversation is handled in order. The
customer always gets an answer: when Rasa or the action server is down, an apology and a way to
reach a human; while a human agent has the conversation, the message goes to the live queue.
"""

from __future__ import annotations

import asyncio
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
STILL_WORKING_ZH = "您的请求正在处理中，请稍候，处理结果会尽快发送给您。"


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


def _record_customer(
    session: Session, conversation_id: str, shown: str, text: str
) -> tuple[Any, list[dict[str, Any]], str]:
    """Record the customer's message; during a handover, what the customer hears instead of Rasa;
    and what goes to Rasa (``text_for_rasa``)."""
    transcript.record(session, conversation_id, "customer", shown)
    to_rasa = text_for_rasa(session, conversation_id, text)
    handover = handover_service.current(session, conversation_id)
    status = handover.status if handover else None
    if status == HandoverStatus.WAITING:
        return status, [transcript.record_note(session, conversation_id, HANDOVER_QUEUED_ZH)], to_rasa
    return status, [], to_rasa


def _record_note(hub: ChannelHub, conversation_id: str, text: str, **kw: Any) -> Any:
    return hub.in_transaction(lambda session: transcript.record_note(session, conversation_id, text, **kw))


def _record_replies(session: Session, conversation_id: str, replies: list[dict[str, Any]]) -> None:
    transcript.record_bot_messages(session, conversation_id, replies)
    bind_verified_customer(session, conversation_id)


async def _rasa_turn(
    hub: ChannelHub, conversation_id: str, text: str, client: str | None = None
) -> list[dict[str, Any]]:
    """Rasa's answer to one message, recorded in the transcript (an apology when Rasa fails)."""
    try:
        replies = await hub.rasa.send_message(
            conversation_id, text, metadata={"client": client} if client else None
        )
    except RasaUnavailable:
        log.warning("Rasa unavailable for %s", conversation_id)
        if asks_for_human(text):
            return await live.start_handover(hub, conversation_id, "rasa_unavailable", pause_in_rasa=False)
        return [await _record_note(hub, conversation_id, APOLOGY_ZH, role="bot", buttons=APOLOGY_BUTTONS)]

    await hub.in_transaction(lambda session: _record_replies(session, conversation_id, replies))
    reason = await _handover_reason(hub, conversation_id)
    if reason:
        replies = [*replies, *await live.start_handover(hub, conversation_id, reason)]
    if not replies:
        # Rasa answered nothing: typically the action server failed. Never leave the customer in silence.
        replies = [await _record_note(hub, conversation_id, APOLOGY_ZH, role="bot", buttons=APOLOGY_BUTTONS)]
    return replies


async def _deliver_late(
    hub: ChannelHub, conversation_id: str, turn: asyncio.Future[list[dict[str, Any]]]
) -> None:
    """A turn that outlived the reply deadline: its answer (already in the transcript, which the
    web chat streams) goes out on the conversation's own channel when it comes."""
    try:
        replies = await turn
    except Exception:
        log.exception("late turn of %s failed", conversation_id)
        replies = [await _record_note(hub, conversation_id, APOLOGY_ZH, role="bot", buttons=APOLOGY_BUTTONS)]
    channel, external = channel_and_id(conversation_id)
    sender = hub.senders.get(channel)
    if sender is not None and replies:
        try:
            await sender(external, replies)
        except Exception:  # recorded in the transcript all the same: agents see it
            log.exception("late answer to %s could not be sent", conversation_id)


async def wait_for_late_turn(hub: ChannelHub, conversation_id: str) -> None:
    """Let a turn that outlived its deadline finish (and be delivered) before the next one."""
    task = hub.late_turns.get(conversation_id)
    if task is None:
        return
    try:
        await asyncio.shield(task)
    except Exception:  # _deliver_late logs its own failures
        log.debug("late turn ended with an error", exc_info=True)
    if hub.late_turns.get(conversation_id) is task:
        del hub.late_turns[conversation_id]


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
    wrong tries per client across conversations.

    When Rasa takes longer than ``rasa_reply_deadline_seconds``, the customer hears that the answer
    follows and the turn goes on in the background (it may be creating a claim): its answer is
    recorded and delivered late, never dropped."""
    await wait_for_late_turn(hub, conversation_id)
    shown = shown_text if shown_text is not None else text
    status, queued, to_rasa = await hub.in_transaction(
        lambda session: _record_customer(session, conversation_id, shown, text)
    )
    if status == HandoverStatus.WAITING:
        return queued
    if status == HandoverStatus.ACTIVE:
        return []  # the agent sees it in the live queue and answers

    turn = asyncio.ensure_future(_rasa_turn(hub, conversation_id, to_rasa, client))
    try:
        return await asyncio.wait_for(asyncio.shield(turn), hub.settings.rasa_reply_deadline_seconds)
    except asyncio.TimeoutError:
        log.warning("Rasa slower than the reply deadline for %s: answering later", conversation_id)
        hub.late_turns[conversation_id] = asyncio.ensure_future(_deliver_late(hub, conversation_id, turn))
        return [await _record_note(hub, conversation_id, STILL_WORKING_ZH, role="bot")]
    except asyncio.CancelledError:  # the caller went away (a closed page): the turn still finishes
        hub.late_turns[conversation_id] = asyncio.ensure_future(_deliver_late(hub, conversation_id, turn))
        raise
