"""Server-sent events instead of polling: the web chat's ``/chat/api/stream`` and the agents'
``/agent/live/api/stream``, over real HTTP (the app served by uvicorn on loopback, Rasa faked).

A message stored after the stream opened arrives on it (woken in-process, or found by the
periodic database check when another process stored it); one session never sees another's
stream; a reconnect with Last-Event-ID resumes without loss or duplicates; the stream holds no
database connection while it waits and lets go of everything when the client leaves."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import push
from bot.channels.hub import ChannelHub
from bot.channels.outbound import notify_conversation
from bot.channels.rasa_client import RasaClient
from bot.models import ChatMessage, StaffRole, Team
from bot.services.staff import create_user
from bot.web.app import create_app
from tests.channel_support import (
    FakeRasa,
    ServerThread,
    chat_session_id,
    db_url,
    free_port,
    make_settings,
    staff_login,
    wait_until,
)

H = {"X-Chat-Request": "1"}
READ_TIMEOUT = 20.0  # a bound so that a broken stream fails instead of hanging
_users = count(1)


@dataclass
class Site:
    url: str
    app: Any
    fake: FakeRasa
    engine: Any

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=httpx.Timeout(READ_TIMEOUT))

    def chat_client(self) -> tuple[httpx.Client, str]:
        client = self.client()
        assert client.get("/chat").status_code == 200
        return client, f"web:{chat_session_id(client, self.app.state.settings)}"


@pytest.fixture
def site(engine, tmp_path: Path) -> Iterator[Site]:
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
    port = free_port()
    with ServerThread(app, port):
        yield Site(f"http://127.0.0.1:{port}", app, fake, engine)
    app.state.engine.dispose()


class EventReader:
    """Reads one ``text/event-stream`` response event by event (comments included)."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> None:
        self._cm = client.stream("GET", path, headers=headers or {})
        self.response = self._cm.__enter__()
        self._lines = self.response.iter_lines()

    def next(self) -> dict[str, Any]:
        event: dict[str, Any] = {}
        for line in self._lines:
            if line == "":
                if event:
                    return event
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "":
                event["comment"] = value
            elif field == "data":
                event["data"] = json.loads(value)
            else:
                event[field] = value
        raise AssertionError("the stream ended")

    def next_data(self, kind: str | None = None) -> dict[str, Any]:
        """The next event with data (of type ``kind``; None: the default ``message`` events)."""
        while True:
            event = self.next()
            if "data" in event and event.get("event") == kind:
                return event

    def next_with_messages(self) -> dict[str, Any]:
        while True:
            event = self.next_data()
            if event["data"]["messages"]:
                return event

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


def texts(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["text"]) for m in event["data"]["messages"]]


def other_hub(site: Site) -> ChannelHub:
    """A hub of its own (as in a worker), used from another thread and event loop."""
    settings = site.app.state.settings
    return ChannelHub(
        settings=settings,
        sessionmaker=sessionmaker(bind=site.app.state.engine),
        rasa=RasaClient(settings, transport=site.fake.transport()),
    )


def in_thread(coro_factory: Any) -> None:
    worker = threading.Thread(target=lambda: asyncio.run(coro_factory()))
    worker.start()
    worker.join(30)


def make_staff(engine, role: StaffRole = StaffRole.AGENT) -> tuple[str, str]:
    name = f"push_{role.value}_{engine.dialect.name}_{next(_users)}"
    team = Team.CLAIMS if role is StaffRole.PROCESSOR else None
    with Session(engine) as s, s.begin():
        create_user(s, username=name, password="push-pass-123", role=role, display_name="测试员", team=team)
    return name, "push-pass-123"


