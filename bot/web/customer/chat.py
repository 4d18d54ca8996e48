"""The web chat at ``/chat``: the page and its JSON endpoints.

Sessions are anonymous: a random session id in a signed, HttpOnly, SameSite=Strict cookie is the
conversation ``web:<session>``. Every endpoint reads the conversation from that cookie only, so
one browser can never read or write another session's conversation. Writes also need the
``X-Chat-Request`` header, which a cross-site form cannot send. The transcript lives on the
server (``chat_messages``), so the history survives a reload. Messages the assistant or an agent
sends on their own (reminders, ticket and claim updates, live handover) are pushed to the page by
``/chat/api/stream`` (server-sent events, ``bot.web.customer.sse``); the page polls slowly only where
EventSource is unavailable.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException
from starlette.types import Message

from bot.channels import inbound, transcript
from bot.config import Settings
from bot.errors import DomainError, TooLarge, UploadRejected
from bot.services import handover as handover_service
from bot.services import uploads
from bot.web import ratelimit
from bot.web.customer import sse
from bot.web.deps import HubDep, SettingsDep, Transactions, TransactionsDep
from bot.web.templating import templates

log = logging.getLogger(__name__)

COOKIE = "chat_session"
WRITE_HEADER = "X-Chat-Request"
COOKIE_MAX_AGE = 30 * 24 * 3600
MAX_TEXT = 1000
HISTORY_LIMIT = 200
_FALLBACK_SECRET = secrets.token_urlsafe(32)

router = APIRouter()


def _serializer(settings: Settings) -> URLSafeSerializer:
    secret = settings.session_secret.get_secret_value() or _FALLBACK_SECRET
    return URLSafeSerializer(secret, salt="web-chat-session")


def _session_id(request: Request) -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = _serializer(request.app.state.settings).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and 16 <= len(value) <= 64 else None


def _conversation(request: Request) -> str:
    sid = _session_id(request)
    if sid is None:
        raise HTTPException(status_code=401, detail="no chat session")
    return f"web:{sid}"


def _check_write(request: Request) -> str:
    if request.headers.get(WRITE_HEADER) != "1":
        raise HTTPException(status_code=403, detail="missing chat header")
    return _conversation(request)


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "chat/index.html",
        {"max_bytes": settings.upload_max_bytes, "max_mb": settings.upload_max_bytes // (1024 * 1024)},
    )
    if _session_id(request) is None:
        token = _serializer(settings).dumps(secrets.token_urlsafe(24))
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" or settings.public_url.startswith("https://"),
            path="/chat",
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response


def _state(tx: Transactions, conversation_id: str, after: int) -> dict[str, Any]:
    with tx() as session:
        rows = transcript.history(session, conversation_id, after, limit=HISTORY_LIMIT)
        messages = [transcript.to_json(m) for m in rows]
        handover = handover_service.current(session, conversation_id)
        return {
            "messages": messages,
            "handover": handover.status.value if handover else None,
        }


async def _state_off_loop(tx: Transactions, conversation_id: str, after: int) -> dict[str, Any]:
    """``_state`` on a worker thread: a database waiting on a lock stalls this request only."""
    return await anyio.to_thread.run_sync(_state, tx, conversation_id, after)


@router.get("/chat/api/history")
async def history(request: Request, tx: TransactionsDep, after: int = 0) -> JSONResponse:
    conversation_id = _conversation(request)
    return JSONResponse(await _state_off_loop(tx, conversation_id, max(after, 0)))


class _ChatFeed:
    """What the page has not seen yet: new messages, and the handover status when it changes.
    One event per batch, in the shape of ``/chat/api/history``."""

    _UNSENT = object()

    def __init__(self, tx: Transactions, conversation_id: str, after: int) -> None:
        self.tx, self.conversation_id, self.last = tx, conversation_id, after
        self.handover: object = self._UNSENT

    def poll(self) -> tuple[list[str], bool]:
        state = _state(self.tx, self.conversation_id, self.last)
        messages = state["messages"]
        if not messages and state["handover"] == self.handover:
            return [], False
        self.handover = state["handover"]
        if messages:
            self.last = messages[-1]["id"]
        event = sse.format_event(state, event_id=self.last if messages else None)
        return [event], len(messages) >= HISTORY_LIMIT


@router.get("/chat/api/stream")
async def stream(request: Request, tx: TransactionsDep, after: int = 0) -> sse.EventStreamResponse:
    """This session's conversation as server-sent events (the cookie alone names it). Rate
    limited, and capped in how many are open at once per session and per client."""
    conversation_id = _conversation(request)
    client = ratelimit.client_key(request)
    ratelimit.limiter(request).hit("stream", session=conversation_id, client=client)
    release = ratelimit.open_streams(request).acquire(conversation_id, client)
    feed = _ChatFeed(tx, conversation_id, sse.resume_after(request, after))
    return sse.EventStreamResponse(sse.event_stream([conversation_id], feed.poll), on_close=release)


class ChatIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    shown: str | None = Field(
        default=None, max_length=MAX_TEXT
    )  # a button's title, shown instead of its payload
    after: int = 0


@router.post("/chat/api/message")
async def message(request: Request, body: ChatIn, hub: HubDep, tx: TransactionsDep) -> JSONResponse:
    conversation_id = _check_write(request)
    text = body.text.strip()
    if not text:
        raise HTTPException(status_code=422, detail="empty")
    client = ratelimit.client_key(request)
    ratelimit.limiter(request).hit("chat", session=conversation_id, client=client)
    async with hub.lock(conversation_id):
        await inbound.handle_customer_message(
            hub, conversation_id, text, shown_text=body.shown, client=client
        )
    return JSONResponse(await _state_off_loop(tx, conversation_id, max(body.after, 0)))


# What a multipart body may carry besides the file (boundaries, headers, the two small fields).
MULTIPART_OVERHEAD = 16 * 1024


class BodyTooLarge(Exception):
    pass


async def _limited_form(request: Request, limit: int) -> FormData:
    """The multipart form, read while counting: stops as soon as more than ``limit`` bytes came."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
        return message

    return await Request(request.scope, receive).form(max_files=1, max_fields=4)


