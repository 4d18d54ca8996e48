"""The live queue at ``/agent/live``: conversations handed to a human, and the agent's side of them.

Agents (and supervisors) accept a waiting conversation, read its transcript, reply (the reply
reaches the customer on their own channel) and hand it back to the assistant, which resumes.
Staff login and CSRF come from ``bot.web.auth``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from bot.channels import inbound, transcript
from bot.channels.hub import ChannelHub
from bot.channels.outbound import DeliveryFailed, deliver
from bot.masking import mask_name
from bot.models import Customer, Handover, HandoverStatus, StaffRole, StaffUser, Ticket
from bot.services import handover as handover_service
from bot.web.auth import api_user, page_user, staff_context
from bot.web.chat import TEMPLATES

router = APIRouter()
ROLES = (StaffRole.AGENT, StaffRole.SUPERVISOR)
CHANNEL_ZH = {"telegram": "Telegram", "web": "网页在线客服", "hotline": "热线"}
STATUS_ZH = {"waiting": "等待接入", "active": "服务中", "closed": "已交还"}


def _hub(request: Request) -> ChannelHub:
    hub: ChannelHub = request.app.state.hub
    return hub


def _card(session: Any, h: Handover) -> dict[str, Any]:
    customer = session.get(Customer, h.customer_id) if h.customer_id else None
    ticket = session.get(Ticket, h.ticket_id) if h.ticket_id else None
    channel = h.conversation_id.split(":", 1)[0]
    return {
        "id": h.id,
        "status": h.status.value,
        "status_zh": STATUS_ZH[h.status.value],
        "channel_zh": CHANNEL_ZH.get(channel, channel),
        "reason_zh": handover_service.REASON_ZH.get(h.reason, h.reason),
        "customer": mask_name(customer.name) if customer else "未核验身份的客户",
        "ticket": ticket.number if ticket else None,
        "agent": h.agent_label,
        "requested_at": h.requested_at.isoformat(),
    }


@router.get("/agent/live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(request: Request, user: StaffUser = Depends(page_user(*ROLES))) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "chat/live.html", staff_context(request, user))


@router.get("/agent/live/api/queue")
async def queue(request: Request, _user: StaffUser = Depends(api_user(*ROLES))) -> JSONResponse:
    with _hub(request).session() as session:
        items = [_card(session, h) for h in handover_service.live_queue(session)]
    return JSONResponse({"items": items})


@router.get("/agent/live/api/{handover_id}/messages")
async def messages(
    request: Request, handover_id: int, after: int = 0, _user: StaffUser = Depends(api_user(*ROLES))
) -> JSONResponse:
    with _hub(request).session() as session:
        h = session.get(Handover, handover_id)
        if h is None:
            return JSONResponse({"code": "not_found", "message": "未找到该会话。"}, status_code=404)
        rows = transcript.history(session, h.conversation_id, max(after, 0), limit=500)
        return JSONResponse(
            {"handover": _card(session, h), "messages": [transcript.to_json(m) for m in rows]}
        )


@router.post("/agent/live/api/{handover_id}/accept")
async def accept(
    request: Request, handover_id: int, user: StaffUser = Depends(api_user(*ROLES))
) -> JSONResponse:
    hub = _hub(request)
    with hub.session() as session:
        first = handover_service.get_open(session, handover_id).status == HandoverStatus.WAITING
        h = handover_service.accept(session, handover_id, agent_id=user.id, agent_label=user.username)
        conversation_id = h.conversation_id
        card = _card(session, h)
    if first:
        try:
            await deliver(
                conversation_id, [{"text": "人工客服已接入,请问有什么可以帮您?"}], role="agent", hub=hub
            )
        except DeliveryFailed:
            card["delivery"] = "failed"
    return JSONResponse(card)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


@router.post("/agent/live/api/{handover_id}/reply")
async def reply(
    request: Request, handover_id: int, body: ReplyIn, user: StaffUser = Depends(api_user(*ROLES))
) -> JSONResponse:
    hub = _hub(request)
    with hub.session() as session:
        h = handover_service.accept(session, handover_id, agent_id=user.id, agent_label=user.username)
        conversation_id = h.conversation_id
    async with hub.lock(conversation_id):
        try:
            await deliver(conversation_id, [{"text": body.text.strip()}], role="agent", hub=hub)
        except DeliveryFailed:
            return JSONResponse(
                {"delivered": False, "message": "消息未能送达客户,请稍后重试。"}, status_code=502
            )
    return JSONResponse({"delivered": True})


@router.post("/agent/live/api/{handover_id}/release")
async def release(
    request: Request, handover_id: int, _user: StaffUser = Depends(api_user(*ROLES))
) -> JSONResponse:
    hub = _hub(request)
    conversation_id = await inbound.end_handover(hub, handover_id)
    return JSONResponse({"released": True, "conversation": conversation_id.split(":", 1)[0]})
