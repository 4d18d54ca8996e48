"""Read conversations from Rasa's SQL tracker store (the ``events`` table): what the assistant
and the customer said as Rasa recorded it. (``bot.channels.transcript`` is the app's own
transcript of every channel.)

Columns used: sender_id, type_name, timestamp (epoch seconds), intent_name, action_name, data (JSON).
A missing file or table gives an empty transcript, never an error: the desk must work before Rasa
has stored anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot import masking

_ID_RE = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
_ACCOUNT_RE = re.compile(r"(?<![0-9])\d{12,30}(?![0-9])")


def mask_text(value: str) -> str:
    """Mask ID numbers, mobiles and account numbers inside free text typed by a customer."""
    value = _ID_RE.sub(lambda m: masking.mask_id_number(m.group(0)), value)
    value = _MOBILE_RE.sub(lambda m: masking.mask_mobile(m.group(0)), value)
    return _ACCOUNT_RE.sub(lambda m: masking.mask_bank_account(m.group(0)), value)


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:" and not Path(path).exists():
            return None
        return create_engine(
            f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"check_same_thread": False}
        )
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


def tracker_engine(url: str) -> Engine | None:
    engine = _engine(url)
    if engine is None:
        _engine.cache_clear()  # the file may appear later
    return engine


def _rows(url: str, sql: str, params: dict[str, Any]) -> Iterator[Any]:
    engine = tracker_engine(url)
    if engine is None:
        return iter(())
    try:
        with engine.connect() as conn:
            return iter(list(conn.execute(text(sql), params)))
    except SQLAlchemyError:
        return iter(())


def _data(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def transcript(url: str, sender_id: str | None, limit: int = 500) -> list[dict[str, Any]]:
    """The customer's and the assistant's newest ``limit`` messages of one conversation, shown
    oldest first, masked."""
    if not sender_id:
        return []
    out: list[dict[str, Any]] = []
    rows = _rows(
        url,
        "SELECT type_name, timestamp, intent_name, data FROM ("
        "SELECT id, type_name, timestamp, intent_name, data FROM events "
        "WHERE sender_id = :sender AND type_name IN ('user', 'bot') ORDER BY id DESC LIMIT :limit"
        ") AS newest ORDER BY id",
        {"sender": sender_id, "limit": limit},
    )
    for type_name, ts, intent_name, raw in rows:
        data = _data(raw)
        msg = data.get("text") or ""
        if type_name == "user" and str(msg).startswith("/"):
            msg = ""  # a button payload or an external intent, not something the customer typed
        if type_name == "user" and (intent_name or "").startswith("EXTERNAL_"):
            continue
        if type_name == "bot" and not msg:
            buttons = (data.get("data") or {}).get("buttons") or []
            msg = " / ".join(str(b.get("title", "")) for b in buttons if isinstance(b, dict))
        if not msg:
            continue
        out.append(
            {
                "speaker": "customer" if type_name == "user" else "assistant",
                "text": mask_text(str(msg)),
                "at": datetime.fromtimestamp(float(ts or 0), tz=timezone.utc).isoformat(),
                "intent": intent_name if type_name == "user" else None,
            }
        )
    return out


def user_events(url: str, since_ts: float) -> list[tuple[str, float, str | None]]:
    """(sender_id, timestamp, intent_name) of every user message since ``since_ts``."""
    rows = _rows(
        url,
        "SELECT sender_id, timestamp, intent_name FROM events "
        "WHERE type_name = 'user' AND timestamp >= :since ORDER BY timestamp",
        {"since": since_ts},
    )
    return [(str(s), float(t or 0), i) for s, t, i in rows]


def fallback_actions(url: str, since_ts: float) -> list[tuple[str, float]]:
    rows = _rows(
        url,
        "SELECT sender_id, timestamp FROM events WHERE type_name = 'action' "
        "AND action_name = 'action_default_fallback' AND timestamp >= :since",
        {"since": since_ts},
    )
    return [(str(s), float(t or 0)) for s, t in rows]


@dataclass(frozen=True)
class TrackerStore:
    """Rasa's tracker store at ``url``, read-only (what ``bot.services.reports`` reads through)."""

    url: str

    def transcript(self, sender_id: str | None, limit: int = 500) -> list[dict[str, Any]]:
        return transcript(self.url, sender_id, limit)

    def user_events(self, since_ts: float) -> list[tuple[str, float, str | None]]:
        return user_events(self.url, since_ts)

    def fallback_actions(self, since_ts: float) -> list[tuple[str, float]]:
        return fallback_actions(self.url, since_ts)