def _refused(status: int, message_zh: str) -> JSONResponse:
    return JSONResponse({"ok": False, "detail": message_zh, "messages": []}, status_code=status)


@router.post("/chat/api/upload")
async def upload(request: Request, hub: HubDep, tx: TransactionsDep, settings: SettingsDep) -> JSONResponse:
    """One document. Refused early: by rate, by the declared Content-Length, and while the body
    streams in (it is read in chunks and dropped once it passes the size limit)."""
    conversation_id = _check_write(request)
    ratelimit.limiter(request).hit("upload", session=conversation_id, client=ratelimit.client_key(request))
    limit = settings.upload_max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _refused(413, TooLarge.message_zh)
    try:
        form = await _limited_form(request, limit)
    except BodyTooLarge:
        return _refused(413, TooLarge.message_zh)
    except MultiPartException:
        return _refused(400, UploadRejected.message_zh)
    file = form.get("file")
    if not isinstance(file, StarletteUploadFile):
        return _refused(422, UploadRejected.message_zh)
    doc_raw = form.get("doc")
    doc = doc_raw[:64] if isinstance(doc_raw, str) and doc_raw else None
    after_raw = form.get("after")
    after = int(after_raw) if isinstance(after_raw, str) and after_raw.isdigit() else 0
    data = await file.read(settings.upload_max_bytes + 1)
    await form.close()
    name = uploads.safe_display_name(file.filename)

    def store() -> tuple[str, int]:
        with tx() as session:
            transcript.record(session, conversation_id, "customer", f"[文件] {name}", {"attachment": name})
            try:
                result = uploads.receive_document(
                    session,
                    conversation_id,
                    data,
                    file_name=name,
                    declared_type=file.content_type,
                    channel="web",
                    hint=doc,
                    settings=settings,
                )
                reply, status = result.message_zh, 200
            except DomainError as exc:
                reply, status = exc.message_zh, exc.http_status
        # the file is stored (or refused) in its own transaction; the reply is recorded after it
        with tx() as session:
            transcript.record(session, conversation_id, "bot", reply)
        return reply, status

    async with hub.lock(conversation_id):
        _, status = await anyio.to_thread.run_sync(store)  # off the event loop: see _state_off_loop
    state = await _state_off_loop(tx, conversation_id, max(after, 0))
    state["ok"] = status == 200
    return JSONResponse(state, status_code=200 if status == 200 else status)
