"""The hotline agent console at ``/agent`` and its JSON endpoints under ``/api/agent``.

The agent starts a call (sender ``hotline:<call id>``) and types what the caller says; the app
sends it to the same Rasa model as the chat and shows the reply as the script line (话术), the
detected intent with its confidence and the slots so far. Once the caller is verified (a row in
``verified_sessions`` for the call's conversation) it shows the masked policy card and the
document checklist. The agent can open a ticket or route the call to a team.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from bot import labels_zh
from bot.channels.rasa_client import RasaUnavailable
from bot.errors import InvalidInput, NotFound
from bot.labels_zh import TEAM_LABELS_ZH
from bot.models import StaffRole, StaffUser, Team, Ticket, TicketType
from bot.services.agent_console import call_state as build_call_state
from bot.services.agent_console import open_call_ticket
from bot.web.deps import ConsoleApiUser, ConsolePageUser, RasaDep, SessionDep, TransactionsDep
from bot.web.staff.cookies import staff_context
from bot.web.templating import templates

R = StaffRole
CALL_ID_RE = re.compile(r"^A(\d+)-[0-9a-f]{12}$")
RASA_DOWN_ZH = "对话引擎暂时无法连接,请按标准话术继续服务客户,稍后再试;如需处理业务,可直接创建工单。"

AGENT_TICKET_TYPES = [t for t in TicketType if t is not TicketType.HUMAN_HANDOVER]

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/agent", tags=["agent console"])


class MessageBody(BaseModel):
    text: str = Field(min_length=1, max_length=1000, description="来电客户所说的话")


class TicketBody(BaseModel):
    ticket_type: TicketType
    note: str | None = Field(default=None, max_length=2000)


class RouteBody(BaseModel):
    team: Team
    note: str | None = Field(default=None, max_length=2000)


def _sender(user: StaffUser, call_id: str) -> str:
    """``hotline:<call id>`` when the call is this agent's (supervisors may open any)."""
    match = CALL_ID_RE.match(call_id)
    if match is None or (user.role is not R.SUPERVISOR and int(match.group(1)) != user.id):
        raise NotFound(call_id, message_zh="未找到该通话。")
    return f"hotline:{call_id}"


@router.get("/agent", response_class=HTMLResponse)
def console_page(request: Request, user: ConsolePageUser) -> Response:
    return templates.TemplateResponse(
        request,
        "agent/console.html",
        staff_context(
            request,
            user,
            ticket_types=[(t.value, labels_zh.TYPE_LABELS_ZH[t]) for t in AGENT_TICKET_TYPES],
            teams=[(t.value, label) for t, label in TEAM_LABELS_ZH.items()],
        ),
    )


@api_router.post("/calls", summary="开始一通来电")
def start_call(user: ConsoleApiUser) -> dict[str, Any]:
    call_id = f"A{user.id}-{secrets.token_hex(6)}"
    return {"call_id": call_id, "sender_id": f"hotline:{call_id}"}


class Console:
    """What the call endpoints share: the agent, the request's session and the app's Rasa client."""

    def __init__(self, user: ConsoleApiUser, db: SessionDep, rasa: RasaDep) -> None:
        self.user, self.db, self.rasa = user, db, rasa

    async def state(self, sender: str, tracker: dict[str, Any] | None) -> dict[str, Any]:
        """The call's state, read (and audited) on a worker thread: off the event loop."""
        return await anyio.to_thread.run_sync(build_call_state, self.db, self.user, sender, tracker)


ConsoleDep = Annotated[Console, Depends(Console)]


@api_router.post("/calls/{call_id}/messages", summary="录入客户所说的话,返回话术、意图与已收集信息")
async def call_message(call_id: str, body: MessageBody, console: ConsoleDep) -> dict[str, Any]:
    sender = _sender(console.user, call_id)
    metadata = {"channel": "hotline", "agent": console.user.username}
    try:
        replies = await console.rasa.send_message(sender, body.text.strip(), metadata=metadata)
        tracker = await console.rasa.tracker(sender)
    except RasaUnavailable:
        return {
            **(await console.state(sender, None)),
            "ok": False,
            "error": RASA_DOWN_ZH,
            "replies": [],
            "script": "",
        }
    texts = [str(m.get("text")) for m in replies if isinstance(m, dict) and m.get("text")]
    state = await console.state(sender, tracker)
    return {
        **state,
        "ok": True,
        "replies": [{"text": t} for t in texts],
        "script": "\n".join(texts),
    }


@api_router.get("/calls/{call_id}", summary="通话当前状态")
async def call_state(call_id: str, console: ConsoleDep) -> dict[str, Any]:
    sender = _sender(console.user, call_id)
    try:
        tracker: dict[str, Any] | None = await console.rasa.tracker(sender)
        error = None
    except RasaUnavailable:
        tracker, error = None, RASA_DOWN_ZH
    return {**(await console.state(sender, tracker)), "ok": error is None, "error": error}


def _ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "ticket_type": ticket.ticket_type.value,
        "type_label": labels_zh.TYPE_LABELS_ZH[ticket.ticket_type],
        "team": ticket.team.value,
        "team_label": TEAM_LABELS_ZH[ticket.team],
        "status": ticket.status.value,
        "message": f"已创建工单 {ticket.number}({labels_zh.TYPE_LABELS_ZH[ticket.ticket_type]}),"
        f"由{TEAM_LABELS_ZH[ticket.team]}跟进处理。",
    }


@api_router.post("/calls/{call_id}/tickets", summary="为本通来电创建工单")
def open_ticket(call_id: str, body: TicketBody, user: ConsoleApiUser, tx: TransactionsDep) -> dict[str, Any]:
    sender = _sender(user, call_id)
    with tx() as db:
        return _ticket_out(open_call_ticket(db, user, sender, body.ticket_type, body.note))


@api_router.post("/calls/{call_id}/route", summary="将本通来电转交给业务小组")
def route_call(call_id: str, body: RouteBody, user: ConsoleApiUser, tx: TransactionsDep) -> dict[str, Any]:
    sender = _sender(user, call_id)
    if not (body.note or "").strip():
        raise InvalidInput("note", message_zh="请简要说明转交原因。")
    with tx() as db:
        return _ticket_out(
            open_call_ticket(db, user, sender, TicketType.HUMAN_HANDOVER, body.note, team=body.team)
        )
