"""The ticket queue's filters, read from query parameters (the desk page and ``GET /api/tickets``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import InvalidInput
from bot.models import Team, TicketPriority, TicketStatus, TicketType
from bot.services.tickets import queries


def _enum(cls: Any, value: str | None, what: str) -> Any:
    if not value:
        return None
    try:
        return cls(value)
    except ValueError as exc:
        raise InvalidInput(what, message_zh=f"筛选条件「{what}」的取值无效。") from exc


def parse_filters(params: Mapping[str, str]) -> queries.QueueFilter:
    statuses: tuple[TicketStatus, ...] = ()
    raw_status = params.get("status") or ""
    if raw_status and raw_status != "open_all":
        statuses = tuple(_enum(TicketStatus, s, "状态") for s in raw_status.split(",") if s)
    assignee = params.get("assignee") or ""
    sort = params.get("sort") or "created"
    if sort not in queries.SORTS:
        sort = "created"
    try:
        limit = int(params.get("limit") or queries.PAGE_SIZE)
        assignee_id = int(assignee) if assignee else None
    except ValueError as exc:
        raise InvalidInput("number") from exc
    return queries.QueueFilter(
        ticket_type=_enum(TicketType, params.get("type"), "类型"),
        statuses=statuses,
        priority=_enum(TicketPriority, params.get("priority"), "优先级"),
        sla_breached=(params.get("sla_breached") or "") in ("1", "true", "on", "yes"),
        assignee_id=assignee_id,
        team=_enum(Team, params.get("team"), "小组"),
        search=(params.get("q") or "")[:40],
        sort=sort,
        cursor=params.get("cursor") or None,
        limit=limit,
    )
