"""The conversation transcript the app keeps: what the web chat shows and agents read.

Every stored message wakes the live streams of its conversation once the transaction commits
(``bot.channels.push``): the web chat and the agents' live page get it at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import masking
from bot.channels import push
from bot.models import ChatMessage

ROLES = ("customer", "bot", "agent", "system")


def record(
    session: Session, conversation_id: str, role: str, text: str | None, payload: dict[str, Any] | None = None
) -> ChatMessage:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    # Stored masked: the transcript is read by staff (live queue) and outlives the turn; the
    # customer's own numbers come back masked too (a shared browser shows no full card or ID).
    text = masking.mask_text(text) if text else text
    msg = ChatMessage(conversation_id=conversation_id, role=role, text=text, payload=payload or {})
    session.add(msg)
    session.flush()
    push.mark(session, conversation_id)
    return msg


def record_bot_messages(
    session: Session, conversation_id: str, messages: list[dict[str, Any]], role: str = "bot"
) -> list[ChatMessage]:
    """Store Rasa-shaped messages (text, buttons, image, custom)."""
    stored = []
    for m in messages:
        payload: dict[str, Any] = {}
        if m.get("buttons"):
            payload["buttons"] = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in m["buttons"]
            ]
        if m.get("image"):
            payload["image"] = str(m["image"])
        if m.get("custom") is not None:
            payload["custom"] = m["custom"]
        if not m.get("text") and not payload:
            continue
        stored.append(record(session, conversation_id, role, m.get("text"), payload))
    return stored


def record_note(
    session: Session,
    conversation_id: str,
    text: str,
    *,
    role: str = "system",
    buttons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record a message the app words itself; returns it Rasa-shaped, to send on the channel."""
    msg: dict[str, Any] = {"recipient_id": conversation_id, "text": text}
    if buttons:
        msg["buttons"] = buttons
    record_bot_messages(session, conversation_id, [msg], role=role)
    return msg


def history(session: Session, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[ChatMessage]:
    return list(
        session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id)
            .limit(limit)
        )
    )


def to_json(msg: ChatMessage) -> dict[str, Any]:
    """The shape the web chat and the agent console read (text is plain; the page escapes it)."""
    return {
        "id": msg.id,
        "role": msg.role,
        "text": msg.text or "",
        "buttons": msg.payload.get("buttons", []),
        "attachment": msg.payload.get("attachment"),
        "at": msg.created_at.isoformat(),
    }


def to_staff_json(msg: ChatMessage) -> dict[str, Any]:
    """``to_json`` as staff may see it (the live handover queue): resident IDs, mobiles, cards and
    e-mails masked in the text, the buttons and the attachment name, whatever the separators."""
    data = to_json(msg)
    data["text"] = masking.mask_text(data["text"])
    data["buttons"] = masking.mask_value("buttons", data["buttons"])
    if data["attachment"]:
        data["attachment"] = masking.mask_text(str(data["attachment"]))
    return data
