"""What every channel shares: settings, the database, the Rasa client, the Telegram bot, and a
lock per conversation so that one conversation's messages are handled and answered in order.

The app sets the hub in its lifespan; a process without the app (the reminder job, a worker)
gets one built lazily from the settings. Nothing is created at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.rasa_client import RasaClient
from bot.config import Settings, get_settings

if TYPE_CHECKING:
    from telegram import Bot


@dataclass
class ChannelHub:
    settings: Settings
    sessionmaker: sessionmaker[Session]
    rasa: RasaClient
    telegram_bot: Bot | None = None
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """The lock that keeps one conversation's turns in order (FIFO among waiters)."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            if len(self._locks) > 10_000:  # forget idle conversations
                for key in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[key]
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        session = self.sessionmaker()
        try:
            with session.begin():
                yield session
        finally:
            session.close()


_hub: ChannelHub | None = None


def get_hub() -> ChannelHub:
    global _hub
    if _hub is None:
        from bot.db import get_sessionmaker

        settings = get_settings()
        _hub = ChannelHub(settings=settings, sessionmaker=get_sessionmaker(), rasa=RasaClient(settings))
    return _hub


def set_hub(hub: ChannelHub | None) -> None:
    global _hub
    _hub = hub


def channel_and_id(conversation_id: str) -> tuple[str, str]:
    """``telegram:123`` → (``telegram``, ``123``)."""
    channel, _, external = conversation_id.partition(":")
    return channel, external


def message_text(message: dict[str, Any]) -> str:
    return str(message.get("text") or "")
