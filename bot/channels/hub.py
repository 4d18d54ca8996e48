"""What every channel shares: settings, the database, the Rasa client, the senders the channels
registered, and a lock per conversation so that one conversation's messages are handled and
answered in order.

The app builds one hub (``bot.channels.factory.build_hub``) and keeps it on ``app.state.hub``; a
process without the app (the reminder command) builds its own. The hub is handed to whoever needs
it: there is no module-level hub. Nothing is created at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.rasa_client import RasaClient
from bot.config import Settings
from bot.db import transaction

# A channel's way to send Rasa-shaped messages to one of its users: (external id, messages).
Sender = Callable[[str, list[dict[str, Any]]], Awaitable[None]]
T = TypeVar("T")


@dataclass
class ChannelHub:
    settings: Settings
    sessionmaker: sessionmaker[Session]
    rasa: RasaClient
    senders: dict[str, Sender] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    # Turns Rasa had not finished by the reply deadline, per conversation: their answers are
    # delivered when they come, and the conversation's next turn waits for them (order kept).
    late_turns: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    def register_sender(self, channel: str, sender: Sender) -> None:
        """A channel that delivers outside the transcript (Telegram) registers how it sends."""
        self.senders[channel] = sender

    def lock(self, conversation_id: str) -> asyncio.Lock:
        """The lock that keeps one conversation's turns in order (FIFO among waiters)."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            if len(self._locks) > 10_000:  # forget idle conversations
                for key in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[key]
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    def session(self) -> AbstractContextManager[Session]:
        """One transaction: committed on success, rolled back on error."""
        return transaction(self.sessionmaker)

    async def in_transaction(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in one transaction on a worker thread: a database waiting on a lock
        (SQLite's busy timeout) stalls this call only, never the event loop and every customer."""

        def run() -> T:
            with self.session() as session:
                return fn(session)

        return await anyio.to_thread.run_sync(run)


def channel_and_id(conversation_id: str) -> tuple[str, str]:
    """``telegram:123`` → (``telegram``, ``123``)."""
    channel, _, external = conversation_id.partition(":")
    return channel, external
