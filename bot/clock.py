"""The business's local time: the zone of the settings (Asia/Shanghai by default) and today there.

Stored datetimes are timezone-aware UTC (``bot.models.base.utcnow``); a customer or staff member
reads dates in the business's zone, and due dates, cooling-off and grace periods count its days.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import get_settings


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_today() -> date:
    return datetime.now(local_zone()).date()


def local_date(value: datetime) -> date:
    """The local calendar day of an aware datetime."""
    return value.astimezone(local_zone()).date()
