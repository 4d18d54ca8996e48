"""The agent console's endpoints against a fake Rasa server (httpx MockTransport)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEntry, Team, TicketType, VerifiedSession
from bot.models.base import utcnow
from bot.services.tickets.create import get_by_number
from tests import desk_support
from tests.desk_support import StaffClient, World, use_rasa

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures

Login = Callable[[str], StaffClient]


class FakeRasa:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.down = False
        self.slots: dict[str, Any] = {
            "business_type": "受益人变更",
            "id_tail": "071234",
            "person_name": "张小伟",
            "phone_number": "13812345678",
            "policy_number": "LF2023000456",
            "verified": False,
            "requested_slot": None,
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/webhooks/rest/webhook":
            import json

            body = json.loads(request.content)
            self.messages.append(body)
            return httpx.Response(
                200, json=[{"recipient_id": body["sender"], "text": "好的,请您提供保单号,我为您核实身份。"}]
            )
        if request.url.path.endswith("/tracker"):
            return httpx.Response(
                200,
                json={
                    "sender_id": request.url.path.split("/")[2],
                    "latest_message": {
                        "text": "x",
                        "intent": {"name": "change_beneficiary", "confidence": 0.9312},
                    },
                    "slots": self.slots,
                    "active_loop": {"name": "identity_form"},
                    "events": [],
                },
            )
        return httpx.Response(404)


@pytest.fixture
def rasa(app: Any) -> FakeRasa:
    fake = FakeRasa()
    use_rasa(app, fake.handler)
    return fake


def _start(c: StaffClient) -> str:
    resp = c.post("/api/agent/calls")
    assert resp.status_code == 200
    call_id: str = resp.json()["call_id"]
    assert resp.json()["sender_id"] == f"hotline:{call_id}"
    return call_id


def _verify_call(session: Session, world: World, call_id: str, *, minutes: int) -> None:
    """The caller of ``call_id`` verified, for ``minutes`` more (negative: expired)."""
    session.add(
        VerifiedSession(
            conversation_id=f"hotline:{call_id}",
            customer_id=world.customer.id,
            policy_id=world.policy.id,
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    session.flush()


def test_console_shows_script_intent_and_masked_slots(login: Login, world: World, rasa: FakeRasa) -> None:
    c = login("agent_li")
    call_id = _start(c)
    resp = c.post(f"/api/agent/calls/{call_id}/messages", json={"text": "我想把保单受益人改成我儿子"})
    assert resp.status_code == 200
    data = resp.json()
    assert rasa.messages[0]["sender"] == f"hotline:{call_id}"
    assert rasa.messages[0]["message"] == "我想把保单受益人改成我儿子"
    assert data["ok"] is True
    assert data["script"] == "好的,请您提供保单号,我为您核实身份。"
    assert data["intent"] == "change_beneficiary" and data["confidence"] == pytest.approx(0.9312)
    assert data["slots"]["person_name"] == "张*伟"
    assert data["slots"]["phone_number"] == "138****5678"
    assert data["slots"]["policy_number"] == "LF2023000456"
    assert "requested_slot" not in data["slots"]
    assert data["verified"] is False and data["policy"] is None


def test_verified_caller_gets_the_policy_card_and_checklist(
    login: Login, world: World, rasa: FakeRasa, session: Session
) -> None:
    c = login("agent_li")
    call_id = _start(c)
    _verify_call(session, world, call_id, minutes=30)
    data = c.post(f"/api/agent/calls/{call_id}/messages", json={"text": "保单号LF2023000456"}).json()
    assert data["verified"] is True
    assert data["policy"]["number"] == "LF2023000456"
    assert data["policy"]["policyholder"] == "张*伟"
    assert data["policy"]["bank_account"] == "6222 **** **** 0123"
    assert world.id_old not in str(data)
    assert data["checklist"]["title"] == "受益人变更材料清单"
    assert "新受益人身份证明(复印件)" in [i["label"] for i in data["checklist"]["items"]]
    view = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "view_personal_data", AuditEntry.object_type == "policy"
        )
    ).one()
    assert view.actor == "staff:agent_li" and view.customer_id == world.customer.id


def test_expired_verification_shows_no_card(
    login: Login, world: World, rasa: FakeRasa, session: Session
) -> None:
    c = login("agent_li")
    call_id = _start(c)
    _verify_call(session, world, call_id, minutes=-1)
    data = c.post(f"/api/agent/calls/{call_id}/messages", json={"text": "你好"}).json()
    assert data["verified"] is False and data["policy"] is None


def test_open_ticket_and_route_from_a_call(
    login: Login, world: World, rasa: FakeRasa, session: Session
) -> None:
    c = login("agent_li")
    call_id = _start(c)
    _verify_call(session, world, call_id, minutes=30)
    resp = c.post(
        f"/api/agent/calls/{call_id}/tickets",
        json={"ticket_type": "beneficiary_change", "note": "客户要求变更受益人"},
    )
    assert resp.status_code == 200
    out = resp.json()
    assert out["team"] == "policy_service" and out["number"] in out["message"]
    ticket = get_by_number(session, out["number"])
    assert ticket is not None
    assert ticket.conversation_id == f"hotline:{call_id}"
    assert ticket.customer_id == world.customer.id and ticket.policy_id == world.policy.id
    assert ticket.ticket_type is TicketType.BENEFICIARY_CHANGE and ticket.payload["opened_by"] == "agent_li"
    # the agent opened it, but the desk (and its payloads) stay closed to agents
    assert c.get(f"/api/tickets/{out['number']}").status_code == 403

    assert c.post(f"/api/agent/calls/{call_id}/route", json={"team": "claims", "note": ""}).status_code == 422
    routed = c.post(
        f"/api/agent/calls/{call_id}/route", json={"team": "claims", "note": "客户询问理赔进度"}
    ).json()
    ticket = get_by_number(session, routed["number"])
    assert (
        ticket is not None and ticket.team is Team.CLAIMS and ticket.ticket_type is TicketType.HUMAN_HANDOVER
    )
    assert [e.kind for e in ticket.events] == ["created", "routed"]
    state = c.get(f"/api/agent/calls/{call_id}").json()
    assert [t["number"] for t in state["tickets"]] == [out["number"], routed["number"]]


def test_calls_are_private_to_their_agent(
    login: Login, world: World, rasa: FakeRasa, session: Session
) -> None:
    from bot.models import StaffRole
    from tests.desk_support import add_staff

    add_staff(session, "agent_wu", StaffRole.AGENT)
    mine = _start(login("agent_li"))
    other = login("agent_wu")
    assert other.post(f"/api/agent/calls/{mine}/messages", json={"text": "你好"}).status_code == 404
    assert (
        other.post(f"/api/agent/calls/{mine}/tickets", json={"ticket_type": "complaint"}).status_code == 404
    )
    assert other.post("/api/agent/calls/hotline:../x/messages", json={"text": "你好"}).status_code in (
        404,
        405,
    )
    assert login("sup_zhou").get(f"/api/agent/calls/{mine}").status_code == 200


@pytest.mark.parametrize(
    "who, status", [("proc_wang", 403), ("rev_sun", 403), ("agent_li", 200), ("sup_zhou", 200)]
)
def test_console_roles(login: Login, world: World, rasa: FakeRasa, who: str, status: int) -> None:
    c = login(who)
    assert c.post("/api/agent/calls").status_code == status
    page = c.get("/agent")
    assert page.status_code == status
    if status == 403:
        assert "无权访问" in page.text


def test_agent_cannot_open_the_desk(login: Login, world: World) -> None:
    c = login("agent_li")
    page = c.get("/desk")
    assert page.status_code == 403 and "无权访问" in page.text
    assert c.get(f"/desk/tickets/{world.surrender_ticket.number}").status_code == 403


def test_rasa_down_gives_a_clear_message(login: Login, world: World, rasa: FakeRasa) -> None:
    rasa.down = True
    c = login("agent_li")
    call_id = _start(c)
    data = c.post(f"/api/agent/calls/{call_id}/messages", json={"text": "你好"}).json()
    assert data["ok"] is False
    assert data["error"].startswith("对话引擎暂时无法连接")
    # tickets still work without Rasa
    assert (
        c.post(
            f"/api/agent/calls/{call_id}/tickets", json={"ticket_type": "complaint", "note": "投诉"}
        ).status_code
        == 200
    )
