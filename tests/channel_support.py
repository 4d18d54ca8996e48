"""Test support for the channel tests: a fake Telegram Bot API server on loopback, a fake Rasa
(httpx MockTransport), an app wired to both, and small data factories."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.ids import id_check_char
from bot.models import (
    Channel,
    ChannelBinding,
    Claim,
    ClaimStatus,
    ClaimType,
    Customer,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    PremiumDue,
    PremiumStatus,
)

TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "s3cret-Value_1"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def blank_pdf() -> bytes:
    """A real one-page PDF (uploads parse PDFs to look for scripts)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = blank_pdf()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- fake Bot API


@dataclass
class FakeBotApi:
    """Records every Bot API call; can fail the next calls of a method on purpose."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    fail_next: dict[str, list[int]] = field(default_factory=dict)  # method -> HTTP statuses to answer
    updates: list[dict[str, Any]] = field(default_factory=list)  # served by getUpdates (polling mode)
    port: int = 0
    _ids: Any = field(default_factory=lambda: count(1000))

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in list(self.calls) if name == method]

    def texts_to(self, chat_id: int) -> list[str]:
        return [
            str(p.get("text")) for p in self.calls_of("sendMessage") if str(p.get("chat_id")) == str(chat_id)
        ]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def _bot_method(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        self.calls.append((method, params))
        if method == "getUpdates" and not [
            u for u in self.updates if u["update_id"] >= int(params.get("offset") or 0)
        ]:
            await asyncio.sleep(0.2)  # a long poll with nothing new
        failures = self.fail_next.get(method)
        if failures:
            status = failures.pop(0)
            if status == 429:
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status_code=429,
                )
            return JSONResponse(
                {"ok": False, "error_code": status, "description": "Bad Gateway"}, status_code=status
            )
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        now = int(time.time())
        if method == "getMe":
            return {
                "id": 123456,
                "is_bot": True,
                "first_name": "保险客服助手",
                "username": "insurance_test_bot",
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendPhoto"):
            return {
                "message_id": next(self._ids),
                "date": now,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        if method == "getFile":
            file_id = str(params["file_id"])
            return {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"photos/{file_id}.jpg",
            }
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            batch = [u for u in self.updates if u["update_id"] >= offset]
            return batch
        return True

    async def _file(self, request: Request) -> Response:
        file_id = re.sub(r"\.jpg$", "", request.path_params["path"].split("/")[-1])
        data = self.files.get(file_id)
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="application/octet-stream")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._bot_method, methods=["POST", "GET"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )


class ServerThread:
    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_until(lambda: self.server.started, what="fake server start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


# ---------------------------------------------------------------- fake Rasa


@dataclass
class FakeRasa:
    """Answers like Rasa's REST channel and HTTP API; ``down`` makes every call fail."""

    received: list[tuple[str, str]] = field(default_factory=list)
    triggered: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)
    latest_intent: dict[str, str] = field(default_factory=dict)
    down: bool = False

    def reply(self, sender: str, text: str) -> list[dict[str, Any]]:
        if text == "/greet":
            self.latest_intent[sender] = "greet"
            return [{"recipient_id": sender, "text": "您好,我是保险客服助手,请问有什么可以帮您?"}]
        if "人工" in text or text == "/request_human":
            self.latest_intent[sender] = "request_human"
            return [{"recipient_id": sender, "text": "好的,正在为您转接人工客服。"}]
        if text == "我要报案":
            self.latest_intent[sender] = "report_claim"
            long_payload = '/inform{"claim_type":"车险","note":"' + "很长的按钮载荷" * 4 + '"}'
            return [
                {
                    "recipient_id": sender,
                    "text": "请问您要报哪一类案件?",
                    "buttons": [
                        {"title": "车险", "payload": '/inform{"claim_type":"车险"}'},
                        {"title": "医疗(长载荷)", "payload": long_payload},
                    ],
                }
            ]
        self.latest_intent[sender] = "inform"
        return [{"recipient_id": sender, "text": f"收到:{text}"}]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("rasa down", request=request)
        path = request.url.path
        if path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            sender, text = body["sender"], body["message"]
            self.received.append((sender, text))
            if sender in self.paused:
                return httpx.Response(200, json=[])
            return httpx.Response(200, json=self.reply(sender, text))
        m = re.fullmatch(r"/conversations/(.+)/trigger_intent", path)
        if m:
            body = json.loads(request.content)
            sender = m.group(1)
            self.triggered.append((sender, body["name"], body.get("entities") or {}))
            if sender in self.paused:
                return httpx.Response(200, json={"tracker": {}, "messages": []})
            ents = body.get("entities") or {}
            text = f"[{body['name']}] " + " ".join(f"{k}={v}" for k, v in sorted(ents.items()))
            return httpx.Response(
                200, json={"tracker": {}, "messages": [{"recipient_id": sender, "text": text}]}
            )
        m = re.fullmatch(r"/conversations/(.+)/tracker/events", path)
        if m:
            sender = m.group(1)
            evs = json.loads(request.content)
            self.events.append((sender, evs))
            for ev in evs:
                if ev.get("event") == "pause":
                    self.paused.add(sender)
                if ev.get("event") == "resume":
                    self.paused.discard(sender)
            return httpx.Response(200, json={})
        m = re.fullmatch(r"/conversations/(.+)/tracker", path)
        if m:
            sender = m.group(1)
            return httpx.Response(
                200,
                json={
                    "sender_id": sender,
                    "paused": sender in self.paused,
                    "latest_message": {"intent": {"name": self.latest_intent.get(sender)}},
                },
            )
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "session_secret": "test-session-secret",
        "rasa_url": "http://rasa.test",
        "rasa_token": "tok",
        "upload_dir": tmp_path / "uploads",
        "reminder_scheduler_enabled": False,
        "telegram_token": "",
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "public_url": "",
        "reminder_quiet_start_hour": 21,
        "reminder_quiet_end_hour": 8,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def db_url(engine: Any) -> str:
    return str(engine.url.render_as_string(hide_password=False))


