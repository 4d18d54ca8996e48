"""Shared fixtures for the ticket desk tests: a small world of staff, customers, policies and
tickets, and the app bound to the test's own connection (rolled back after each test)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.models import (
    Beneficiary,
    Customer,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    StaffRole,
    StaffUser,
    Team,
    Ticket,
    TicketType,
)
from bot.security import hash_password
from bot.services.tickets.create import create_ticket

PASSWORD = "correct-horse-42"

# Valid GB 11643 numbers (check digits computed by bot.ids).
ID_HOLDER = "11010519491231002X"
ID_OLD_BENEFICIARY = "110101199003071234"
ID_NEW_BENEFICIARY = "44030419851012003X"


def _fix_check_digit(seventeen: str) -> str:
    from bot.ids import id_check_char

    return seventeen + id_check_char(seventeen)


@lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)


def add_staff(session: Session, username: str, role: StaffRole, team: Team | None = None) -> StaffUser:
    user = StaffUser(
        username=username,
        display_name=username.replace("_", " ").title(),
        password_hash=password_hash(),
        role=role,
        team=team,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


class World:
    def __init__(self, session: Session) -> None:
        s = session
        self.session = s
        self.agent = add_staff(s, "agent_li", StaffRole.AGENT)
        self.proc = add_staff(s, "proc_wang", StaffRole.PROCESSOR, Team.POLICY_SERVICE)
        self.proc2 = add_staff(s, "proc_zhao", StaffRole.PROCESSOR, Team.POLICY_SERVICE)
        self.claims_proc = add_staff(s, "proc_chen", StaffRole.PROCESSOR, Team.CLAIMS)
        self.reviewer = add_staff(s, "rev_sun", StaffRole.REVIEWER)
        self.supervisor = add_staff(s, "sup_zhou", StaffRole.SUPERVISOR)

        self.id_holder = _fix_check_digit(ID_HOLDER[:17])
        self.id_old = _fix_check_digit(ID_OLD_BENEFICIARY[:17])
        self.id_new = _fix_check_digit(ID_NEW_BENEFICIARY[:17])
        self.customer = Customer(
            name="张小伟",
            id_number=self.id_holder,
            gender="F",
            birth_date=date(1949, 12, 31),
            mobile="13812345678",
            email="zhangxw@example.com",
            address="北京市朝阳区建国路88号3单元501",
        )
        s.add(self.customer)
        s.flush()
        self.policy = Policy(
            number="LF2023000456",
            line=LineOfBusiness.LIFE,
            product_name="安康终身寿险",
            status=PolicyStatus.IN_FORCE,
            issue_date=date(2023, 3, 1),
            effective_date=date(2023, 3, 2),
            sum_insured=Decimal("500000.00"),
            premium=Decimal("12000.00"),
            payment_frequency=PaymentFrequency.ANNUAL,
            payment_years=20,
            bank_name="工商银行",
            bank_account="6222021234567890123",
            policyholder_id=self.customer.id,
            insured_id=self.customer.id,
        )
        s.add(self.policy)
        s.flush()
        s.add(
            Beneficiary(
                policy_id=self.policy.id,
                name="张大山",
                relationship_to_insured="配偶",
                id_number=self.id_old,
                share_pct=Decimal("100.00"),
                order=1,
            )
        )
        s.flush()
        self.beneficiary_ticket = self.ticket(
            TicketType.BENEFICIARY_CHANGE,
            # the payload contract of bot/services/changes/ (a Luhn-valid card below)
            payload={
                "kind": "beneficiary_change",
                "policy_number": "LF2023000456",
                "before": [
                    {
                        "name": "张大山",
                        "relationship": "配偶",
                        "id_number": self.id_old,
                        "share_pct": "100.00",
                        "order": 1,
                    }
                ],
                "after": [
                    {
                        "name": "张晓明",
                        "relationship": "子女",
                        "id_number": self.id_new,
                        "share_pct": "60.00",
                        "order": 1,
                    },
                    {
                        "name": "李秀英",
                        "relationship": "配偶",
                        "id_number": self.id_old,
                        "share_pct": "40.00",
                        "order": 1,
                    },
                ],
            },
            conversation_id="telegram:5550001",
        )
        self.contact_ticket = self.ticket(
            TicketType.CONTACT_CHANGE,
            payload={
                "kind": "contact_change",
                "policy_number": "LF2023000456",
                "before": {
                    "mobile": "13812345678",
                    "email": "zhangxw@example.com",
                    "address": "北京市朝阳区建国路88号3单元501",
                },
                "after": {
                    "mobile": "13900001111",
                    "email": "new@example.com",
                    "address": "北京市朝阳区建国路88号3单元501",
                },
                "changed": ["mobile", "email"],
            },
        )
        self.account_ticket = self.ticket(
            TicketType.PAYMENT_ACCOUNT_CHANGE,
            payload={
                "kind": "payment_account_change",
                "policy_number": "LF2023000456",
                "before": {"bank_name": "工商银行", "bank_account": "6222021234567890123"},
                "after": {
                    "bank_name": "建设银行",
                    "bank_account": "6217001294567890",
                    "account_holder": "张小伟",
                },
            },
        )
        self.surrender_ticket = self.ticket(TicketType.SURRENDER, payload={"reason": "资金周转"})
        self.claim_ticket = self.ticket(TicketType.CLAIM, payload={"description": "住院治疗"})

    def ticket(self, ticket_type: TicketType, **kwargs: Any) -> Ticket:
        kwargs.setdefault("conversation_id", "web:sess-" + ticket_type.value)
        ticket, _ = create_ticket(
            self.session,
            ticket_type=ticket_type,
            customer_id=self.customer.id,
            policy_id=self.policy.id,
            **kwargs,
        )
        return ticket


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


class Notifier:
    """A fake for the customer notification (Rasa trigger_intent + channel delivery)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.fail = False

    async def __call__(
        self, conversation_id: str, intent: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]:
        self.calls.append((conversation_id, intent, entities))
        if self.fail:
            from bot.channels.rasa_client import RasaUnavailable

            raise RasaUnavailable("down")
        return [{"recipient_id": conversation_id, "text": f"您的工单 {entities['ticket_number']} 有新进展。"}]


