"""Figures for the reports page: tickets, claims and conversations.

Ticket and claim figures come from the app database; conversation figures from Rasa's tracker
store. Containment is the share of conversations that ended without a ticket for a human
(a handover or a complaint).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Claim, Ticket, TicketType
from bot.models.base import utcnow
from bot.services.tickets.rules import OPEN_STATUSES

FALLBACK_INTENTS = {"nlu_fallback"}


class TrackerEvents(Protocol):
    """Rasa's tracker store, read-only (``bot.channels.tracker_transcripts.TrackerStore``)."""

    def user_events(self, since_ts: float) -> list[tuple[str, float, str | None]]: ...

    def fallback_actions(self, since_ts: float) -> list[tuple[str, float]]: ...


HUMAN_TICKET_TYPES = (TicketType.HUMAN_HANDOVER, TicketType.COMPLAINT)


def ticket_figures(session: Session) -> dict[str, Any]:
    by_type: dict[Any, int] = dict(
        session.execute(select(Ticket.ticket_type, func.count()).group_by(Ticket.ticket_type)).tuples().all()
    )
    by_status: dict[Any, int] = dict(
        session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).tuples().all()
    )
    now = utcnow()
    breached = (
        session.scalar(select(func.count()).where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_due_at < now))
        or 0
    )
    open_total = sum(by_status.get(s, 0) for s in OPEN_STATUSES)
    claims: dict[Any, int] = dict(
        session.execute(select(Claim.status, func.count()).group_by(Claim.status)).tuples().all()
    )
    return {
        "by_type": {k.value: v for k, v in by_type.items()},
        "by_status": {k.value: v for k, v in by_status.items()},
        "sla": {"breached": breached, "within": open_total - breached},
        "claims_by_status": {k.value: v for k, v in claims.items()},
    }


def conversation_figures(
    session: Session, tracker: TrackerEvents, *, days: int = 30, tz: str = "Asia/Shanghai"
) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    since = datetime.now(timezone.utc) - timedelta(days=days)
    events = tracker.user_events(since.timestamp())
    per_day: Counter[str] = Counter()
    first_day: dict[str, str] = {}
    intents: Counter[str] = Counter()
    fallback_msgs = 0
    for sender, ts, intent in events:
        if intent and intent.startswith("EXTERNAL_"):
            continue  # bot-initiated (reminders, ticket updates), not a customer message
        if sender not in first_day:
            first_day[sender] = datetime.fromtimestamp(ts, tz=zone).date().isoformat()
        intents[intent or "(none)"] += 1
        if intent in FALLBACK_INTENTS:
            fallback_msgs += 1
    for day in first_day.values():
        per_day[day] += 1
    fallback_msgs += len(tracker.fallback_actions(since.timestamp()))
    total_msgs = sum(intents.values())
    conversations = set(first_day)
    human = set()
    if conversations:
        rows = session.scalars(
            select(Ticket.conversation_id).where(
                Ticket.ticket_type.in_(HUMAN_TICKET_TYPES), Ticket.conversation_id.is_not(None)
            )
        )
        human = {c for c in rows if c in conversations}
    contained = len(conversations) - len(human)
    return {
        "days": days,
        "per_day": dict(sorted(per_day.items())),
        "intents": dict(intents.most_common(15)),
        "messages": total_msgs,
        "fallback_rate": (fallback_msgs / total_msgs) if total_msgs else None,
        "conversations": len(conversations),
        "contained": contained,
        "containment_rate": (contained / len(conversations)) if conversations else None,
    }


def bar_chart_svg(title: str, data: dict[str, int | float], *, horizontal: bool = False) -> str:
    """A bar chart as inline SVG (pygal, rendered on the server; no scripts, no CDN)."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#33414f",
        foreground_strong="#1f2d3a",
        foreground_subtle="#8a96a3",
        colors=("#2f6fb0", "#e08a2c", "#3a9a6b", "#b8453b", "#7d5ba6"),
        font_family="'Noto Sans CJK SC','Microsoft YaHei',sans-serif",
        title_font_size=16,
        label_font_size=12,
        major_label_font_size=12,
    )
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = cls(
        style=style,
        title=title,
        show_legend=False,
        js=[],
        disable_xml_declaration=True,
        width=640,
        height=320 if not horizontal else max(240, 28 * len(data) + 80),
        x_label_rotation=0 if horizontal else 30,
        print_values=True,
        truncate_label=-1,
        no_data_text="暂无数据",
        min_scale=1,
        max_scale=6,
    )
    chart.x_labels = list(data.keys())
    chart.add(title, list(data.values()))
    svg: str = chart.render(is_unicode=True)
    return svg


def pie_chart_svg(title: str, data: dict[str, int | float]) -> str:
    import pygal
    from pygal.style import Style

    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        colors=("#3a9a6b", "#b8453b", "#2f6fb0", "#e08a2c"),
        font_family="'Noto Sans CJK SC','Microsoft YaHei',sans-serif",
        title_font_size=16,
        legend_font_size=12,
    )
    chart = pygal.Pie(
        style=style,
        title=title,
        js=[],
        disable_xml_declaration=True,
        width=420,
        height=300,
        inner_radius=0.45,
    )
    for label, value in data.items():
        chart.add(label, value)
    svg: str = chart.render(is_unicode=True)
    return svg