def test_a_message_stored_after_the_stream_opened_arrives_on_it(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)  # only the in-process wake-up can deliver
    client, conversation = site.chat_client()
    reader = EventReader(client, "/chat/api/stream")
    try:
        assert reader.response.status_code == 200
        assert reader.response.headers["content-type"].startswith("text/event-stream")
        first = reader.next_data()
        assert first["data"] == {"messages": [], "handover": None} and "id" not in first

        # a premium reminder stored by another hub, in another thread and event loop
        in_thread(
            lambda: notify_conversation(
                conversation, "EXTERNAL_premium_reminder", {"reminder_stage": "d7"}, hub=other_hub(site)
            )
        )
        event = reader.next_with_messages()
        assert texts(event) == [("bot", "[EXTERNAL_premium_reminder] reminder_stage=d7")]
        assert event["id"] == str(event["data"]["messages"][-1]["id"])

        # the customer's own turn: their message and the answer are pushed too
        client.post("/chat/api/message", json={"text": "你好"}, headers=H)
        seen = texts(reader.next_with_messages())
        while len(seen) < 2:
            seen += texts(reader.next_with_messages())
        assert seen == [("customer", "你好"), ("bot", "收到:你好")]
    finally:
        reader.close()
        client.close()


def test_an_agent_reply_during_a_handover_is_pushed_to_the_customer(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)
    customer, _conversation = site.chat_client()
    agent = site.client()
    username, password = make_staff(site.engine)
    csrf = staff_login(agent, username, password)
    customer.post("/chat/api/message", json={"text": "转人工"}, headers=H)
    handover_id = max(i["id"] for i in agent.get("/agent/live/api/queue").json()["items"])
    reader = EventReader(customer, "/chat/api/stream")
    try:
        assert reader.next_data()["data"]["handover"] == "waiting"  # the whole history first
        agent.post(f"/agent/live/api/{handover_id}/accept", headers={"X-CSRF-Token": csrf})
        event = reader.next_with_messages()
        assert texts(event) == [("agent", "人工客服已接入,请问有什么可以帮您?")]
        assert event["data"]["handover"] == "active"
        agent.post(
            f"/agent/live/api/{handover_id}/reply",
            json={"text": "您好,您的赔款预计3个工作日到账。"},
            headers={"X-CSRF-Token": csrf},
        )
        assert texts(reader.next_with_messages()) == [("agent", "您好,您的赔款预计3个工作日到账。")]
    finally:
        reader.close()
        customer.close()
        agent.close()


def test_a_message_stored_by_another_process_is_found_by_the_database_check(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 0.2)
    client, conversation = site.chat_client()
    reader = EventReader(client, "/chat/api/stream")
    try:
        reader.next_data()
        # no Session, no wake-up: like a row written by `python -m bot reminders run`
        with site.app.state.engine.begin() as conn:
            conn.execute(
                insert(ChatMessage).values(
                    conversation_id=conversation, role="bot", text="【续期交费提醒】您好", payload={}
                )
            )
        event = reader.next()
        while "data" not in event:
            assert event.get("comment") == "keep-alive"  # idle: only keep-alive comments
            event = reader.next()
        assert texts(event) == [("bot", "【续期交费提醒】您好")]
    finally:
        reader.close()
        client.close()


def test_one_session_never_sees_another_sessions_stream(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)
    alice, _ = site.chat_client()
    bob, bob_conversation = site.chat_client()
    reader = EventReader(bob, "/chat/api/stream")
    try:
        reader.next_data()
        alice.post("/chat/api/message", json={"text": "我的保单号LF2023000123"}, headers=H)
        in_thread(
            lambda: notify_conversation(
                bob_conversation,
                "EXTERNAL_claim_update",
                {"claim_update_number": "CL2600000001"},
                hub=other_hub(site),
            )
        )
        # bob's first message is his own notice: alice's turn never reached his stream
        assert texts(reader.next_with_messages()) == [
            ("bot", "[EXTERNAL_claim_update] claim_update_number=CL2600000001")
        ]
    finally:
        reader.close()
    forged = site.client()
    forged.cookies.set("chat_session", "web-guess.not-signed", domain="127.0.0.1", path="/chat")
    assert forged.get("/chat/api/stream").status_code == 401
    assert site.client().get("/chat/api/stream").status_code == 401  # no session at all
    for c in (alice, bob, forged):
        c.close()


