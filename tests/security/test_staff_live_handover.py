"""Attacks on the live handover queue (issue 12, item 1): another agent reading, answering, taking
over or releasing someone else's handover, reading closed ones, unmasked personal data, and no audit.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.models import AuditEntry, StaffRole
from bot.services import audit
from bot.services.staff import create_user
from bot.web.app import create_app
from tests.channel_support import FakeRasa, db_url, make_settings, staff_login

H = {"X-Chat-Request": "1"}
PASSWORD = "handover-pass-9431"
ID_NUMBER = "110105198503157317"
CARD = "6222021234567890123"  # separators are the masking suite's (item 4)
MOBILE = "13800138000"
_n = count(1)


class Stage:
    def __init__(self, engine: Any, tmp_path: Path) -> None:
        self.engine = engine
        self.settings = make_settings(db_url(engine), tmp_path)
        self.app = create_app(self.settings, rasa=RasaClient(self.settings, transport=FakeRasa().transport()))
        self.clients: list[TestClient] = []

    def user(self, role: StaffRole = StaffRole.AGENT) -> tuple[TestClient, dict[str, str]]:
        name = f"sec_{role.value}_{self.engine.dialect.name}_{next(_n)}"
        with Session(self.engine) as s, s.begin():
            create_user(s, username=name, password=PASSWORD, role=role, display_name=name)
        client = TestClient(self.app)
        self.clients.append(client)
        return client, {"X-CSRF-Token": staff_login(client, name, PASSWORD)}

    def handover(self) -> tuple[TestClient, int]:
        customer = TestClient(self.app)
        self.clients.append(customer)
        customer.get("/chat")
        customer.post("/chat/api/message", json={"text": "转人工"}, headers=H)
        text = f"我的身份证{ID_NUMBER},银行卡{CARD},手机{MOBILE}"
        customer.post("/chat/api/message", json={"text": text}, headers=H)
        agent, _ = self.user()
        items = agent.get("/agent/live/api/queue").json()["items"]
        return customer, max(i["id"] for i in items)

    def close(self) -> None:
        for c in self.clients:
            c.close()


@pytest.fixture
def stage(engine: Any, tmp_path: Path) -> Any:
    s = Stage(engine, tmp_path)
    yield s
    s.close()


def _no_pii(body: Any) -> None:
    text = str(body)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert ID_NUMBER not in text and ID_NUMBER[-6:] not in text
    assert CARD not in digits
    assert MOBILE not in digits


def test_another_agent_cannot_read_answer_take_over_or_release_an_active_handover(stage: Stage) -> None:
    _customer, hid = stage.handover()
    owner, owner_hdr = stage.user()
    assert owner.post(f"/agent/live/api/{hid}/accept", headers=owner_hdr).status_code == 200
    intruder, hdr = stage.user()
    assert intruder.get(f"/agent/live/api/{hid}/messages").status_code == 403
    assert intruder.get(f"/agent/live/api/stream?handover={hid}").status_code == 403
    reply = intruder.post(f"/agent/live/api/{hid}/reply", json={"text": "我是另一位坐席"}, headers=hdr)
    assert reply.status_code == 403
    assert intruder.post(f"/agent/live/api/{hid}/accept", headers=hdr).status_code == 403
    assert intruder.post(f"/agent/live/api/{hid}/release", headers=hdr).status_code == 403
    supervisor, sup_hdr = stage.user(StaffRole.SUPERVISOR)  # not even a supervisor takes it over
    assert supervisor.post(f"/agent/live/api/{hid}/accept", headers=sup_hdr).status_code == 403
    # the owner still has it, and it is still open
    assert owner.get(f"/agent/live/api/{hid}/messages").json()["handover"]["status"] == "active"


def test_the_transcript_is_masked_for_the_preview_and_for_the_accepting_agent(stage: Stage) -> None:
    _customer, hid = stage.handover()
    agent, hdr = stage.user()
    preview = agent.get(f"/agent/live/api/{hid}/messages").json()
    assert preview["handover"]["access"] == "preview"
    assert any("身份证" in m["text"] for m in preview["messages"])
    _no_pii(preview)
    agent.post(f"/agent/live/api/{hid}/accept", headers=hdr)
    full = agent.get(f"/agent/live/api/{hid}/messages").json()
    assert full["handover"]["access"] == "full"
    assert any("身份证" in m["text"] for m in full["messages"])
    _no_pii(full)


def test_closed_handovers_are_read_only_to_supervisors_and_the_agent_who_handled_them(stage: Stage) -> None:
    _customer, hid = stage.handover()
    handler, hdr = stage.user()
    handler.post(f"/agent/live/api/{hid}/accept", headers=hdr)
    assert handler.post(f"/agent/live/api/{hid}/release", headers=hdr).json()["released"] is True
    other, other_hdr = stage.user()
    assert other.get(f"/agent/live/api/{hid}/messages").status_code == 403
    supervisor, sup_hdr = stage.user(StaffRole.SUPERVISOR)
    body = supervisor.get(f"/agent/live/api/{hid}/messages").json()
    assert body["handover"]["access"] == "read_only" and body["messages"]
    _no_pii(body)
    assert handler.get(f"/agent/live/api/{hid}/messages").json()["handover"]["access"] == "read_only"
    # read-only: nobody answers or reopens a closed one
    assert (
        supervisor.post(f"/agent/live/api/{hid}/reply", json={"text": "x"}, headers=sup_hdr).status_code
        == 409
    )
    assert other.post(f"/agent/live/api/{hid}/accept", headers=other_hdr).status_code == 409


def test_reads_replies_accepts_releases_and_refusals_are_audited(stage: Stage) -> None:
    _customer, hid = stage.handover()
    agent, hdr = stage.user()
    agent.get(f"/agent/live/api/{hid}/messages")
    agent.post(f"/agent/live/api/{hid}/accept", headers=hdr)
    agent.get(f"/agent/live/api/{hid}/messages")
    agent.post(f"/agent/live/api/{hid}/reply", json={"text": "您好,请问还需要什么帮助?"}, headers=hdr)
    intruder, _ = stage.user()
    intruder.get(f"/agent/live/api/{hid}/messages")
    agent.post(f"/agent/live/api/{hid}/release", headers=hdr)
    with Session(stage.engine) as s:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "handover", AuditEntry.object_id == str(hid))
        ).all()
        actions = [r.action for r in rows]
        assert actions.count("handover_read") == 2
        for action in ("handover_accept", "handover_reply", "handover_release", "handover_denied"):
            assert action in actions, actions
        assert all(r.actor.startswith("staff:") for r in rows)
        assert "请问还需要" not in str([r.after for r in rows])  # what was said is not copied into the log
        assert audit.verify_chain(s) is None
