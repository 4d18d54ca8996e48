"""Bot-initiated messages and delivery on a conversation's own channel.

One mechanism for everything the assistant says unprompted (premium reminders, ticket updates,
claim status changes): Rasa's ``trigger_intent`` with an ``EXTERNAL_*`` intent renders the
wording from ``domain.yml``; the returned messages are delivered where the conversation lives:

- ``telegram:<chat_id>``: the sender ``bot.channels.telegram`` registered on the hub (Bot API
  ``sendMessage`` through python-telegram-bot, rate limited, retried with backoff);
- ``web:<session>``: the web chat's stored transcript, pushed to the open page (server-sent
  events, ``bot.web.customer.chat``);
- ``hotline:<call_id>``: the transcript only (the agent reads it out).

Every delivered message is also recorded in the transcript, so agents see it.

While the conversation is handed to a human agent (a waiting or active handover) Rasa is paused
and would render nothing: the trigger is not sent at all and the message is worded by
``bot.channels.notices`` instead, so the customer hears about it once, at once, on their channel.
"""

from __future__ import annotations

from typing import Any

from bot.channels import notices, transcript
from bot.channels.hub import ChannelHub, channel_and_id
from bot.channels.rasa_client import RasaUnavailable
from bot.services import handover as handover_service

__all__ = ["DeliveryFailed", "RasaUnavailable", "deliver", "notify_claim_update", "notify_conversation"]


# Channels that deliver through a sender registered on the hub; on the others (web, hotline)
# the transcript is the outbox and the page reads it.
SENDER_CHANNELS = ("telegram",)


class DeliveryFailed(Exception):
    """The channel did not take the message (e.g. Telegram kept failing, or the user blocked the bot)."""


async def deliver(
    conversation_id: str,
    messages: list[dict[str, Any]],
    *,
    hub: ChannelHub,
    role: str = "bot",
) -> None:
    """Record ``messages`` (Rasa-shaped dicts: text, buttons, image) and send them on the channel."""
    channel, external_id = channel_and_id(conversation_id)
    if not messages:
        return
    await hub.in_transaction(  # off the event loop (SQLite may wait on a lock)
        lambda session: transcript.record_bot_messages(session, conversation_id, messages, role=role)
    )
    sender = hub.senders.get(channel)
    if sender is None:
        if channel in SENDER_CHANNELS:
            raise DeliveryFailed(f"{channel} is not configured (no sender registered)")
        return
    try:
        await sender(external_id, messages)
    except DeliveryFailed:
        raise
    except Exception as exc:  # a channel error that survived the retries
        raise DeliveryFailed(type(exc).__name__) from exc


async def notify_conversation(
    conversation_id: str,
    intent: str,
    entities: dict[str, Any] | None = None,
    *,
    hub: ChannelHub,
) -> list[dict[str, Any]]:
    """Trigger ``intent`` (an ``EXTERNAL_*`` intent) in the conversation and deliver the reply.

    Returns the messages delivered: Rasa's, or during a handover (or when Rasa rendered nothing)
    the plain message of ``bot.channels.notices``; empty only for an intent without a template.
    Raises ``RasaUnavailable`` when Rasa (or the action server behind it) does not answer, and
    ``DeliveryFailed`` when the channel refuses the message; the caller decides what to do.
    """
    async with hub.lock(conversation_id):  # the same lock as the customer's turns and the hand-back
        paused = await hub.in_transaction(
            lambda session: handover_service.current(session, conversation_id) is not None
        )
        messages = [] if paused else await hub.rasa.trigger_intent(conversation_id, intent, entities or {})
        if not messages:
            messages = notices.render(intent, entities)
        await deliver(conversation_id, messages, hub=hub)
    return messages


async def notify_claim_update(
    conversation_id: str, claim_number: str, status_zh: str, *, hub: ChannelHub
) -> list[dict[str, Any]]:
    """Tell the customer that their claim changed status (``EXTERNAL_claim_update``;
    wording in ``utter_claim_update``): e.g. ``status_zh="已审核通过,赔款将于3个工作日内到账"``."""
    entities = {"claim_update_number": claim_number, "claim_update_status": status_zh}
    return await notify_conversation(conversation_id, "EXTERNAL_claim_update", entities, hub=hub)
