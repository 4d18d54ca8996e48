"""Live handover: a conversation handed to a human agent, and back to the assistant.

While a handover is waiting or active the assistant is paused in Rasa; the customer's messages
go to the live queue (``bot.channels.inbound``) and the agent's replies reach the customer on
their own channel (``bot.channels.outbound``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from bot.channels import outbound, push, transcript
from bot.channels.hub import ChannelHub
from bot.channels.rasa_client import RasaUnavailable
from bot.services import handover as handover_service

log = logging.getLogger(__name__)

HANDOVER_STARTED_ZH = "已为您转接人工客服,请稍候,客服接入后会在这里回复您。"
HANDOVER_ENDED_ZH = "人工客服已结束本次服务,智能助手将继续为您服务。如有其他问题,请随时告诉我。"
AGENT_JOINED_ZH = "人工客服已接入,请问有什么可以帮您?"


async def start_handover(
    hub: ChannelHub, conversation_id: str, reason: str, *, pause_in_rasa: bool = True
) -> list[dict[str, Any]]:
    """Queue the conversation for a human agent and pause the assistant in it."""

    def queue(session: Session) -> dict[str, Any] | None:
        _handover, created = handover_service.open_handover(session, conversation_id, reason)
        note = transcript.record_note(session, conversation_id, HANDOVER_STARTED_ZH) if created else None
        push.mark(session, push.LIVE_QUEUE)
        return note

    note = await hub.in_transaction(queue)  # off the event loop (SQLite may wait on a lock)
    if pause_in_rasa:
        try:
            await hub.rasa.append_events(conversation_id, [{"event": "pause"}])
        except RasaUnavailable:
            log.warning("could not pause %s in Rasa", conversation_id)
    return [note] if note else []


async def end_handover(hub: ChannelHub, handover_id: int, *, agent_id: int | None = None) -> str:
    """Hand the conversation back to the assistant; returns the conversation id. With
    ``agent_id``, only the agent who accepted the handover may (PermissionDenied otherwise).

    Under the conversation's lock, so a proactive message (``outbound.notify_conversation``)
    either sees the handover still open, or the assistant already resumed in Rasa."""

    def open_one(session: Session) -> str:
        if agent_id is not None:
            handover_service.require_own_active(session, handover_id, agent_id)
        return handover_service.get_open(session, handover_id).conversation_id

    def close(session: Session) -> None:
        handover_service.close(session, handover_id, agent_id=agent_id)
        push.mark(session, push.LIVE_QUEUE)

    conversation_id = await hub.in_transaction(open_one)  # off the event loop
    async with hub.lock(conversation_id):
        await hub.in_transaction(close)
        try:
            await hub.rasa.append_events(conversation_id, [{"event": "resume"}])
        except RasaUnavailable:
            log.warning("could not resume %s in Rasa", conversation_id)
        await outbound.deliver(conversation_id, [{"text": HANDOVER_ENDED_ZH}], role="system", hub=hub)
    return conversation_id


async def greet_customer(hub: ChannelHub, conversation_id: str) -> None:
    """The agent's first words when they accept a waiting conversation."""
    await outbound.deliver(conversation_id, [{"text": AGENT_JOINED_ZH}], role="agent", hub=hub)


async def agent_reply(hub: ChannelHub, conversation_id: str, text: str) -> None:
    """An agent's reply, in order with the conversation's other messages."""
    async with hub.lock(conversation_id):
        await outbound.deliver(conversation_id, [{"text": text}], role="agent", hub=hub)
