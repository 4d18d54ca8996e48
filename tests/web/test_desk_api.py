"""The desk JSON API for every role and endpoint, the refused combinations included."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEntry, Policy, TicketStatus
from tests import desk_support
from tests.desk_support import StaffClient, World, fresh_ticket, notifier_of

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures

Login = Callable[[str], StaffClient]

USERS = {
    "agent": "agent_li",
    "processor": "proc_wang",
    "other_team": "proc_chen",
    "reviewer": "rev_sun",
    "supervisor": "sup_zhou",
}


def test_unauthenticated_api_gets_401(app: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app)
    for url in ("/api/me", "/api/tickets", "/api/reports", "/api/audit/verify"):
        resp = client.get(url)
        assert resp.status_code == 401, url
        assert resp.json()["message"] == "请先登录。"


def test_wrong_password_is_refused_with_a_polite_message(app: Any) -> None:
    client = StaffClient(app, "proc_wang", password="wrong-password")
    assert client.login_response.status_code == 400
    assert "用户名或密码不正确" in client.login_response.text
    assert client.http.get("/api/me").status_code == 401


def test_login_form_needs_its_csrf_token(app: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    client.get("/desk/login")
    resp = client.post(
        "/desk/login", data={"username": "proc_wang", "password": "correct-horse-42", "csrf_token": "x"}
    )
    assert resp.status_code == 400 and "页面已过期" in resp.text


def test_api_writes_need_the_csrf_header(login: Login, world: World) -> None:
    c = login("proc_wang")
    resp = c.post(f"/api/tickets/{world.surrender_ticket.number}/take", headers={"X-CSRF-Token": "forged"})
    assert resp.status_code == 403 and resp.json()["code"] == "csrf_failed"
    resp = c.http.post(f"/api/tickets/{world.surrender_ticket.number}/take", json={})
    assert resp.status_code == 403
    assert c.post(f"/api/tickets/{world.surrender_ticket.number}/take").status_code == 200


def test_expired_session_is_refused(login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from bot.models.base import utcnow
    from bot.services import staff

    c = login("proc_wang")
    assert c.get("/api/me").status_code == 200
    later = utcnow() + timedelta(minutes=481)  # past BOT_STAFF_SESSION_MINUTES (480)
    monkeypatch.setattr(staff, "utcnow", lambda: later)
    assert c.get("/api/me").status_code == 401
    page = c.get("/desk")
    assert page.status_code == 303 and page.headers["location"].startswith("/desk/login")


@pytest.mark.parametrize(
    "who, status",
    [("agent", 403), ("processor", 200), ("other_team", 200), ("reviewer", 200), ("supervisor", 200)],
)
def test_queue_access_by_role(login: Login, world: World, who: str, status: int) -> None:
    resp = login(USERS[who]).get("/api/tickets")
    assert resp.status_code == status


def test_queue_is_scoped_by_role(login: Login, world: World, session: Session) -> None:
    numbers = lambda c: {t["number"] for t in c.get("/api/tickets").json()["items"]}  # noqa: E731
    ps = {
        world.beneficiary_ticket.number,
        world.contact_ticket.number,
        world.account_ticket.number,
        world.surrender_ticket.number,
    }
    assert numbers(login("proc_wang")) == ps
    assert numbers(login("proc_chen")) == {world.claim_ticket.number}
    assert numbers(login("rev_sun")) == set()  # nothing pending approval yet
    assert numbers(login("sup_zhou")) == ps | {world.claim_ticket.number}
    # a processor asking for another team's queue still sees only their own team
    c = login("proc_chen")
    assert {t["number"] for t in c.get("/api/tickets?team=policy_service").json()["items"]} == set()


@pytest.mark.parametrize(
    "who, status",
    [("agent", 403), ("processor", 200), ("other_team", 404), ("reviewer", 404), ("supervisor", 200)],
)
def test_ticket_detail_object_level(login: Login, world: World, who: str, status: int) -> None:
    resp = login(USERS[who]).get(f"/api/tickets/{world.beneficiary_ticket.number}")
    assert resp.status_code == status
    if status == 404:
        assert resp.json()["message"] == "未查询到该工单。"  # same answer as a ticket that does not exist
    assert login(USERS["supervisor"]).get("/api/tickets/TK2699999999").status_code == 404


def test_ticket_detail_masks_every_personal_field(login: Login, world: World) -> None:
    resp = login("proc_wang").get(f"/api/tickets/{world.beneficiary_ticket.number}")
    body = resp.text
    data = resp.json()
    for secret in (
        world.id_holder,
        world.id_old,
        world.id_new,
        "13812345678",
        "6222021234567890123",
        "张小伟",
        "张晓明",
    ):
        assert secret not in body, secret
    assert data["customer"]["mobile"] == "138****5678"
    assert data["policy"]["bank_account"] == "6222 **** **** 0123"
    assert data["payload"]["after"][0]["id_number"] == world.id_new[:6] + "*" * 12
    assert data["allowed_actions"] == ["take", "assign", "comment"]
    assert data["transcript"] == []  # no tracker store yet: empty, not an error


def test_ticket_view_is_audited(login: Login, world: World, session: Session) -> None:
    login("proc_wang").get(f"/api/tickets/{world.beneficiary_ticket.number}")
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "view_personal_data", AuditEntry.object_id == world.beneficiary_ticket.number
        )
    ).one()
    assert entry.actor == "staff:proc_wang" and entry.customer_id == world.customer.id


# (endpoint, body, role) → expected status on a fresh surrender ticket (open, unassigned, policy service)
ACTION_MATRIX = [
    ("take", {}, "agent", 403),
    ("take", {}, "other_team", 404),
    ("take", {}, "reviewer", 404),
    ("take", {}, "processor", 200),
    ("take", {}, "supervisor", 200),
    ("comment", {"note": "客户来电"}, "processor", 200),
    ("comment", {"note": "客户来电"}, "other_team", 404),
    ("comment", {"note": "客户来电"}, "agent", 403),
    ("comment", {"note": ""}, "processor", 422),
    ("approve", {"reason": "同意"}, "processor", 403),  # not yet taken
    ("approve", {"reason": "同意"}, "supervisor", 409),  # open → approved is not a transition
    ("close", {}, "supervisor", 409),
    ("request-documents", {"documents": ["身份证明"]}, "supervisor", 409),
    ("resume", {}, "supervisor", 409),
    ("process", {}, "supervisor", 409),  # surrender needs no checker
    ("assign", {"assignee": "proc_zhao"}, "processor", 200),
    ("assign", {"assignee": "proc_chen"}, "supervisor", 422),  # other team's processor
    ("assign", {"assignee": "nobody"}, "supervisor", 404),
    ("notify", {}, "processor", 422),  # nothing to tell the customer yet
]


@pytest.mark.parametrize("action, body, who, status", ACTION_MATRIX)
def test_action_matrix(
    login: Login, world: World, action: str, body: dict[str, Any], who: str, status: int
) -> None:
    resp = login(USERS[who]).post(f"/api/tickets/{world.surrender_ticket.number}/{action}", json=body)
    assert resp.status_code == status, resp.text
    if status >= 400:
        assert resp.json()["message"]  # a Chinese message for the desk to show


def test_409_message_names_the_state(login: Login, world: World) -> None:
    resp = login("sup_zhou").post(f"/api/tickets/{world.surrender_ticket.number}/close")
    assert resp.status_code == 409
    assert resp.json() == {
        "code": "invalid_transition",
        "message": f"工单 {world.surrender_ticket.number} 当前状态为「待领取」,不能执行「关闭」。",
    }


def test_non_checker_ticket_path_over_the_api_notifies_the_customer(
    login: Login, world: World, app: Any, session: Session
) -> None:
    c = login("proc_wang")
    n = world.surrender_ticket.number
    assert c.post(f"/api/tickets/{n}/take").json()["ticket"]["status"] == "in_progress"
    resp = c.post(
        f"/api/tickets/{n}/request-documents", json={"documents": ["退保申请书"], "note": "请本人签字"}
    )
    assert resp.status_code == 200
    assert resp.json()["notification"]["delivered"] is True
    assert c.post(f"/api/tickets/{n}/resume").status_code == 200
    resp = c.post(f"/api/tickets/{n}/approve", json={"reason": "同意退保"})
    assert resp.json()["ticket"]["status"] == "approved"
    assert c.post(f"/api/tickets/{n}/close").json()["ticket"]["status"] == "closed"
    calls = notifier_of(app).calls
    assert [(conv, intent, e["ticket_status_text"]) for conv, intent, e in calls] == [
        ("web:sess-surrender", "EXTERNAL_ticket_update", "documents_requested"),
        ("web:sess-surrender", "EXTERNAL_ticket_update", "approved"),
    ]
    assert calls[0][2]["ticket_note"] == "退保申请书(请本人签字)"
    ticket = fresh_ticket(session, n)
    notified = [e for e in ticket.events if e.kind == "notified"]
    assert len(notified) == 2 and all(e.data["delivered"] for e in notified)
    assert "有新进展" in (notified[0].note or "")


def test_rasa_down_does_not_lose_the_staff_action(
    login: Login, world: World, app: Any, session: Session
) -> None:
    notifier_of(app).fail = True
    c = login("proc_wang")
    n = world.surrender_ticket.number
    c.post(f"/api/tickets/{n}/take")
    resp = c.post(f"/api/tickets/{n}/reject", json={"reason": "不符合退保条件"})
    assert resp.status_code == 200
    assert resp.json()["notification"]["delivered"] is False
    ticket = fresh_ticket(session, n)
    assert ticket.status is TicketStatus.REJECTED
    event = ticket.events[-1]
    assert event.kind == "notified" and event.data["delivered"] is False
    assert "通知未送达" in (event.note or "")
    # once Rasa is back, the desk can resend
    notifier_of(app).fail = False
    resp = c.post(f"/api/tickets/{n}/notify")
    assert resp.status_code == 200 and resp.json()["notification"]["delivered"] is True
    assert notifier_of(app).calls[-1][2]["ticket_status_text"] == "rejected"


def test_maker_checker_over_the_api(login: Login, world: World, session: Session) -> None:
    n = world.beneficiary_ticket.number
    maker, reviewer, sup = login("proc_wang"), login("rev_sun"), login("sup_zhou")
    assert maker.post(f"/api/tickets/{n}/take").status_code == 200
    assert maker.post(f"/api/tickets/{n}/approve", json={"reason": "ok"}).status_code == 403
    assert (
        reviewer.post(f"/api/tickets/{n}/approve").status_code == 404
    )  # not pending yet: not the reviewer's
    assert (
        maker.post(f"/api/tickets/{n}/process", json={"note": "已核对"}).json()["ticket"]["status"]
        == "pending_approval"
    )
    assert maker.post(f"/api/tickets/{n}/approve").status_code == 403  # the maker is not a checker
    assert n in {t["number"] for t in reviewer.get("/api/tickets").json()["items"]}
    detail = reviewer.get(f"/api/tickets/{n}").json()
    assert detail["allowed_actions"] == ["approve", "reject", "comment"]
    resp = reviewer.post(f"/api/tickets/{n}/approve", json={"reason": "复核通过"})
    assert resp.status_code == 200 and resp.json()["ticket"]["status"] == "approved"
    assert sup.post(f"/api/tickets/{n}/approve").status_code == 409  # already decided
    session.expire_all()
    policy = session.get(Policy, world.policy.id)
    assert policy is not None
    assert {b.name for b in policy.beneficiaries} == {"李秀英", "张晓明"}
    # the reviewer keeps access to what they checked
    assert reviewer.get(f"/api/tickets/{n}").status_code == 200


def test_supervisor_self_approval_refused_over_the_api(login: Login, world: World) -> None:
    sup = login("sup_zhou")
    n = world.contact_ticket.number
    sup.post(f"/api/tickets/{n}/take")
    sup.post(f"/api/tickets/{n}/process")
    resp = sup.post(f"/api/tickets/{n}/approve")
    assert resp.status_code == 403
    assert resp.json() == {"code": "self_approval", "message": "复核须由经办人以外的另一位同事完成。"}


@pytest.mark.parametrize(
    "who, status", [("processor", 403), ("reviewer", 403), ("agent", 403), ("supervisor", 200)]
)
def test_supervisor_only_endpoints(login: Login, world: World, who: str, status: int) -> None:
    c = login(USERS[who])
    for url in (
        "/api/audit/verify",
        "/api/reports",
        f"/api/tickets/{world.surrender_ticket.number}/audit.csv",
        f"/api/customers/{world.customer.id}/audit.csv",
    ):
        assert c.get(url).status_code == status, url


def test_queue_filters_and_search(login: Login, world: World) -> None:
    sup = login("sup_zhou")
    items = lambda url: [t["number"] for t in sup.get(url).json()["items"]]  # noqa: E731
    assert items("/api/tickets?type=claim") == [world.claim_ticket.number]
    assert items(f"/api/tickets?q={world.contact_ticket.number.lower()}") == [world.contact_ticket.number]
    assert len(items("/api/tickets?q=LF2023000456")) == 5
    assert items("/api/tickets?q=LF2099999999") == []
    assert items("/api/tickets?status=closed") == []
    assert items("/api/tickets?priority=urgent") == []
    assert items("/api/tickets?sla_breached=1") == []
    sup.post(f"/api/tickets/{world.claim_ticket.number}/take")
    assert items(f"/api/tickets?assignee={world.supervisor.id}") == [world.claim_ticket.number]
    assert world.claim_ticket.number not in items("/api/tickets?assignee=0")
    assert sup.get("/api/tickets?status=nonsense").status_code == 422


def test_no_response_leaks_a_full_identifier(login: Login, world: World) -> None:
    sup = login("sup_zhou")
    n = world.account_ticket.number
    responses = [
        sup.get("/api/tickets"),
        sup.get(f"/api/tickets/{n}"),
        sup.post(f"/api/tickets/{n}/take"),
        sup.get(f"/api/tickets/{world.beneficiary_ticket.number}"),
    ]
    blob = json.dumps([r.json() for r in responses], ensure_ascii=False)
    for secret in (
        world.id_holder,
        world.id_old,
        world.id_new,
        "6217001294567890",
        "6222021234567890123",
        "13812345678",
        "张小伟",
    ):
        assert secret not in blob
