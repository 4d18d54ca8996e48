"""The live queue at ``/agent/live``: conversations handed to a human, and the agent's side of them.

Agents (and supervisors) see a masked preview of a waiting conversation, accept it, then read its
transcript, reply (the reply reaches the customer on their own channel) and hand it back to the
assistant, which resumes (``bot.channels.live``). Only the agent who accepted a handover reads,
answers or releases it while it is active; a closed one is shown read-only to supervisors and to
the agent who handled it (``bot.services.handover.access``). Transcripts are masked, and every
read, reply, accept and release (and every refusal) is audited.

Staff login and CSRF come from ``bot.web.deps``. The page gets the queue
and the open conversation pushed by ``/agent/live/api/stream`` (server-sent events,
``bot.web.customer.sse``).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.channels import live, push, transcript
from bot.channels.outbound import DeliveryFailed
from bot.errors import PermissionDenied
from bot.labels_zh import HANDOVER_CHANNEL_ZH, HANDOVER_REASON_ZH, HANDOVER_STATUS_ZH
from bot.masking import mask_name
from bot.models import ChatMessage, Customer, Handover, HandoverStatus, StaffUser, Ticket
from bot.services import audit, staff
from bot.services import handover as handover_service
from bot.web.customer import sse
from bot.web.deps import CONSOLE_ROLES, ConsoleApiUser, ConsolePageUser, HubDep, Transactions, TransactionsDep
from bot.web.staff.cookies import ApiUnauthenticated, staff_context, user_from_request
from bot.web.templating import templates

router = APIRouter()
NOT_FOUND = {"code": "not_found", "message": "未找到该会话。"}


def _card(session: Session, h: Handover, access: str | None = None) -> dict[str, Any]:
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
        **({"access": access} if access is not None else {}),
    }


@router.get("/agent/live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(request: Request, user: ConsolePageUser) -> HTMLResponse:
    return templates.TemplateResponse(request, "chat/live.html", staff_context(request, user))


@router.get("/agent/live/api/queue")
def queue(_user: ConsoleApiUser, tx: TransactionsDep) -> JSONResponse:
    with tx() as session:
        items = _queue_cards(session)
    return JSONResponse({"items": items})


def _masked(msg: ChatMessage) -> dict[str, Any]:
    return transcript.to_staff_json(msg)


def _audit(session: Session, user: StaffUser, action: str, h: Handover, **after: Any) -> None:
    audit.record(
        session,
        actor=f"staff:{user.username}",
        action=action,
        object_type="handover",
        object_id=h.id,
        customer_id=h.customer_id,
        after=after or None,
    )


def _existing(session: Session, handover_id: int) -> Handover:
    h = session.get(Handover, handover_id)
    assert h is not None  # get_open found it in this transaction
    return h


def _denied(session: Session, user: StaffUser, h: Handover, what: str) -> PermissionDenied:
    _audit(session, user, "handover_denied", h, attempted=what, status=h.status.value)
    return PermissionDenied("handover", message_zh="您无权查看或处理该会话。")


@router.get("/agent/live/api/{handover_id}/messages")
def messages(handover_id: int, user: ConsoleApiUser, tx: TransactionsDep, after: int = 0) -> JSONResponse:
    denied: PermissionDenied | None = None
    with tx() as session:
        h = session.get(Handover, handover_id)
        if h is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        level = handover_service.access(h, user)
        if level == handover_service.NONE:
            denied = _denied(session, user, h, "read")
        else:
            rows = handover_service.messages(session, h, level, after_id=max(after, 0))
            _audit(session, user, "handover_read", h, access=level, messages=len(rows))
            body = {"handover": _card(session, h, level), "messages": [_masked(m) for m in rows]}
    if denied is not None:  # raised after the commit: the refusal stays in the audit log
        raise denied
    return JSONResponse(body)


def _queue_cards(session: Session) -> list[dict[str, Any]]:
    return [_card(session, h) for h in handover_service.live_queue(session)]


class _LiveFeed:
    """The live queue (``event: queue`` when it changes) and the open handover's new messages
    (``{"handover": card, "messages": [...]}`` with ``id:``, when either changes), as far as the
    user may see them: access is checked again at every poll (an accepted handover starts showing
    the whole transcript, a released one stops)."""

    LIMIT = 500

    def __init__(self, tx: Transactions, user_id: int, handover_id: int | None, after: int) -> None:
        self.tx, self.user_id, self.handover_id, self.last = tx, user_id, handover_id, after
        self.queue: list[dict[str, Any]] | None = None
        self.card: dict[str, Any] | None = None
        self.preview_sent: list[int] | None = None

    def poll(self) -> tuple[list[str], bool]:
        events: list[str] = []
        more = False
        with self.tx() as session:
            queue = _queue_cards(session)
            if queue != self.queue:
                self.queue = queue
                events.append(sse.format_event({"items": queue}, event="queue"))
            user = staff.get_active(session, self.user_id)
            h = session.get(Handover, self.handover_id) if self.handover_id is not None else None
            if h is not None and user is not None:
                level = handover_service.access(h, user)
                card = _card(session, h, level)
                if level == handover_service.FULL:
                    rows = handover_service.messages(session, h, level, after_id=self.last, limit=self.LIMIT)
                    if rows or card != self.card:
                        self.card = card
                        self.last = rows[-1].id if rows else self.last
                        data = {"handover": card, "messages": [_masked(m) for m in rows]}
                        events.append(sse.format_event(data, event_id=self.last if rows else None))
                        more = len(rows) >= self.LIMIT
                elif level == handover_service.PREVIEW:
                    rows = handover_service.messages(session, h, level)
                    ids = [m.id for m in rows]
                    if ids != self.preview_sent or card != self.card:
                        self.card, self.preview_sent = card, ids
                        events.append(
                            sse.format_event({"handover": card, "messages": [_masked(m) for m in rows]})
                        )
                elif card != self.card:
                    self.card = card
                    events.append(sse.format_event({"handover": card, "messages": []}))
        return events, more


def _stream_user(tx: Transactions, request: Request) -> int:
    """``api_user`` by hand: a dependency with ``yield`` (its DB session) would stay open for the
    whole stream, so the check runs in its own short session before the stream starts."""
    with tx() as session:
        user = user_from_request(request, session)
        if user is None:
            raise ApiUnauthenticated()
        if user.role not in CONSOLE_ROLES:
            raise PermissionDenied("role")
        return user.id


@router.get("/agent/live/api/stream")
def stream(request: Request, tx: TransactionsDep, handover: int | None = None, after: int = 0) -> Any:
    # plain def: its checks run in FastAPI's threadpool; the stream's polls run on worker threads
    user_id = _stream_user(tx, request)
    topics = [push.LIVE_QUEUE]
    denied: PermissionDenied | None = None
    if handover is not None:
        with tx() as session:
            h = session.get(Handover, handover)
            user = staff.get_active(session, user_id)
            if h is None or user is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            level = handover_service.access(h, user)
            if level == handover_service.NONE:
                denied = _denied(session, user, h, "stream")
            else:
                _audit(session, user, "handover_read", h, access=level, via="stream")
                topics.append(h.conversation_id)
    if denied is not None:
        raise denied
    feed = _LiveFeed(tx, user_id, handover, sse.resume_after(request, after))
    return sse.EventStreamResponse(sse.event_stream(topics, feed.poll))


@router.post("/agent/live/api/{handover_id}/accept")
async def accept(handover_id: int, user: ConsoleApiUser, tx: TransactionsDep, hub: HubDep) -> JSONResponse:
    def take() -> tuple[bool, PermissionDenied | None, str, dict[str, Any]]:  # on a worker thread
        with tx() as session:
            first = handover_service.get_open(session, handover_id).status == HandoverStatus.WAITING
            try:
                h = handover_service.accept(session, handover_id, agent_id=user.id, agent_label=user.username)
            except PermissionDenied as exc:
                _audit(session, user, "handover_denied", _existing(session, handover_id), attempted="accept")
                return first, exc, "", {}
            _audit(session, user, "handover_accept", h)
            card = _card(session, h, handover_service.FULL)
            push.mark(session, push.LIVE_QUEUE, h.conversation_id)
            return first, None, h.conversation_id, card

    first, denied, conversation_id, card = await anyio.to_thread.run_sync(take)
    if denied is not None:  # raised after the commit: the refusal stays in the audit log
        raise denied
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
    def check() -> tuple[PermissionDenied | None, str]:  # on a worker thread
        with tx() as session:
            try:
                h = handover_service.require_own_active(session, handover_id, user.id)
            except PermissionDenied as exc:
                _audit(session, user, "handover_denied", _existing(session, handover_id), attempted="reply")
                return exc, ""
            _audit(session, user, "handover_reply", h, chars=len(body.text.strip()))
            push.mark(session, push.LIVE_QUEUE)
            return None, h.conversation_id

    denied, conversation_id = await anyio.to_thread.run_sync(check)
    if denied is not None:  # raised after the commit: the refusal stays in the audit log
        raise denied
    try:
        await live.agent_reply(hub, conversation_id, body.text.strip())
    except DeliveryFailed:
        return JSONResponse({"delivered": False, "message": "消息未能送达客户,请稍后重试。"}, status_code=502)
    return JSONResponse({"delivered": True})


@router.post("/agent/live/api/{handover_id}/release")
async def release(handover_id: int, user: ConsoleApiUser, tx: TransactionsDep, hub: HubDep) -> JSONResponse:
    def check() -> bool:  # on a worker thread
        with tx() as session:
            h = handover_service.get_open(session, handover_id)
            allowed = h.status == HandoverStatus.ACTIVE and h.agent_id == user.id
            _audit(session, user, "handover_release" if allowed else "handover_denied", h,
                   **({} if allowed else {"attempted": "release"}))  # fmt: skip
        return allowed

    allowed = await anyio.to_thread.run_sync(check)
    if not allowed:
        raise PermissionDenied("handover", message_zh="只有接入该会话的坐席可以交还智能助手。")
    conversation_id = await live.end_handover(hub, handover_id, agent_id=user.id)
    return JSONResponse({"released": True, "conversation": conversation_id.split(":", 1)[0]})
