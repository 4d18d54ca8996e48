"""The web chat's endpoints: anonymous signed sessions, server-side history, uploads, apology."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.models import Document
from bot.web.app import create_app
from tests.channel_support import (
    JPEG,
    FakeRasa,
    chat_session_id,
    db_url,
    make_claim,
    make_customer,
    make_policy,
    make_settings,
)

H = {"X-Chat-Request": "1"}


@pytest.fixture
def web(engine, tmp_path: Path) -> Iterator[tuple[Any, FakeRasa, Any]]:
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
    with TestClient(app) as client:
        yield app, fake, client


def new_client(app: Any) -> TestClient:
    client = TestClient(app)
    assert client.get("/chat").status_code == 200
    return client


def texts(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["text"]) for m in state["messages"]]


def test_the_page_sets_an_anonymous_signed_session_and_uses_no_external_assets(web) -> None:
    _app, _fake, client = web
    resp = client.get("/chat")
    assert resp.status_code == 200
    assert "在线客服" in resp.text and 'name="viewport"' in resp.text
    assert "http://" not in resp.text and "https://" not in resp.text  # no CDN
    cookie = resp.headers["set-cookie"]
    assert (
        "chat_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("samesite", "SameSite")
    )
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    assert client.get("/chat/static/chat.js").status_code == 200


def test_history_survives_a_reload(web) -> None:
    app, fake, _ = web
    client = new_client(app)
    state = client.post("/chat/api/message", json={"text": "你好"}, headers=H).json()
    assert texts(state)[-1] == ("bot", "收到:你好")
    sid = chat_session_id(client, app.state.settings)
    assert fake.received[-1] == (f"web:{sid}", "你好")
    reloaded = client.get("/chat/api/history").json()  # a reload fetches from the start
    assert texts(reloaded) == [("customer", "你好"), ("bot", "收到:你好")]
    newer = client.get(f"/chat/api/history?after={reloaded['messages'][0]['id']}").json()
    assert texts(newer) == [("bot", "收到:你好")]


def test_sessions_cannot_see_or_write_each_other(web) -> None:
    app, _fake, _ = web
    alice, bob = new_client(app), new_client(app)
    alice.post("/chat/api/message", json={"text": "我的保单号LF2023000123"}, headers=H)
    assert all("LF2023000123" not in m["text"] for m in bob.get("/chat/api/history").json()["messages"])
    forged = TestClient(app)
    forged.cookies.set("chat_session", "web-guess.not-signed", path="/chat")
    assert forged.get("/chat/api/history").status_code == 401
    assert forged.post("/chat/api/message", json={"text": "x"}, headers=H).status_code == 401
    # without the chat header (a cross-site form) nothing is written
    assert alice.post("/chat/api/message", json={"text": "x"}).status_code == 403


def test_buttons_are_sent_as_payloads_and_shown_as_titles(web) -> None:
    app, fake, _ = web
    client = new_client(app)
    state = client.post("/chat/api/message", json={"text": "我要报案"}, headers=H).json()
    buttons = state["messages"][-1]["buttons"]
    assert [b["title"] for b in buttons] == ["车险", "医疗(长载荷)"]
    state = client.post(
        "/chat/api/message", json={"text": buttons[0]["payload"], "shown": "车险"}, headers=H
    ).json()
    assert fake.received[-1][1] == '/inform{"claim_type":"车险"}'
    assert ("customer", "车险") in texts(state)


def test_rasa_down_gets_an_apology_with_a_way_to_a_human(web) -> None:
    app, fake, _ = web
    client = new_client(app)
    fake.down = True
    state = client.post("/chat/api/message", json={"text": "在吗"}, headers=H).json()
    last = state["messages"][-1]
    assert "抱歉" in last["text"] and last["buttons"][0]["payload"] == "/request_human"


def test_an_upload_is_attached_to_the_conversations_claim(web, engine) -> None:
    app, _fake, _ = web
    client = new_client(app)
    conversation = f"web:{chat_session_id(client, app.state.settings)}"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        claim = make_claim(s, make_policy(s, make_customer(s)), conversation)
    resp = client.post(
        "/chat/api/upload", files={"file": ("现场.jpg", JPEG, "image/jpeg")}, data={"doc": ""}, headers=H
    )
    assert resp.status_code == 200
    reply = resp.json()["messages"][-1]["text"]
    assert claim.number in reply and "事故现场照片" in reply
    with Session(engine) as s:
        docs = list(s.scalars(select(Document).where(Document.claim_id == claim.id)))
    assert [d.file_name for d in docs] == ["现场.jpg"]
    bad = client.post("/chat/api/upload", files={"file": ("x.jpg", b"<script>", "image/jpeg")}, headers=H)
    assert bad.status_code == 422 and "无法接收" in bad.json()["messages"][-1]["text"]
