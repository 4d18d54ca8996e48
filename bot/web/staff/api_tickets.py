"""The ticket desk's JSON API under ``/api`` (documented at ``/docs``).

Authentication is the staff session cookie; every write needs the ``X-CSRF-Token`` header from
``GET /api/me``. Every id-taking endpoint checks the object against the user (a processor asking
for another team's ticket gets 404), and no response carries an unmasked ID number, mobile or
bank account.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.channels.tracker_transcripts import TrackerStore
from bot.errors import InvalidInput, PermissionDenied
from bot.models import AuditEntry, StaffRole, StaffUser, Ticket
from bot.services import audit, staff
from bot.services.staff import role_label
from bot.services.tickets import access, notify, queries, workflow
from bot.web.deps import (
    CurrentStaff,
    DeskApiUser,
    NotifierDep,
    SessionDep,
    SettingsDep,
    SupervisorApiUser,
    TransactionsDep,
)
from bot.web.staff.cookies import csrf_token
from bot.web.staff.filters import parse_filters
from bot.web.staff.notifications import audit_view, notify_and_record

R = StaffRole

router = APIRouter(prefix="/api", tags=["ticket desk"])


class NoteBody(BaseModel):
    note: str | None = Field(default=None, max_length=2000, description="备注/说明")


class CommentBody(BaseModel):
    note: str = Field(max_length=2000, description="备注内容")


class AssignBody(BaseModel):
    assignee: str = Field(description="经办人用户名")


class RequestDocumentsBody(BaseModel):
    documents: list[str] = Field(description="需要客户补充的材料(目录代码或名称)")
    note: str | None = Field(default=None, max_length=2000)


class ReasonBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="审批意见/驳回原因")


@router.get("/me", summary="当前登录的员工与 CSRF 令牌")
def me(request: Request, user: CurrentStaff) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "team": user.team.value if user.team else None,
        "role_label": role_label(user),
        "csrf_token": csrf_token(request),
    }


@router.get("/tickets", summary="工单队列(筛选、按单号搜索、游标分页)")
def list_tickets(request: Request, user: DeskApiUser, db: SessionDep) -> dict[str, Any]:
    page = queries.queue(db, user, parse_filters(request.query_params))
    return {
        "items": [queries.ticket_summary(t) for t in page.rows],
        "next_cursor": page.next_cursor,
    }


@router.get("/tickets/{number}", summary="工单详情(含脱敏的客户与保单信息、会话记录、材料清单、历史)")
def get_ticket(number: str, user: DeskApiUser, db: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    ticket = access.load_for(db, user, number)
    detail = queries.ticket_detail(db, ticket)
    detail["transcript"] = TrackerStore(settings.tracker_database_url).transcript(ticket.conversation_id)
    detail["allowed_actions"] = access.allowed_actions(user, ticket)
    audit_view(db, user, ticket, what="ticket_api")
    return detail


class TicketAction:
    """Runs one staff action on a ticket in its own transaction, then tells the customer."""

    def __init__(self, tx: TransactionsDep, notifier: NotifierDep) -> None:
        self.tx, self.notifier = tx, notifier

    async def __call__(
        self, user: StaffUser, number: str, fn: Callable[[Session, Ticket], dict[str, Any] | None]
    ) -> dict[str, Any]:
        def run() -> tuple[dict[str, Any] | None, dict[str, Any]]:  # on a worker thread
            with self.tx() as db:
                ticket = access.load_for(db, user, number, for_update=True)
                return fn(db, ticket), queries.ticket_summary(ticket)

        spec, summary = await anyio.to_thread.run_sync(run)
        result = await notify_and_record(self.tx, self.notifier, spec)
        return _action_out(summary, result)


ActDep = Annotated[TicketAction, Depends(TicketAction)]


def _action_out(summary: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"ticket": summary}
    if result is not None:
        out["notification"] = {
            "delivered": result.get("delivered", False),
            "messages": result.get("messages", []),
        }
    return out


@router.post("/tickets/{number}/take", summary="领取工单")
async def take(number: str, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.take(db, user, t))


@router.post("/tickets/{number}/assign", summary="分派/改派工单")
async def assign(number: str, body: AssignBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(
        user,
        number,
        lambda db, t: workflow.assign(db, user, t, staff.by_username(db, body.assignee)),
    )


@router.post("/tickets/{number}/comment", summary="添加备注")
async def comment(number: str, body: CommentBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.comment(db, user, t, body.note))


@router.post("/tickets/{number}/request-documents", summary="要求客户补充材料(会通知客户)")
async def request_documents(
    number: str, body: RequestDocumentsBody, user: DeskApiUser, act: ActDep
) -> dict[str, Any]:
    return await act(
        user,
        number,
        lambda db, t: workflow.request_documents(db, user, t, body.documents, body.note),
    )


@router.post("/tickets/{number}/resume", summary="材料已收齐,恢复处理")
async def resume(number: str, body: NoteBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.resume(db, user, t, body.note))


@router.post("/tickets/{number}/process", summary="经办完成,提交复核(需双人复核的业务)")
async def process(number: str, body: NoteBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.process(db, user, t, body.note))


@router.post("/tickets/{number}/approve", summary="审批通过(复核通过时变更同步写入保单)")
async def approve(number: str, body: ReasonBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.approve(db, user, t, body.reason))


@router.post("/tickets/{number}/reject", summary="驳回(须填写原因)")
async def reject(number: str, body: ReasonBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.reject(db, user, t, body.reason or ""))


@router.post("/tickets/{number}/close", summary="关闭工单")
async def close(number: str, body: NoteBody, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    return await act(user, number, lambda db, t: workflow.close(db, user, t, body.note))


@router.post("/tickets/{number}/notify", summary="重新通知客户最近一次处理结果")
async def renotify(number: str, user: DeskApiUser, act: ActDep) -> dict[str, Any]:
    def spec(db: Session, ticket: Ticket) -> dict[str, Any] | None:
        if "comment" not in access.allowed_actions(user, ticket) or user.role is R.REVIEWER:
            raise PermissionDenied("notify")
        found = notify.last_notification_spec(ticket)
        if found is None:
            raise InvalidInput("nothing to notify", message_zh="该工单还没有需要通知客户的处理结果。")
        return found

    return await act(user, number, spec)


# ---------------------------------------------------------------- audit


AUDIT_COLUMNS = [
    "id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "customer_id",
    "before",
    "after",
    "entry_hash",
]


def audit_csv(entries: list[AuditEntry]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(AUDIT_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.actor,
                e.action,
                e.object_type,
                e.object_id,
                e.customer_id if e.customer_id is not None else "",
                audit.canonical(e.before) if e.before is not None else "",
                audit.canonical(e.after) if e.after is not None else "",
                e.entry_hash,
            ]
        )
    return "\ufeff" + buf.getvalue()  # BOM: Excel opens the Chinese text correctly


def _audited_export(
    db: Session,
    user: StaffUser,
    entries: list[AuditEntry],
    what: tuple[str, str | int, int | None],
    filename: str,
) -> Response:
    """The entries as a CSV download; the export itself is audited. ``what``: (object type, id, customer)."""
    object_type, object_id, customer_id = what
    audit.record(
        db,
        actor=access.actor_label(user),
        action="export_audit",
        object_type=object_type,
        object_id=object_id,
        customer_id=customer_id,
    )
    return Response(
        audit_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/tickets/{number}/audit.csv", summary="导出工单审计记录(CSV,主管)")
def export_ticket_audit(number: str, user: SupervisorApiUser, db: SessionDep) -> Response:
    ticket = access.load_for(db, user, number)
    entries = audit.ticket_entries(db, ticket)
    what = ("ticket", ticket.number, ticket.customer_id)
    return _audited_export(db, user, entries, what, f"audit-{ticket.number}.csv")


@router.get("/customers/{customer_id}/audit.csv", summary="导出客户审计记录(CSV,主管)")
def export_customer_audit(customer_id: int, user: SupervisorApiUser, db: SessionDep) -> Response:
    entries = audit.customer_entries(db, customer_id)
    what = ("customer", customer_id, customer_id)
    return _audited_export(db, user, entries, what, f"audit-customer-{customer_id}.csv")


@router.get("/audit/verify", summary="校验审计日志哈希链是否完整(主管)")
def verify_audit(user: SupervisorApiUser, db: SessionDep) -> dict[str, Any]:
    broken = audit.verify_chain(db)
    return {
        "intact": broken is None,
        "first_broken_id": broken,
        "checked_at": datetime.now().astimezone().isoformat(),
        "message": "审计日志完整,未发现篡改。"
        if broken is None
        else f"审计日志第 {broken} 条记录校验失败,可能已被篡改。",
    }
