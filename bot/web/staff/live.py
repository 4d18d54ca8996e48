"""The live queue at ``/agent/live``: conversations handed to a human, and the agent's side of them.

Agents (and supervisors) accept a waiting conversation, read its transcript, reply (the reply
reaches the customer on their own channel) and hand it back to the assistant, which resumes
(``bot.channels.live``). Staff login and CSRF come from ``bot.web.deps``. The page gets the queue
and the open conversation pushed by ``/agent/live/api/stream`` (server-sent events,
``bot.web.customer.sse``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.channels import live, push, transcript
from bot.channels.outbound import DeliveryFailed
from bot.errors import PermissionDenied
from bot.labels_zh import HANDOVER_CHANNEL_ZH, HANDOVER_REASON_ZH, HANDOVER_STATUS_ZH
from bot.masking import mask_name
from bot.models import Customer, Handover, HandoverStatus, Ticket
from bot.services import handover as handover_service
from bot.services import staff
from bot.web.customer import sse
from bot.web.deps import CONSOLE_ROLES, ConsoleApiUser, ConsolePageUser, HubDep, Transactions, TransactionsDep
from bot.web.staff.cookies import ApiUnauthenticated, staff_context, user_from_request
from bot.web.templating import templates

router = APIRouter()
NOT_FOUND = {"code": "not_found", "message": "未找到该会话。"}


def _card(session: Session, h: Handover) -> dict[str, Any]:
    customer = session.get(Customer, h.customer_id) if h.customer_id else None
    ticket = session.get(Ticket, h.ticket_id) if h.ticket_id else None
    channel = h.conversation_id.split(":", 1)[0]
    return {
        "id": h.id,
        "status": h.status.value,
        "status_zh": HANDOVER_STATUS_ZH[h.status.value],
        "channel_zh": HANDOVER_CHANNEL_ZH.get(channel, channel),
        "reason_zh": HANDOVER_REASON_ZH.get(h.reason, h.reason),
        "customer": mask_name(customer.name) if customer else "未核验身份的客户",
        "ticket": ticket.number if ticket else None,
        "agent": h.agent_label,
        "requested_at": h.requested_at.isoformat(),
    }


@router.get("/agent/live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(request: Request, user: ConsolePageUser) -> HTMLResponse:
    return templates.TemplateResponse(request, "chat/live.html", staff_context(request, user))


@router.get("/agent/live/api/queue")
async def queue(_user: ConsoleApiUser, tx: TransactionsDep) -> JSONResponse:
    with tx() as session:
        items = _queue_cards(session)
    return JSONResponse({"items": items})


@router.get("/agent/live/api/{handover_id}/messages")
async def messages(
    handover_id: int, _user: ConsoleApiUser, tx: TransactionsDep, after: int = 0
) -> JSONResponse:
    with tx() as session:
        h = session.get(Handover, handover_id)
        if h is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        rows = transcript.history(session, h.conversation_id, max(after, 0), limit=500)
        return JSONResponse(
            {"handover": _card(session, h), "messages": [transcript.to_json(m) for m in rows]}
        )


def _queue_cards(session: Session) -> list[dict[str, Any]]:
    return [_card(session, h) for h in handover_service.live_queue(session)]


class _LiveFeed:
    """The live queue (``event: queue`` when it changes) and the open handover's new messages
    (``{"handover": card, "messages": [...]}`` with ``id:``, when either changes)."""

    LIMIT = 500

    def __init__(self, tx: Transactions, handover_id: int | None, after: int) -> None:
        self.tx, self.handover_id, self.last = tx, handover_id, after
        self.queue: list[dict[str, Any]] | None = None
        self.card: dict[str, Any] | None = None

    def poll(self) -> tuple[list[str], bool]:
        events: list[str] = []
        more = False
        with self.tx() as session:
            queue = _queue_cards(session)
            if queue != self.queue:
                self.queue = queue
                events.append(sse.format_event({"items": queue}, event="queue"))
            h = session.get(Handover, self.handover_id) if self.handover_id is not None else None
            if h is not None:
                card = _card(session, h)
                rows = transcript.history(session, h.conversation_id, self.last, limit=self.LIMIT)
                if rows or card != self.card:
                    self.card = card
                    self.last = rows[-1].id if rows else self.last
                    data = {"handover": card, "messages": [transcript.to_json(m) for m in rows]}
                    events.append(sse.format_event(data, event_id=self.last if rows else None))
                    more = len(rows) >= self.LIMIT
        return events, more


def _stream_user(tx: Transactions, request: Request) -> None:
    """``api_user`` by hand: a dependency with ``yield`` (its DB session) would stay open for the
    whole stream, so the check runs in its own short session before the stream starts."""
    with tx() as session:
        user = user_from_request(request, session)
        if user is None:
            raise ApiUnauthenticated()
        if user.role not in CONSOLE_ROLES:
            raise PermissionDenied("role")


@router.get("/agent/live/api/stream")
async def stream(request: Request, tx: TransactionsDep, handover: int | None = None, after: int = 0) -> Any:
    _stream_user(tx, request)
    topics = [push.LIVE_QUEUE]
    if handover is not None:
        with tx() as session:
            h = session.get(Handover, handover)
            if h is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            topics.append(h.conversation_id)
    feed = _LiveFeed(tx, handover, sse.resume_after(request, after))
    return sse.EventStreamResponse(sse.event_stream(topics, feed.poll))


@router.post("/agent/live/api/{handover_id}/accept")
async def accept(handover_id: int, user: ConsoleApiUser, tx: TransactionsDep, hub: HubDep) -> JSONResponse:
    with tx() as session:
        first = handover_service.get_open(session, handover_id).status == HandoverStatus.WAITING
        h = handover_service.accept(session, handover_id, agent_id=user.id, agent_label=user.username)
        conversation_id = h.conversation_id
        card = _card(session, h)
        push.mark(session, push.LIVE_QUEUE, conversation_id)
    if first:
        try:
            await live.greet_customer(hub, conversation_id)
        except DeliveryFailed:
            card["delivery"] = "failed"
    return JSONResponse(card)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


@router.post("/agent/live/api/{handover_id}/reply")
async def reply(
    handover_id: int, body: ReplyIn, user: ConsoleApiUser, tx: TransactionsDep, hub: HubDep
) -> JSONResponse:
    with tx() as session:
        h = handover_service.accept(session, handover_id, agent_id=user.id, agent_label=user.username)
        conversation_id = h.conversation_id
        push.mark(session, push.LIVE_QUEUE)
    try:
        await live.agent_reply(hub, conversation_id, body.text.strip())
    except DeliveryFailed:
        return JSONResponse({"delivered": False, "message": "消息未能送达客户,请稍后重试。"}, status_code=502)
    return JSONResponse({"delivered": True})


@router.post("/agent/live/api/{handover_id}/release")
async def release(handover_id: int, _user: ConsoleApiUser, hub: HubDep) -> JSONResponse:
    conversation_id = await live.end_handover(hub, handover_id)
    return JSONResponse({"released": True, "conversation": conversation_id.split(":", 1)[0]})
