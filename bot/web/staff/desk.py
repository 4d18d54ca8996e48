"""The ticket desk pages under ``/desk``: the queue, the ticket page and its action forms, audit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import labels_zh
from bot.channels.tracker_transcripts import TrackerStore
from bot.errors import DomainError, InvalidInput, PermissionDenied
from bot.labels_zh import EVENT_LABELS_ZH, PAYLOAD_LABELS_ZH, PRIORITY_LABELS_ZH, TEAM_LABELS_ZH
from bot.models import StaffRole, Team, TicketPriority, TicketStatus, TicketType
from bot.services import audit, staff
from bot.services.staff import team_members
from bot.services.tickets import access, notify, queries, workflow
from bot.web.deps import (
    DeskPageUser,
    NotifierDep,
    SessionDep,
    SettingsDep,
    SupervisorPageUser,
    TransactionsDep,
)
from bot.web.staff.cookies import check_csrf_value, staff_context
from bot.web.staff.filters import parse_filters
from bot.web.staff.notifications import audit_view, notify_and_record
from bot.web.templating import templates

R = StaffRole

router = APIRouter(include_in_schema=False)


def labels() -> dict[str, Any]:
    return {
        "status_labels": {s.value: label for s, label in labels_zh.STATUS_LABELS_ZH.items()},
        "type_labels": {t.value: label for t, label in labels_zh.TYPE_LABELS_ZH.items()},
        "team_labels": {t.value: label for t, label in TEAM_LABELS_ZH.items()},
        "priority_labels": {p.value: label for p, label in PRIORITY_LABELS_ZH.items()},
        "event_labels": EVENT_LABELS_ZH,
        "payload_labels": PAYLOAD_LABELS_ZH,
        "action_labels": labels_zh.ACTION_LABELS_ZH,
    }


@router.get("/desk", response_class=HTMLResponse)
def queue_page(request: Request, user: DeskPageUser, db: SessionDep) -> Response:
    error = None
    try:
        filters = parse_filters(request.query_params)
        page = queries.queue(db, user, filters)
    except DomainError as exc:
        error = exc.message_zh
        filters = queries.QueueFilter()
        page = queries.queue(db, user, filters)
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    next_url = None
    if page.next_cursor:
        next_url = "/desk?" + urlencode({**params, "cursor": page.next_cursor})
    teams = [t for t in Team if t in page.teams] if user.role is not R.PROCESSOR else []
    assignees = team_members(db, user.team) if user.role is R.PROCESSOR and user.team else []
    return templates.TemplateResponse(
        request,
        "desk/queue.html",
        staff_context(
            request,
            user,
            rows=[queries.ticket_summary(t) for t in page.rows],
            next_url=next_url,
            first_url="/desk?" + urlencode(params) if filters.cursor else None,
            params=request.query_params,
            error=error,
            statuses=list(TicketStatus),
            types=list(TicketType),
            priorities=list(TicketPriority),
            teams=teams,
            assignees=assignees,
            reviewer=user.role is R.REVIEWER,
            **labels(),
        ),
    )


@router.get("/desk/tickets/{number}", response_class=HTMLResponse)
def ticket_page(
    number: str,
    request: Request,
    user: DeskPageUser,
    db: SessionDep,
    settings: SettingsDep,
    notice: str = "",
    error: str = "",
) -> Response:
    try:
        ticket = access.load_for(db, user, number)
    except DomainError:
        return templates.TemplateResponse(
            request,
            "desk/not_found.html",
            staff_context(request, user, number=number),
            status_code=404,
        )
    detail = queries.ticket_detail(db, ticket)
    audit_view(db, user, ticket, what="ticket_page")
    members = team_members(db, ticket.team) if user.role in (R.PROCESSOR, R.SUPERVISOR) else []
    return templates.TemplateResponse(
        request,
        "desk/ticket.html",
        staff_context(
            request,
            user,
            t=detail,
            transcript=TrackerStore(settings.tracker_database_url).transcript(ticket.conversation_id),
            actions=access.allowed_actions(user, ticket),
            members=members,
            notice=notice[:300],
            error=error[:300],
            **labels(),
        ),
    )


def _back(number: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"/desk/tickets/{number}" + (f"?{query}" if query else ""), status_code=303)


@router.post("/desk/tickets/{number}/action")
async def ticket_action(
    number: str,
    request: Request,
    user: DeskPageUser,
    tx: TransactionsDep,
    notifier: NotifierDep,
) -> Response:
    form = await request.form()
    check_csrf_value(request, str(form.get("csrf_token") or ""))
    action = str(form.get("action") or "")
    note = str(form.get("note") or "")

    def act() -> dict[str, Any] | None:  # one transaction, on a worker thread (off the event loop)
        spec: dict[str, Any] | None = None
        with tx() as db:
            ticket = access.load_for(db, user, number, for_update=True)
            if action == "take":
                workflow.take(db, user, ticket)
            elif action == "assign":
                workflow.assign(db, user, ticket, staff.by_username(db, str(form.get("assignee") or "")))
            elif action == "comment":
                workflow.comment(db, user, ticket, note)
            elif action == "request_documents":
                docs = [str(d) for d in form.getlist("documents")]
                other = str(form.get("other_documents") or "")
                docs += [
                    d.strip() for d in other.replace(",", "、").replace(",", "、").split("、") if d.strip()
                ]
                spec = workflow.request_documents(db, user, ticket, docs, note)
            elif action == "resume":
                workflow.resume(db, user, ticket, note)
            elif action == "process":
                workflow.process(db, user, ticket, note)
            elif action == "approve":
                spec = workflow.approve(db, user, ticket, note)
            elif action == "reject":
                spec = workflow.reject(db, user, ticket, note)
            elif action == "close":
                workflow.close(db, user, ticket, note)
            elif action == "notify":
                if user.role is R.REVIEWER or "comment" not in access.allowed_actions(user, ticket):
                    raise PermissionDenied("notify")
                spec = notify.last_notification_spec(ticket)
            else:
                raise InvalidInput(action)
        return spec

    try:
        spec = await anyio.to_thread.run_sync(act)
    except DomainError as exc:
        return _back(number, error=exc.message_zh)
    result = await notify_and_record(tx, notifier, spec)
    label = labels_zh.ACTION_LABELS_ZH.get(action, {"comment": "备注", "notify": "通知"}.get(action, action))
    notice = f"已完成:{label}。"
    if result is not None:
        notice += " 已通知客户。" if result.get("delivered") else " 客户通知暂未送达,可稍后点击「重新通知」。"
    return _back(number, notice=notice)


@router.get("/desk/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: SupervisorPageUser, db: SessionDep, verify: str = "") -> Response:
    result = None
    if verify:
        broken = audit.verify_chain(db)
        result = {"intact": broken is None, "broken": broken}
    return templates.TemplateResponse(request, "desk/audit.html", staff_context(request, user, result=result))
