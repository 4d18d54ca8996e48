"""Abuse limits of the customer-facing web endpoints, on the ``limits`` library.

Rate limits use a moving window per kind of request (chat message, upload, event stream), per chat
session and per client (the connecting address), from settings such as ``"20/minute;200/hour"``.
The counts live in ``rate_limit_storage_uri``: ``memory://`` for one app process, ``redis://...``
when several processes must share them. Open event streams are also capped at once per session and
per client (``OpenStreams``, per process: a stream lives in the process that serves it).

A refused request gets HTTP 429 with a polite Chinese ``detail`` and a ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse_many, storage, strategies

from bot.config import Settings

KINDS = ("chat", "upload", "stream")
TOO_MANY_ZH = {
    "chat": "您发送消息的速度有点快，请稍等片刻再发送。如需帮助，也可以稍后说“转人工”。",
    "upload": "您上传文件的次数较多，请稍后再试。如材料较多，可以稍后继续上传，或联系人工客服协助。",
    "stream": "您打开的聊天窗口较多，请关闭多余的窗口后刷新页面。",
}


def client_key(request: Request) -> str:
    """The client a request comes from: its address (``ip:<host>``)."""
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


class TooManyRequests(HTTPException):
    def __init__(self, kind: str, retry_after: int = 60) -> None:
        super().__init__(
            status_code=429, detail=TOO_MANY_ZH[kind], headers={"Retry-After": str(max(retry_after, 1))}
        )


@dataclass
class RateLimiter:
    """Moving-window limits per kind and scope (``session`` / ``client``)."""

    settings: Settings
    limiter: strategies.MovingWindowRateLimiter = field(init=False)
    items: dict[tuple[str, str], list[RateLimitItem]] = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(self.settings.rate_limit_storage_uri)
        )
        self.items = {
            (kind, scope): parse_many(getattr(self.settings, f"rate_limit_{kind}_{scope}"))
            for kind in KINDS
            for scope in ("session", "client")
        }

    def hit(self, kind: str, *, session: str | None, client: str) -> None:
        """Count one request of ``kind``; raises ``TooManyRequests`` when a limit is reached."""
        keys = [("client", client)] + ([("session", session)] if session else [])
        for scope, key in keys:
            for item in self.items[(kind, scope)]:
                if not self.limiter.hit(item, kind, scope, key):
                    reset = self.limiter.get_window_stats(item, kind, scope, key).reset_time
                    raise TooManyRequests(kind, int(reset - time.time()) + 1)


@dataclass
class OpenStreams:
    """Event streams open right now, per session and per client (this process)."""

    per_session: int
    per_client: int
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, session: str, client: str) -> Callable[[], None]:
        """Take a slot (or raise ``TooManyRequests``); returns the release, safe to call twice."""
        skey, ckey = f"s:{session}", f"c:{client}"
        with self.lock:
            if self.counts[skey] >= self.per_session or self.counts[ckey] >= self.per_client:
                raise TooManyRequests("stream", 5)
            self.counts[skey] += 1
            self.counts[ckey] += 1
        released = False

        def release() -> None:
            nonlocal released
            with self.lock:
                if released:
                    return
                released = True
                for key in (skey, ckey):
                    self.counts[key] -= 1
                    if self.counts[key] <= 0:
                        del self.counts[key]

        return release


def limiter(request: Request) -> RateLimiter:
    """The app's rate limiter (made on first use, one per app)."""
    state = request.app.state
    found = getattr(state, "rate_limiter", None)
    if found is None:
        found = state.rate_limiter = RateLimiter(state.settings)
    return found


def open_streams(request: Request) -> OpenStreams:
    state = request.app.state
    found = getattr(state, "open_streams", None)
    if found is None:
        settings: Settings = state.settings
        found = state.open_streams = OpenStreams(
            settings.stream_max_open_per_session, settings.stream_max_open_per_client
        )
    return found
