"""The ticket desk pages under ``/desk``: the queue, the ticket page and its action forms, audit.

``include_staff(app)`` wires everything staff-facing: login, the desk, the JSON API, the agent
console and the reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from bot import labels_zh
from bot.errors import DomainError, InvalidInput, PermissionDenied
from bot.labels_zh import TEAM_LABELS_ZH
from bot.models import StaffRole, StaffUser, Team, TicketPriority, TicketStatus, TicketType
from bot.services import audit
from bot.services.staff import team_members
from bot.services.tickets import access, notify, queries, workflow
from bot.services.transcripts import transcript
from bot.web import auth
from bot.web.api_tickets import _staff_by_username, parse_filters
from bot.web.auth import check_csrf_value, get_session, page_user, staff_context, templates
from bot.web.staff_common import audit_view, notify_and_record, tx

R = StaffRole
DESK_ROLES = (R.PROCESSOR, R.REVIEWER, R.SUPERVISOR)
STATIC_DIR = Path(__file__).resolve().parent / "static" / "staff"

PRIORITY_LABELS_ZH = {
    TicketPriority.LOW: "低",
    TicketPriority.NORMAL: "普通",
    TicketPriority.HIGH: "高",
    TicketPriority.URGENT: "紧急",
}
EVENT_LABELS_ZH = {
    "created": "创建工单",
    "take": "领取",
    "assign": "分派",
    "comment": "备注",
    "request_documents": "要求补充材料",
    "resume": "恢复处理",
    "process": "经办完成,提交复核",
    "approve": "审批通过",
    "reject": "驳回",
    "close": "关闭",
    "notified": "通知客户",
    "routed": "转交小组",
    "document": "收到材料",
}
PAYLOAD_LABELS_ZH = {
    "kind": "业务",
    "policy_number": "保单号",
    "customer_id": "客户编号",
    "before": "变更前",
    "after": "变更后",
    "changed": "变更项",
    "account_holder": "账户户名",
    "opened_by": "创建坐席",
    "beneficiaries": "新受益人",
    "name": "姓名",
    "relationship": "与被保险人关系",
    "id_number": "身份证号",
    "share_pct": "受益比例(%)",
    "order": "受益顺序",
    "mobile": "手机号",
    "email": "电子邮箱",
    "address": "联系地址",
    "bank_name": "开户行",
    "bank_account": "银行账号",
    "reason": "原因",
    "description": "描述",
    "note": "说明",
    "changes": "变更内容",
}

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
def queue_page(
    request: Request, user: StaffUser = Depends(page_user(*DESK_ROLES)), db: Session = Depends(get_session)
) -> Response:
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
    notice: str = "",
    error: str = "",
    user: StaffUser = Depends(page_user(*DESK_ROLES)),
    db: Session = Depends(get_session),
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
            transcript=transcript(request.app.state.settings.tracker_database_url, ticket.conversation_id),
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
    user: StaffUser = Depends(page_user(*DESK_ROLES)),
) -> Response:
    form = await request.form()
    check_csrf_value(request, str(form.get("csrf_token") or ""))
    action = str(form.get("action") or "")
    note = str(form.get("note") or "")
    spec: dict[str, Any] | None = None
    try:
        with tx(request) as db:
            ticket = access.load_for(db, user, number, for_update=True)
            if action == "take":
                workflow.take(db, user, ticket)
            elif action == "assign":
                workflow.assign(db, user, ticket, _staff_by_username(db, str(form.get("assignee") or "")))
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
    except DomainError as exc:
        return _back(number, error=exc.message_zh)
    result = await notify_and_record(request, spec)
    label = labels_zh.ACTION_LABELS_ZH.get(action, {"comment": "备注", "notify": "通知"}.get(action, action))
    notice = f"已完成:{label}。"
    if result is not None:
        notice += " 已通知客户。" if result.get("delivered") else " 客户通知暂未送达,可稍后点击「重新通知」。"
    return _back(number, notice=notice)


@router.get("/desk/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    verify: str = "",
    user: StaffUser = Depends(page_user(R.SUPERVISOR)),
    db: Session = Depends(get_session),
) -> Response:
    result = None
    if verify:
        broken = audit.verify_chain(db)
        result = {"intact": broken is None, "broken": broken}
    return templates.TemplateResponse(request, "desk/audit.html", staff_context(request, user, result=result))


def include_staff(app: FastAPI) -> None:
    """Login, desk pages, the JSON API, the agent console and reports."""
    from bot.web import agent, api_tickets, reports

    auth.install(app)
    app.include_router(router)
    app.include_router(api_tickets.router)
    app.include_router(agent.router)
    app.include_router(agent.api_router)
    app.include_router(reports.router)
    app.mount("/staff-static", StaticFiles(directory=str(STATIC_DIR)), name="staff-static")
