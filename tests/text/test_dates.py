"""Incident dates and times as customers type them, read in Shanghai time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.text.dates import parse_incident_time

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 18, 30, tzinfo=SH)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("昨天下午三点", datetime(2026, 11, 22, 15, 0), True),
        ("11月20日", datetime(2026, 11, 20, 0, 0), False),
        ("上周五", datetime(2026, 11, 20, 0, 0), False),
        ("前天晚上", datetime(2026, 11, 21, 20, 0), True),
        ("上周五晚上8点半", datetime(2026, 11, 20, 20, 30), True),
        ("2026年11月20日上午10:30", datetime(2026, 11, 20, 10, 30), True),
        ("上个月15号", datetime(2026, 10, 15, 0, 0), False),
        ("十二月一号", datetime(2025, 12, 1, 0, 0), False),  # not yet this year: last year
        ("3天前", datetime(2026, 11, 20, 0, 0), False),
        ("昨晚十一点左右", datetime(2026, 11, 22, 23, 0), True),
        ("刚才", datetime(2026, 11, 23, 18, 30), True),
    ],
)
def test_chinese_dates_are_read_in_shanghai_time(text, expected, has_time):
    parsed = parse_incident_time(text, NOW)
    assert parsed is not None
    assert parsed.at == expected.replace(tzinfo=SH)
    assert parsed.has_time is has_time


@pytest.mark.parametrize("text", ["我不记得了", "在朝阳区", "", "12345"])
def test_text_without_a_date_is_not_a_date(text):
    assert parse_incident_time(text, NOW) is None
