"""Helpers to run custom actions the way the Rasa server does, without a Rasa server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
_DOMAIN: dict[str, Any] | None = None


def domain() -> dict[str, Any]:
    global _DOMAIN
    if _DOMAIN is None:
        _DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return _DOMAIN


def make_tracker(
    sender_id: str = "web:test-session",
    slots: dict[str, Any] | None = None,
    intent: str = "inform",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    all_slots = {name: spec.get("initial_value") for name, spec in (domain().get("slots") or {}).items()}
    all_slots.update(slots or {})
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
        },
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run_action(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain()))
    return list(events), dispatcher


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
