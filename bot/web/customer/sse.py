"""Server-Sent Events for the web chat and the agents' live page, on starlette's StreamingResponse.

A stream says ``retry:``, sends what its ``poll`` finds, then sleeps until a wake-up for one of
its topics (``bot.channels.push``: a message of the conversation was committed in this process)
or ``push.RECHECK_SECONDS`` (a message stored by another process), sending a keep-alive comment
when nothing came. ``poll`` opens its own short database session: nothing is held while the
stream waits. Every message event carries ``id:`` (the last transcript id it holds), so the
browser's automatic reconnect resumes with ``Last-Event-ID`` without loss or duplicates.

A stream ends by itself after ``MAX_SECONDS`` (the browser reconnects; staff sessions are then
checked again) or when the client goes away: starlette cancels the generator at its ``await`` and
``EventStreamResponse`` closes it, which drops the subscription. No task outlives the request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
from fastapi import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from bot.channels import push

RETRY_MS = 3000
MAX_SECONDS = 300.0
KEEP_ALIVE = ": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

# poll() -> (events to send, whether more is waiting right now)
Poll = Callable[[], tuple[list[str], bool]]


def format_event(data: Any, *, event_id: int | None = None, event: str | None = None) -> str:
    """One event; ``data`` as one line of JSON (JSON text never holds a raw newline)."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def resume_after(request: Request, after: int) -> int:
    """Where to start: the ``Last-Event-ID`` of a reconnect, or the page's ``after``."""
    raw = request.headers.get("last-event-id", "").strip()
    last = int(raw) if raw.isdigit() else 0
    return max(after, last, 0)


async def event_stream(topics: Sequence[str], poll: Poll) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_SECONDS
    yield f"retry: {RETRY_MS}\n\n"
    with push.signals.subscribe(*topics) as waiter:  # before the first poll: no wake-up is missed
        while True:
            events, more = await anyio.to_thread.run_sync(poll)  # database reads off the event loop
            for item in events:
                yield item
            if more:
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if not await waiter.wait(min(push.RECHECK_SECONDS, remaining)):
                yield KEEP_ALIVE


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` that always closes its generator, whichever way the response ends."""

    def __init__(self, stream: AsyncIterator[str], on_close: Callable[[], None] | None = None) -> None:
        super().__init__(stream, media_type="text/event-stream", headers=HEADERS)
        self._stream = stream
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                aclose = getattr(self._stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                if self._on_close is not None:  # e.g. give back the open-stream slot
                    self._on_close()