def make_test_app(engine: Engine, session: Session, **settings_kw: Any) -> Any:
    from bot.web import deps
    from bot.web.app import create_app

    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "session_secret": "test-session-secret",
        "tracker_database_url": "sqlite:////nonexistent/rasa_tracker.db",
        "telegram_token": "",
        **settings_kw,
    }
    settings = Settings(**values)
    app = create_app(settings)
    conn = session.connection()
    factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app.dependency_overrides[deps.get_sessionmaker] = lambda: factory
    use_notifier(app, Notifier())
    return app


def use_notifier(app: Any, notifier: Notifier) -> None:
    """The app tells customers through ``notifier`` (``notifier_of(app)`` gives it back)."""
    from bot.web import deps

    app.dependency_overrides[deps.get_notifier] = lambda: notifier


def notifier_of(app: Any) -> Notifier:
    from bot.web import deps

    notifier: Notifier = app.dependency_overrides[deps.get_notifier]()
    return notifier


def use_rasa(app: Any, handler: Any) -> None:
    """The agent console talks to a fake Rasa: ``handler`` answers its HTTP requests."""
    import httpx

    from bot.channels.rasa_client import RasaClient
    from bot.web import deps

    client = RasaClient(app.state.settings, transport=httpx.MockTransport(handler))
    app.dependency_overrides[deps.get_rasa] = lambda: client


@pytest.fixture
def app(engine: Engine, session: Session, world: World) -> Any:
    return make_test_app(engine, session)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient:
    """A TestClient logged in as one staff member, sending the CSRF header on writes."""

    def __init__(self, app: Any, username: str, password: str = PASSWORD) -> None:
        self.http = TestClient(app, follow_redirects=False)
        page = self.http.get("/desk/login")
        token = CSRF_RE.search(page.text)
        assert token is not None
        resp = self.http.post(
            "/desk/login", data={"username": username, "password": password, "csrf_token": token.group(1)}
        )
        self.login_response = resp
        self.csrf = ""
        if resp.status_code == 303:
            self.csrf = self.http.get("/api/me").json()["csrf_token"]

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.http.post(url, json=json if json is not None else {}, headers=headers, **kw)

    def form(self, url: str, data: dict[str, Any]) -> Any:
        page = self.http.get(url.rsplit("/action", 1)[0])
        token = CSRF_RE.search(page.text)
        return self.http.post(url, data={"csrf_token": token.group(1) if token else "", **data})


@pytest.fixture
def login(app: Any) -> Callable[[str], StaffClient]:
    clients: list[StaffClient] = []

    def _login(username: str) -> StaffClient:
        client = StaffClient(app, username)
        assert client.login_response.status_code == 303, client.login_response.text
        clients.append(client)
        return client

    return _login


def fresh_ticket(session: Session, number: str) -> Ticket:
    session.expire_all()
    from bot.services.tickets.create import get_by_number

    ticket = get_by_number(session, number)
    assert ticket is not None
    return ticket
