"""Customer channels: the web chat transcript, live handovers and Telegram delivery bookkeeping."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, enum_column, utcnow


class HandoverStatus(str, enum.Enum):
    WAITING = "waiting"  # in the live queue, no agent yet
    ACTIVE = "active"  # an agent is talking to the customer
    CLOSED = "closed"  # handed back to the assistant


class ChatMessage(Base):
    """One message of a customer conversation, on any channel (the web chat shows these).

    ``role``: ``customer``, ``bot``, ``agent`` or ``system``. ``payload`` holds buttons,
    attachments and the like; ``text`` is plain text, always escaped when shown.
    """

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handover(Base):
    """A conversation handed to a human agent; the assistant is paused until it is closed."""

    __tablename__ = "handovers"
    __table_args__ = (Index("ix_handovers_status_requested_at", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    status: Mapped[HandoverStatus] = mapped_column(enum_column(HandoverStatus, 16))
    reason: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    agent_label: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class TelegramUpdate(Base):
    """An update_id already accepted: Telegram retries deliveries, each is handled once.

    In webhook mode the update itself is stored (``payload``) before Telegram gets its 200, and a
    worker handles it: ``claimed_at`` when a process took it, ``done_at`` when it was handled. An
    update whose claim is old and not done (the process stopped) is taken again."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    payload: Mapped[str | None] = mapped_column(Text, default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class TelegramCallback(Base):
    """A button payload too long for Telegram's 64-byte callback_data, under a short key."""

    __tablename__ = "telegram_callbacks"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
