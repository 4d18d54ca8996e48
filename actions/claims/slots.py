"""The claim form's slots, clearing them, and reading their stored values back."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import INVALID_COUNT_SLOT, slot_text
from bot.clock import local_zone
from bot.models import ClaimType
from bot.services.claims import resolve_claim_type

INCIDENT_SLOTS = ["incident_description", "incident_time", "incident_place", "police_reported", "has_photos"]
CLAIM_SLOTS = [
    "claim_type",
    "claim_policy",
    *INCIDENT_SLOTS,
    "plate_number",
    "claim_confirmed",
    "claim_correction",
]


def reset_claim_slots() -> list[EventType]:
    return [SlotSet(name, None) for name in CLAIM_SLOTS] + [SlotSet(INVALID_COUNT_SLOT, 0.0)]


def claim_type_of(tracker: Tracker) -> ClaimType | None:
    return resolve_claim_type(slot_text(tracker, "claim_type"))


def zone() -> ZoneInfo:
    return local_zone()


def incident_at(value: str | None) -> datetime | None:
    """The stored slot value (ISO date or datetime) back as an aware datetime."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0, 0), zone())
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def incident_text(value: str | None) -> str:
    at = incident_at(value)
    if at is None:
        return ""
    return (
        f"{at:%Y年%m月%d日}" if value and len(value) == 10 else f"{at.astimezone(zone()):%Y年%m月%d日 %H:%M}"
    )
