"""Wake-ups for the live streams (the web chat, the agents' live queue) when something is stored.

``transcript.record`` marks the session with the message's conversation (``mark``); once that
session COMMITS, every stream of this process waiting on that topic wakes up, whatever thread or
event loop it runs in (a commit in a worker thread or in another hub is seen too). Only after the
commit: a stream woken earlier would look before the row is visible and miss it.

Messages stored by another process (``python -m bot reminders run``, a second app replica) wake
nobody here, so a stream also looks in the database every ``RECHECK_SECONDS`` on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

RECHECK_SECONDS = 10.0  # how long a stream trusts the wake-ups before it looks in the database
LIVE_QUEUE = "live-queue"  # topic: the live handover queue changed
_INFO_KEY = "push_topics"


class Waiter:
    """One stream's alarm clock: set from any thread, awaited in the stream's own event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the stream's loop is closed: nobody listens
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken, False after ``timeout`` seconds; re-armed either way."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._event.clear()


class Signals:
    """Waiters by topic (a conversation id, or ``LIVE_QUEUE``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}

    @contextmanager
    def subscribe(self, *topics: str) -> Iterator[Waiter]:
        waiter = Waiter()
        with self._lock:
            for topic in topics:
                self._waiters.setdefault(topic, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                for topic in topics:
                    waiters = self._waiters.get(topic)
                    if waiters is not None:
                        waiters.discard(waiter)
                        if not waiters:
                            del self._waiters[topic]

    def notify(self, topics: Iterable[str]) -> None:
        with self._lock:
            waiters = {w for topic in topics for w in self._waiters.get(topic, ())}
        for waiter in waiters:
            waiter.wake()

    def listening(self, topic: str) -> int:
        with self._lock:
            return len(self._waiters.get(topic, ()))


signals = Signals()


def mark(session: Session, *topics: str) -> None:
    """Wake the streams of ``topics`` once ``session`` commits."""
    session.info.setdefault(_INFO_KEY, set()).update(topics)


def _after_commit(session: Session) -> None:
    topics = session.info.pop(_INFO_KEY, None)
    if topics:
        signals.notify(topics)


def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


if not event.contains(Session, "after_commit", _after_commit):
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
