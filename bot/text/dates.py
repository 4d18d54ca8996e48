"""Chinese dates and times as customers type them ("昨天下午三点", "11月20日", "上周五", "前天晚上").

``parse_incident_time`` reads relative and absolute dates in the service's time zone
(Asia/Shanghai by default) and returns a timezone-aware datetime, or None when it finds no date.
It never guesses a date from a bare number; a date without a time of day keeps ``has_time`` False.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.text.zh_numbers import NUMBER_PATTERN, cn_number

DEFAULT_TZ = "Asia/Shanghai"

_NUM = NUMBER_PATTERN

_WEEKDAYS = {
    "一": 0,
    "1": 0,
    "二": 1,
    "2": 1,
    "三": 2,
    "3": 2,
    "四": 3,
    "4": 3,
    "五": 4,
    "5": 4,
    "六": 5,
    "6": 5,
    "日": 6,
    "天": 6,
    "七": 6,
    "7": 6,
}

# Period words → (default hour, whether an hour 1–11 means p.m.)
_PERIODS: list[tuple[str, int, bool]] = [
    ("凌晨", 3, False),
    ("半夜", 0, False),
    ("深夜", 23, True),
    ("早上", 8, False),
    ("早晨", 8, False),
    ("清晨", 7, False),
    ("一早", 8, False),
    ("上午", 10, False),
    ("中午", 12, True),
    ("下午", 15, True),
    ("午后", 14, True),
    ("傍晚", 18, True),
    ("晚上", 20, True),
    ("夜里", 22, True),
    ("夜间", 22, True),
    ("晚间", 20, True),
    ("今早", 8, False),
    ("昨早", 8, False),
    ("今晚", 20, True),
    ("昨晚", 20, True),
    ("早", 8, False),
    ("晚", 20, True),
]


@dataclass(frozen=True)
class ParsedTime:
    at: datetime  # timezone-aware, in the service's zone
    has_time: bool  # False when only a day was given

    def to_text_zh(self) -> str:
        if self.has_time:
            return f"{self.at:%Y年%m月%d日 %H:%M}"
        return f"{self.at:%Y年%m月%d日}"


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shift_month(d: date, months: int) -> tuple[int, int]:
    index = d.year * 12 + (d.month - 1) + months
    return index // 12, index % 12 + 1


def _parse_day(text: str, today: date) -> date | None:
    m = re.search(rf"(\d{{4}})\s*[年\-/.]\s*({_NUM})\s*[月\-/.]\s*({_NUM})\s*[日号]?", text)
    if m:
        y, mo, d = int(m.group(1)), cn_number(m.group(2)), cn_number(m.group(3))
        return _safe_date(y, mo, d) if mo and d else None
    m = re.search(rf"(上上|上|这|本|下)?个?月\s*({_NUM})\s*[日号]", text)
    if m and (m.group(1) or "月" in text[: m.start(2)]):
        prefix = m.group(1)
        day = cn_number(m.group(2))
        if prefix is not None and day:
            offset = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}[prefix]
            y, mo = _shift_month(today, offset)
            return _safe_date(y, mo, day)
    m = re.search(rf"({_NUM})\s*月\s*({_NUM})\s*[日号]?", text)
    if m:
        mo, d = cn_number(m.group(1)), cn_number(m.group(2))
        if not mo or not d:
            return None
        found = _safe_date(today.year, mo, d)
        if found and found > today:
            found = _safe_date(today.year - 1, mo, d)
        return found
    m = re.search(r"(?<![\d:])(\d{1,2})[/](\d{1,2})(?![\d:])", text)
    if m:
        found = _safe_date(today.year, int(m.group(1)), int(m.group(2)))
        if found and found > today:
            found = _safe_date(today.year - 1, int(m.group(1)), int(m.group(2)))
        return found
    m = re.search(r"(上上|上|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天七1-7])", text)
    if m:
        weekday = _WEEKDAYS[m.group(2)]
        monday = today - timedelta(days=today.weekday())
        weeks = {"上上": -2, "上": -1, "这": 0, "本": 0, None: 0}[m.group(1)]
        found = monday + timedelta(weeks=weeks, days=weekday)
        if m.group(1) is None and found > today:
            found -= timedelta(weeks=1)
        return found
    m = re.search(rf"({_NUM})\s*天(?:之)?前", text)
    if m:
        n = cn_number(m.group(1))
        return today - timedelta(days=n) if n is not None else None
    for words, offset in (
        (("大前天",), -3),
        (("前天", "前日"), -2),
        (("昨天", "昨日", "昨晚", "昨早", "昨夜"), -1),
        (("今天", "今日", "今早", "今晚", "今天早上", "刚才", "刚刚", "今儿", "当天", "这会"), 0),
    ):
        if any(w in text for w in words):
            return today + timedelta(days=offset)
    m = re.search(rf"(?<![月\d])({_NUM})\s*[日号](?!\w*[月])", text)
    if m:
        d = cn_number(m.group(1))
        if d:
            found = _safe_date(today.year, today.month, d)
            if found and found > today:
                y, mo = _shift_month(today, -1)
                found = _safe_date(y, mo, d)
            return found
    return None


def _parse_clock(text: str) -> tuple[int, int] | None:
    period = next(((hour, pm) for word, hour, pm in _PERIODS if word in text), None)
    hour: int | None = None
    minute = 0
    m = re.search(r"(\d{1,2})\s*[:：]\s*(\d{2})", text)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
    else:
        m = re.search(rf"({_NUM})\s*[点时](?:\s*(半|一刻|三刻|({_NUM})\s*分?))?", text)
        if m:
            hour = cn_number(m.group(1))
            if m.group(2) == "半":
                minute = 30
            elif m.group(2) == "一刻":
                minute = 15
            elif m.group(2) == "三刻":
                minute = 45
            elif m.group(3):
                minute = cn_number(m.group(3)) or 0
    if hour is None:
        return (period[0], 0) if period else None
    if period and period[1] and 1 <= hour < 12:
        hour += 12
    if hour == 24:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return hour, minute


def parse_incident_time(text: str, now: datetime | None = None, tz: str = DEFAULT_TZ) -> ParsedTime | None:
    """The date (and time of day, if given) in ``text``, relative to ``now``; None without a date."""
    if not text:
        return None
    zone = ZoneInfo(tz)
    local_now = (now or datetime.now(zone)).astimezone(zone)
    cleaned = re.sub(r"\s+", " ", text.strip())
    if re.search(r"刚才|刚刚|就刚|刚发生", cleaned) and not re.search(r"[点时:：]", cleaned):
        return ParsedTime(local_now.replace(second=0, microsecond=0), True)
    day = _parse_day(cleaned, local_now.date())
    clock = _parse_clock(cleaned)
    if day is None:
        if clock is None:
            return None
        # "下午三点" alone means today; if that is still ahead, the customer means yesterday.
        day = local_now.date()
        candidate = datetime.combine(day, time(*clock), zone)
        if candidate > local_now:
            day -= timedelta(days=1)
    if clock is None:
        return ParsedTime(datetime.combine(day, time(0, 0), zone), False)
    return ParsedTime(datetime.combine(day, time(*clock), zone), True)
