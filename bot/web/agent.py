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
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import labels_zh, masking
from bot.channels.rasa_client import RasaClient, RasaUnavailable
from bot.errors import InvalidInput, NotFound
from bot.labels_zh import TEAM_LABELS_ZH
from bot.models import StaffRole, StaffUser, Team, Ticket, TicketType, VerifiedSession
from bot.models.base import utcnow
from bot.services import audit
from bot.services.tickets import access, queries
from bot.services.tickets.create import create_ticket
from bot.web.auth import api_user, get_session, page_user, staff_context, templates
from bot.web.staff_common import tx

R = StaffRole
CONSOLE_ROLES = (R.AGENT, R.SUPERVISOR)
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


def _client(request: Request) -> RasaClient:
    return RasaClient(
        request.app.state.settings, transport=getattr(request.app.state, "rasa_transport", None)
    )


def _sender(user: StaffUser, call_id: str) -> str:
    """``hotline:<call id>`` when the call is this agent's (supervisors may open any)."""
    match = CALL_ID_RE.match(call_id)
    if match is None or (user.role is not R.SUPERVISOR and int(match.group(1)) != user.id):
        err = NotFound(call_id)
        err.message_zh = "未找到该通话。"
        raise err
    return f"hotline:{call_id}"


def _masked_slots(slots: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in slots.items():
        if value in (None, [], "") or name.startswith("requested_slot") or name == "session_started_metadata":
            continue
        out[name] = masking.mask_value(name, value)
    return out


def _checklist_for(slots: dict[str, Any]) -> dict[str, Any] | None:
    """The document checklist for what the caller is asking about, from the catalog."""
    try:
        import bot.catalog as catalog
    except ImportError:
        return None
    wording = slots.get("claim_type") or slots.get("business_type")
    if not wording:
        return None
    try:
        key = catalog.resolve_business_type(str(wording))
        if key is None:
            return None
        found = catalog.entry(key)
        if found.kind == "claim":
            items = catalog.claim_requirements(key, police_reported=slots.get("police_reported"))
        else:
            items = catalog.service_requirements(key)
    except (KeyError, ValueError, TypeError, AttributeError, LookupError):
        return None
    return {"title": f"{found.title}材料清单", "items": queries._catalog_items(items)}


def _verified(db: Session, sender: str) -> VerifiedSession | None:
    return db.scalars(
        select(VerifiedSession).where(
            VerifiedSession.conversation_id == sender, VerifiedSession.expires_at > utcnow()
        )
    ).first()


def _call_state(db: Session, user: StaffUser, sender: str, tracker: dict[str, Any] | None) -> dict[str, Any]:
    state: dict[str, Any] = {"sender_id": sender, "verified": False, "policy": None, "checklist": None}
    slots: dict[str, Any] = {}
    if tracker:
        latest = tracker.get("latest_message") or {}
        intent = latest.get("intent") or {}
        state["intent"] = intent.get("name")
        state["confidence"] = intent.get("confidence")
        slots = {k: v for k, v in (tracker.get("slots") or {}).items()}
        state["slots"] = _masked_slots(slots)
        state["active_form"] = ((tracker.get("active_loop") or {}).get("name")) or None
    verified = _verified(db, sender)
    if verified is not None:
        state["verified"] = True
        state["policy"] = queries.policy_card(db, verified.policy_id)
        audit.record(
            db,
            actor=access.actor_label(user),
            action="view_personal_data",
            object_type="policy",
            object_id=state["policy"]["number"] if state["policy"] else verified.policy_id,
            customer_id=verified.customer_id,
            after={"view": "agent_console", "conversation": sender},
        )
    state["checklist"] = _checklist_for(slots)
    state["tickets"] = [
        {
            "number": t.number,
            "type": t.ticket_type.value,
            "type_label": labels_zh.TYPE_LABELS_ZH[t.ticket_type],
            "team": t.team.value,
            "status": t.status.value,
            "status_label": labels_zh.STATUS_LABELS_ZH[t.status],
        }
        for t in db.scalars(select(Ticket).where(Ticket.conversation_id == sender).order_by(Ticket.id))
    ]
    return state


@router.get("/agent", response_class=HTMLResponse)
def console_page(request: Request, user: StaffUser = Depends(page_user(*CONSOLE_ROLES))) -> Response:
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
def start_call(user: StaffUser = Depends(api_user(*CONSOLE_ROLES))) -> dict[str, Any]:
    call_id = f"A{user.id}-{secrets.token_hex(6)}"
    return {"call_id": call_id, "sender_id": f"hotline:{call_id}"}


@api_router.post("/calls/{call_id}/messages", summary="录入客户所说的话,返回话术、意图与已收集信息")
async def call_message(
    call_id: str,
    body: MessageBody,
    request: Request,
    user: StaffUser = Depends(api_user(*CONSOLE_ROLES)),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    sender = _sender(user, call_id)
    client = _client(request)
    try:
        replies = await client.send_message(
            sender, body.text.strip(), metadata={"channel": "hotline", "agent": user.username}
        )
        tracker = await client.tracker(sender)
    except RasaUnavailable:
        state = _call_state(db, user, sender, None)
        return {**state, "ok": False, "error": RASA_DOWN_ZH, "replies": [], "script": ""}
    finally:
        await client.aclose()
    texts = [str(m.get("text")) for m in replies if isinstance(m, dict) and m.get("text")]
    state = _call_state(db, user, sender, tracker)
    return {
        **state,
        "ok": True,
        "replies": [{"text": t} for t in texts],
        "script": "\n".join(texts),
    }


@api_router.get("/calls/{call_id}", summary="通话当前状态")
async def call_state(
    call_id: str,
    request: Request,
    user: StaffUser = Depends(api_user(*CONSOLE_ROLES)),
    db: Session = Depends(get_session),
) -> dict[str, Any]:
    sender = _sender(user, call_id)
    client = _client(request)
    try:
        tracker: dict[str, Any] | None = await client.tracker(sender)
        error = None
    except RasaUnavailable:
        tracker, error = None, RASA_DOWN_ZH
    finally:
        await client.aclose()
    return {**_call_state(db, user, sender, tracker), "ok": error is None, "error": error}


def _open_ticket(
    db: Session,
    user: StaffUser,
    sender: str,
    ticket_type: TicketType,
    note: str | None,
    team: Team | None = None,
) -> Ticket:
    verified = _verified(db, sender)
    payload: dict[str, Any] = {"note": (note or "").strip()[:2000], "opened_by": user.username}
    ticket, _created = create_ticket(
        db,
        ticket_type=ticket_type,
        customer_id=verified.customer_id if verified else None,
        policy_id=verified.policy_id if verified else None,
        conversation_id=sender,
        payload=payload,
        actor_label=access.actor_label(user),
    )
    if team is not None and team != ticket.team:
        ticket.team = team
        ticket.subject = f"坐席转交:{TEAM_LABELS_ZH[team]}"
        db.flush()
        from bot.services.tickets.create import add_event

        add_event(db, ticket, kind="routed", actor=user, note=note, data={"team": team.value})
    audit.record(
        db,
        actor=access.actor_label(user),
        action="ticket_create",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        after={"type": ticket.ticket_type.value, "team": ticket.team.value, "conversation": sender},
    )
    return ticket


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
def open_ticket(
    call_id: str, body: TicketBody, request: Request, user: StaffUser = Depends(api_user(*CONSOLE_ROLES))
) -> dict[str, Any]:
    sender = _sender(user, call_id)
    with tx(request) as db:
        return _ticket_out(_open_ticket(db, user, sender, body.ticket_type, body.note))


@api_router.post("/calls/{call_id}/route", summary="将本通来电转交给业务小组")
def route_call(
    call_id: str, body: RouteBody, request: Request, user: StaffUser = Depends(api_user(*CONSOLE_ROLES))
) -> dict[str, Any]:
    sender = _sender(user, call_id)
    if not (body.note or "").strip():
        err = InvalidInput("note")
        err.message_zh = "请简要说明转交原因。"
        raise err
    with tx(request) as db:
        return _ticket_out(
            _open_ticket(db, user, sender, TicketType.HUMAN_HANDOVER, body.note, team=body.team)
        )
