"""The authorisation matrix: every route of the app, called as every kind of caller.

The routes come from ``create_app().routes``, so a new route without a rule in ``MATRIX`` fails
``test_every_route_has_a_rule``. Each rule says, per caller, what must happen:
- ``ok``: let through (any answer but 401/403/404 and a redirect to the login page; a 409 for a
  move the ticket's state does not allow still means the caller was allowed to try);
- ``deny``: refused (401, 403, or a redirect to the staff login page);
- ``hide``: 404, the answer of a thing that does not exist (another team's ticket, an unknown
  handover): nothing tells the caller it is there.
No route may answer 5xx to anyone.

The ticket of the rules is an open one of the policy-service team, assigned to ``proc_wang``;
``proc_chen`` is a processor of the claims team. Call ids are not started by the caller (another
agent's call looks like no call at all). Handover ids do not exist (their object-level rules are the live
queue's own tests): an allowed role gets 404, a refused one 401/403.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.errors import PermissionDenied, TicketNotFound
from bot.web.app import create_app
from tests.channel_support import JPEG, db_url, make_settings
from tests.desk_support import PASSWORD, StaffClient, World

ROLES = ("anonymous", "customer", "agent", "reviewer", "other_team", "processor", "supervisor")
STAFF = {
    "agent": "agent_li",
    "reviewer": "rev_sun",
    "other_team": "proc_chen",
    "processor": "proc_wang",
    "supervisor": "sup_zhou",
}

OK, DENY, HIDE = "ok", "deny", "hide"


def rule(
    anonymous: str = DENY,
    customer: str = DENY,
    agent: str = DENY,
    reviewer: str = DENY,
    other_team: str = DENY,
    processor: str = DENY,
    supervisor: str = DENY,
) -> dict[str, str]:
    return {
        "anonymous": anonymous,
        "customer": customer,
        "agent": agent,
        "reviewer": reviewer,
        "other_team": other_team,
        "processor": processor,
        "supervisor": supervisor,
    }


PUBLIC = rule(OK, OK, OK, OK, OK, OK, OK)
CUSTOMER_ONLY = rule(customer=OK)
CONSOLE = rule(agent=OK, supervisor=OK)  # hotline agents and supervisors
CONSOLE_UNKNOWN_OBJECT = rule(agent=HIDE, supervisor=HIDE)  # someone else's call, an unknown handover
DESK = rule(reviewer=OK, other_team=OK, processor=OK, supervisor=OK)
# one policy-service ticket, OPEN: its team and supervisors; reviewers see only what awaits approval
TEAM_TICKET = rule(reviewer=HIDE, other_team=HIDE, processor=OK, supervisor=OK)
SUPERVISOR = rule(supervisor=OK)
NOBODY_WITHOUT_SECRET = rule()  # the Telegram webhook: only Telegram, with the webhook secret

MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    # web chat: the signed chat cookie is the only key (staff cookies do not open it)
    ("GET", "/chat"): PUBLIC,
    ("GET", "/chat/api/history"): CUSTOMER_ONLY,
    ("GET", "/chat/api/stream"): CUSTOMER_ONLY,
    ("POST", "/chat/api/message"): CUSTOMER_ONLY,
    ("POST", "/chat/api/upload"): CUSTOMER_ONLY,
    # live handover queue
    ("GET", "/agent/live"): CONSOLE,
    ("GET", "/agent/live/api/queue"): CONSOLE,
    ("GET", "/agent/live/api/{handover_id}/messages"): CONSOLE_UNKNOWN_OBJECT,
    ("GET", "/agent/live/api/stream"): CONSOLE,
    ("POST", "/agent/live/api/{handover_id}/accept"): CONSOLE,  # 409: not an open handover
    ("POST", "/agent/live/api/{handover_id}/reply"): CONSOLE,  # 409: not an open handover
    ("POST", "/agent/live/api/{handover_id}/release"): CONSOLE,  # 409: not an open handover
    ("POST", "/telegram/webhook"): NOBODY_WITHOUT_SECRET,
    # staff login
    ("GET", "/desk/login"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/desk/login"): PUBLIC,
    ("POST", "/desk/logout"): PUBLIC,
    # ticket desk (pages)
    ("GET", "/desk"): DESK,
    ("GET", "/desk/tickets/{number}"): TEAM_TICKET,
    ("POST", "/desk/tickets/{number}/action"): TEAM_TICKET,
    ("GET", "/desk/audit"): SUPERVISOR,
    ("GET", "/desk/reports"): SUPERVISOR,
    # ticket desk (JSON API)
    ("GET", "/api/me"): rule(agent=OK, reviewer=OK, other_team=OK, processor=OK, supervisor=OK),
    ("GET", "/api/tickets"): DESK,
    ("GET", "/api/tickets/{number}"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/take"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/assign"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/comment"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/request-documents"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/resume"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/process"): TEAM_TICKET,
    # a change needs a checker: the processor (its maker) may not approve it
    ("POST", "/api/tickets/{number}/approve"): rule(reviewer=HIDE, other_team=HIDE, supervisor=OK),
    ("POST", "/api/tickets/{number}/reject"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/close"): TEAM_TICKET,
    ("POST", "/api/tickets/{number}/notify"): TEAM_TICKET,
    ("GET", "/api/tickets/{number}/audit.csv"): SUPERVISOR,
    ("GET", "/api/customers/{customer_id}/audit.csv"): SUPERVISOR,
    ("GET", "/api/audit/verify"): SUPERVISOR,
    ("GET", "/api/reports"): SUPERVISOR,
    # agent console
    ("GET", "/agent"): CONSOLE,
    ("POST", "/api/agent/calls"): CONSOLE,
    ("POST", "/api/agent/calls/{call_id}/messages"): CONSOLE_UNKNOWN_OBJECT,
    ("GET", "/api/agent/calls/{call_id}"): CONSOLE_UNKNOWN_OBJECT,
    ("POST", "/api/agent/calls/{call_id}/tickets"): CONSOLE_UNKNOWN_OBJECT,
    ("POST", "/api/agent/calls/{call_id}/route"): CONSOLE_UNKNOWN_OBJECT,
}

# JSON bodies a caller allowed to act would send (so that a refusal is never a 422).
BODIES: dict[str, Any] = {
    "/chat/api/message": {"text": "你好"},
    "/agent/live/api/{handover_id}/reply": {"text": "您好,我是人工客服。"},
    "/api/tickets/{number}/assign": {"assignee": "proc_wang"},
    "/api/tickets/{number}/comment": {"note": "已联系客户"},
    "/api/tickets/{number}/request-documents": {"documents": ["身份证明"], "note": "请补充"},
    "/api/agent/calls/{call_id}/messages": {"text": "我想查保单"},
    "/api/agent/calls/{call_id}/tickets": {"ticket_type": "surrender", "note": "客户来电要求退保"},
    "/api/agent/calls/{call_id}/route": {"team": "claims", "note": "转理赔组"},
    "/telegram/webhook": {"update_id": 1, "message": {"message_id": 1, "text": "hi"}},
}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD aside), flattening included routers."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            original = getattr(ctx, "original_route", ctx)
            methods = getattr(original, "methods", None)
            path = getattr(ctx, "path", None) or getattr(original, "path", "")
            if not methods:  # a static mount: files only
                continue
            for method in methods - {"HEAD"}:
                found.add((method, path))
    return found


def _fake_rasa(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/webhooks/rest/webhook":
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "好的。"}])
    if request.url.path.endswith("/tracker"):
        return httpx.Response(200, json={"slots": {}, "latest_message": {}, "events": []})
    return httpx.Response(200, json={})


@pytest.fixture
def site(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, World]]:
    """The app on a committed database (the chat and the live queue commit on their own)."""
    from bot.web.customer import sse

    monkeypatch.setattr(sse, "MAX_SECONDS", 0)  # an allowed event stream answers and ends
    with Session(engine) as session:
        world = World(session)
        session.commit()
        world.beneficiary_ticket.assignee_id = world.proc.id
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
        for user in (world.agent, world.proc, world.claims_proc, world.reviewer, world.supervisor):
            user.password_hash = cheap  # the real login, with a hash that is quick to verify
        session.commit()
        for obj in (world.beneficiary_ticket, world.customer):
            session.refresh(obj)
        session.expunge_all()
    settings = make_settings(db_url(engine), tmp_path)
    app = create_app(settings, rasa=RasaClient(settings, transport=httpx.MockTransport(_fake_rasa)))
    with TestClient(app):
        yield app, world


def test_every_route_has_a_rule(engine: Engine, tmp_path: Path) -> None:
    app = create_app(make_settings(db_url(engine), tmp_path))
    routes = app_routes(app)
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes without a rule in the authorisation matrix: {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"rules for routes that no longer exist: {stale}"


def _client(app: Any, role: str) -> Any:
    if role == "anonymous":
        return TestClient(app, follow_redirects=False)
    if role == "customer":
        client = TestClient(app, follow_redirects=False)
        assert client.get("/chat").status_code == 200
        return client
    staff = StaffClient(app, STAFF[role])
    assert staff.login_response.status_code == 303, staff.login_response.text
    return staff


def _call(client: Any, method: str, template: str, world: World) -> httpx.Response:
    url = template.format(
        number=world.beneficiary_ticket.number,
        customer_id=world.customer.id,
        handover_id=999999,
        call_id="matrix1",
    )
    staff = isinstance(client, StaffClient)
    http: TestClient = client.http if staff else client
    if method == "GET":
        return http.get(url)
    if template == "/desk/tickets/{number}/action":
        if staff:
            return client.form(url, {"action": "take"})  # type: ignore[no-any-return]
        return http.post(url, data={"action": "take"})
    if template == "/desk/login":
        page = http.get("/desk/login")
        token = page.text.split('name="csrf_token" value="', 1)[-1].split('"', 1)[0]
        return http.post(url, data={"username": "nobody", "password": "wrong", "csrf_token": token})
    if template == "/desk/logout":
        return http.post(url, data={"csrf_token": getattr(client, "csrf", "")})
    headers = {"X-Chat-Request": "1"} if template.startswith("/chat/") else {}
    if staff:
        headers["X-CSRF-Token"] = client.csrf
    if template == "/chat/api/upload":
        return http.post(url, files={"file": ("claim.jpg", JPEG, "image/jpeg")}, headers=headers)
    return http.post(url, json=BODIES.get(template, {}), headers=headers)


def _denied_messages() -> set[str]:
    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    return {c.message_zh for c in subclasses(PermissionDenied)}


def outcome(resp: httpx.Response, path: str) -> str:
    code = resp.status_code
    if path == "/healthz" and code == 503:
        return OK  # "degraded": Rasa is not running in this test
    assert code < 500, f"{code}: {resp.text[:300]}"
    if code in (401, 403):
        return DENY
    location = resp.headers.get("location", "")
    if 300 <= code < 400 and "login" in location and path not in ("/desk/login", "/desk/logout"):
        return DENY
    if 300 <= code < 400 and "error=" in location:  # a desk form: the refusal comes back as a message
        error = parse_qs(urlsplit(location).query).get("error", [""])[0]
        if error == TicketNotFound.message_zh:
            return HIDE
        if error in _denied_messages():
            return DENY
    if code == 404:
        return HIDE
    return OK


@pytest.mark.parametrize("method, path", sorted(MATRIX), ids=lambda v: str(v))
def test_route_as_every_role(site: tuple[Any, World], method: str, path: str) -> None:
    app, world = site
    expected = MATRIX[(method, path)]
    seen, codes = {}, {}
    for role in ROLES:
        resp = _call(_client(app, role), method, path, world)
        seen[role], codes[role] = outcome(resp, path), resp.status_code
    wrong = {r: f"{seen[r]} ({codes[r]}), expected {expected[r]}" for r in ROLES if seen[r] != expected[r]}
    assert not wrong, wrong