def test_a_reconnect_with_last_event_id_resumes_without_loss_or_duplicates(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)
    client, conversation = site.chat_client()
    client.post("/chat/api/message", json={"text": "第一句"}, headers=H)
    client.post("/chat/api/message", json={"text": "第二句"}, headers=H)
    history = client.get("/chat/api/history").json()["messages"]
    assert len(history) == 4
    seen_up_to = history[1]["id"]  # the browser had received the first turn when the line dropped

    reader = EventReader(client, "/chat/api/stream?after=0", headers={"Last-Event-ID": str(seen_up_to)})
    try:
        event = reader.next_data()
        assert texts(event) == [("customer", "第二句"), ("bot", "收到:第二句")]
        last_id = event["id"]
        assert last_id == str(history[3]["id"])
    finally:
        reader.close()

    # stored while no stream was open
    in_thread(
        lambda: notify_conversation(
            conversation,
            "EXTERNAL_claim_update",
            {"claim_update_number": "CL2600000002"},
            hub=other_hub(site),
        )
    )
    reader = EventReader(client, "/chat/api/stream?after=0", headers={"Last-Event-ID": last_id})
    try:
        assert texts(reader.next_data()) == [
            ("bot", "[EXTERNAL_claim_update] claim_update_number=CL2600000002")
        ]
    finally:
        reader.close()
        client.close()


def test_a_waiting_stream_holds_no_database_connection_and_ends_with_its_client(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)
    client, conversation = site.chat_client()
    reader = EventReader(client, "/chat/api/stream")
    reader.next_data()
    wait_until(lambda: push.signals.listening(conversation) == 1, what="the stream subscribed")
    assert site.app.state.engine.pool.checkedout() == 0
    reader.close()
    client.close()
    wait_until(lambda: push.signals.listening(conversation) == 0, what="the stream let go")


def test_the_agents_live_page_gets_the_queue_and_the_conversation_pushed(site, monkeypatch) -> None:
    monkeypatch.setattr(push, "RECHECK_SECONDS", 600.0)
    agent = site.client()
    assert agent.get("/agent/live/api/stream").status_code == 401
    processor = site.client()
    staff_login(processor, *make_staff(site.engine, StaffRole.PROCESSOR))
    assert processor.get("/agent/live/api/stream").status_code == 403
    csrf = staff_login(agent, *make_staff(site.engine))

    queue = EventReader(agent, "/agent/live/api/stream")
    customer, _ = site.chat_client()
    try:
        assert queue.next_data("queue")["data"] == {"items": []}
        customer.post("/chat/api/message", json={"text": "转人工"}, headers=H)
        items = queue.next_data("queue")["data"]["items"]
        assert [(i["status"], i["reason_zh"]) for i in items] == [("waiting", "客户要求转人工")]
    finally:
        queue.close()

    handover_id = items[0]["id"]
    assert agent.get("/agent/live/api/stream?handover=999999").status_code == 404
    live = EventReader(agent, f"/agent/live/api/stream?handover={handover_id}")
    try:  # waiting: a preview
        event = live.next_data()
        assert event["data"]["handover"]["status"] == "waiting"
        assert ("customer", "转人工") in texts(event)
    finally:
        live.close()
    agent.post(f"/agent/live/api/{handover_id}/accept", headers={"X-CSRF-Token": csrf})
    live = EventReader(agent, f"/agent/live/api/stream?handover={handover_id}")
    try:  # accepted by this agent: the transcript, then each new message
        event = live.next_data()
        assert event["data"]["handover"]["status"] == "active"
        assert ("customer", "转人工") in texts(event)
        customer.post("/chat/api/message", json={"text": "我想问一下理赔款什么时候到账"}, headers=H)
        event = live.next_with_messages()
        assert texts(event)[0] == ("customer", "我想问一下理赔款什么时候到账")
        assert int(event["id"]) == event["data"]["messages"][-1]["id"]
    finally:
        live.close()
        customer.close()
        agent.close()
        processor.close()