# ---------------------------------------------------------------- data factories

_seq = count(int(time.time()) % 100000 * 10)


def _id_number(n: int) -> str:
    first17 = f"110101198{n % 10}0101{n % 1000:03d}"[:17].ljust(17, "1")
    return first17 + id_check_char(first17)


def make_customer(session: Session, *, name: str = "张伟", reminders_enabled: bool = True) -> Customer:
    n = next(_seq)
    body = f"1101011985{(n // 1000) % 100:02d}{(n // 10) % 28 + 1:02d}"[:14]
    first17 = (body + f"{n % 1000:03d}")[:17]
    customer = Customer(
        name=name,
        id_number=first17 + id_check_char(first17),
        gender="M",
        birth_date=date(1985, 1, 1),
        mobile=f"138{n % 10**8:08d}",
        reminders_enabled=reminders_enabled,
    )
    session.add(customer)
    session.flush()
    return customer


def make_policy(
    session: Session,
    customer: Customer,
    *,
    line: LineOfBusiness = LineOfBusiness.LIFE,
    status: PolicyStatus = PolicyStatus.IN_FORCE,
    grace_days: int = 60,
) -> Policy:
    n = next(_seq)
    policy = Policy(
        number=f"{line.prefix}2023{n % 10**6:06d}",
        line=line,
        product_name="测试保险",
        status=status,
        issue_date=date(2023, 1, 1),
        effective_date=date(2023, 1, 2),
        grace_period_days=grace_days,
        sum_insured=Decimal("100000.00"),
        premium=Decimal("1234.50"),
        payment_frequency=PaymentFrequency.ANNUAL,
        payment_years=10,
        policyholder_id=customer.id,
        insured_id=customer.id,
    )
    session.add(policy)
    session.flush()
    return policy


def make_premium(
    session: Session, policy: Policy, due: date, *, status: PremiumStatus = PremiumStatus.PENDING
) -> PremiumDue:
    premium = PremiumDue(policy_id=policy.id, due_date=due, amount=Decimal("1234.50"), status=status)
    session.add(premium)
    session.flush()
    return premium


def bind(
    session: Session, customer: Customer, channel: Channel, external_id: str, *, reminders: bool = True
) -> ChannelBinding:
    binding = ChannelBinding(
        customer_id=customer.id, channel=channel, external_id=external_id, reminders_enabled=reminders
    )
    session.add(binding)
    session.flush()
    return binding


def make_claim(
    session: Session, policy: Policy, conversation_id: str, *, claim_type: ClaimType = ClaimType.MOTOR
) -> Claim:
    n = next(_seq)
    claim = Claim(
        number=f"CL26{n % 10**8:08d}",
        policy_id=policy.id,
        reporter_id=policy.policyholder_id,
        claim_type=claim_type,
        status=ClaimStatus.REPORTED,
        incident_at=datetime(2026, 11, 20, 8, tzinfo=timezone.utc),
        incident_place="北京市朝阳区",
        description="追尾事故",
        conversation_id=conversation_id,
    )
    session.add(claim)
    session.flush()
    return claim


def utc(y: int, m: int, d: int, h: int = 4) -> datetime:
    """A wall-clock time; 04:00 UTC is 12:00 in Shanghai (outside quiet hours)."""
    return datetime(y, m, d, h, tzinfo=timezone.utc)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def rasa_http_app(fake: FakeRasa) -> Starlette:
    """Serve a FakeRasa over real HTTP (for subprocesses)."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        req = httpx.Request(request.method, str(request.url), content=body)
        try:
            resp = fake.handler(req)
        except httpx.ConnectError:
            return Response(status_code=503)
        return Response(resp.content, status_code=resp.status_code, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT"])])


def make_hub(engine: Any, settings: Settings, fake: FakeRasa) -> Any:
    from sqlalchemy.orm import sessionmaker

    from bot.channels.factory import build_hub
    from bot.channels.rasa_client import RasaClient

    return build_hub(
        settings,
        sessionmaker(bind=engine, expire_on_commit=False),
        rasa=RasaClient(settings, transport=fake.transport()),
    )


def staff_login(client: Any, username: str, password: str) -> str:
    """Log a staff member in through the login form; returns the CSRF token for API writes."""
    client.get("/desk/login")
    token = client.cookies.get("staff_login_csrf")
    resp = client.post(
        "/desk/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/agent/live"},
        follow_redirects=False,
    )
    assert resp.status_code in (302, 303), resp.text[:300]
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf_token"])


def chat_session_id(client: Any, settings: Settings) -> str:
    from itsdangerous import URLSafeSerializer

    raw = client.cookies.get("chat_session")
    return str(
        URLSafeSerializer(settings.session_secret.get_secret_value(), salt="web-chat-session").loads(raw)
    )
