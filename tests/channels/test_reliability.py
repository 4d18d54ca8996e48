"""Issue 12, items 12 and 14 (reliability): Telegram group chats, Telegram updates accepted just
before a restart, Rasa slower than the customer's reply deadline, and the database calls of a
turn running off the event loop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import inbound, telegram, transcript
from bot.channels.factory import build_hub
from bot.channels.rasa_client import RasaClient
from bot.models import TelegramUpdate
from bot.web.app import create_app
from tests.channel_support import (
    TOKEN,
    WEBHOOK_SECRET,
    FakeBotApi,
    FakeRasa,
    ServerThread,
    db_url,
    free_port,
    make_settings,
    wait_until,
)

HEADER = "X-Telegram-Bot-Api-Secret-Token"
_ids = count(810_000)


def _update(
    chat_id: int, text: str, chat_type: str = "private", user_id: int | None = None
) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": 1767225600,
            "chat": {
                "id": chat_id,
                "type": chat_type,
                **({"title": "家庭群"} if chat_type != "private" else {}),
            },
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "客户"},
            "text": text,
        },
    }


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi(port=free_port())
    with ServerThread(fake.app(), fake.port):
        yield fake


def _app(engine: Any, tmp_path: Path, api: FakeBotApi, rasa: FakeRasa) -> Any:
    settings = make_settings(
        db_url(engine),
        tmp_path,
        telegram_token=TOKEN,
        telegram_api_base_url=api.base_url,
        public_url="https://assistant.example.test",
    )
    return create_app(settings, rasa=RasaClient(settings, transport=rasa.transport()))


def _post(client: TestClient, update: dict[str, Any]) -> int:
    return client.post("/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}).status_code


# ---------------------------------------------------------------- Telegram groups (item 12)


def test_a_group_chat_gets_no_account_service_and_never_reaches_rasa(engine, tmp_path: Path, api) -> None:
    rasa = FakeRasa()
    group = -100_123_456
    with TestClient(_app(engine, tmp_path, api, rasa)) as client:
        # one member verifies, another asks for the policy: neither reaches the assistant
        assert _post(client, _update(group, "帮我查一下我的保单", "group", user_id=501)) == 200
        assert _post(client, _update(group, "LF2023000123", "supergroup", user_id=502)) == 200
        texts = wait_until(lambda: len(api.texts_to(group)) >= 2 and api.texts_to(group), what="refusals")
    assert all("私聊" in t for t in texts)
    assert [s for s, _ in rasa.received if s.startswith(f"telegram:{group}")] == []


# ---------------------------------------------------------------- webhook updates survive a restart (item 12)


def test_an_update_accepted_before_a_restart_is_answered_after_it(
    engine, tmp_path: Path, api, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa = FakeRasa()
    chat = next(_ids)
    update = _update(chat, "我想问一下保费")
    hold = asyncio.Event()

    async def stuck(self: Any, update: Any) -> None:  # the process dies before handling anything
        await hold.wait()

    with monkeypatch.context() as m:
        m.setattr(telegram.Application, "process_update", stuck)
        m.setattr(telegram, "STOP_GRACE_SECONDS", 0.2, raising=False)
        with TestClient(_app(engine, tmp_path, api, rasa)) as client:
            assert _post(client, update) == 200  # Telegram will not deliver it again
    assert api.texts_to(chat) == []

    with TestClient(_app(engine, tmp_path, api, rasa)):  # the restarted app
        texts = wait_until(lambda: api.texts_to(chat), what="the answer after the restart")
    assert texts == ["收到:我想问一下保费"]
    assert rasa.received.count((f"telegram:{chat}", "我想问一下保费")) == 1


def test_the_webhook_stores_the_update_before_answering(engine, tmp_path: Path, api) -> None:
    rasa = FakeRasa()
    update = _update(next(_ids), "你好")
    with TestClient(_app(engine, tmp_path, api, rasa)) as client:
        assert _post(client, update) == 200
        with Session(engine) as s:
            row = s.get(TelegramUpdate, update["update_id"])
            assert row is not None and json.loads(row.payload or "{}")["update_id"] == update["update_id"]


# ---------------------------------------------------------------- Rasa slower than the deadline (item 14)


class SlowRasa:
    """Rasa that creates the claim but answers after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.finished: list[str] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            await asyncio.sleep(self.delay)
            self.finished.append(body["sender"])
            return httpx.Response(
                200, json=[{"recipient_id": body["sender"], "text": "报案成功,案号 CLM202600001。"}]
            )
        if request.url.path.endswith("/tracker"):
            return httpx.Response(
                200, json={"latest_message": {"intent": {"name": "affirm"}}, "paused": False}
            )
        return httpx.Response(404)


def _hub(engine: Any, tmp_path: Path, slow: SlowRasa) -> Any:
    settings = make_settings(
        db_url(engine), tmp_path, rasa_reply_deadline_seconds=0.3, rasa_timeout_seconds=10
    )
    rasa = RasaClient(settings, transport=httpx.MockTransport(slow.handler))
    return build_hub(settings, sessionmaker(bind=engine, expire_on_commit=False), rasa=rasa)


def test_a_slow_turn_is_not_an_apology_and_its_answer_reaches_the_web_chat(engine, tmp_path: Path) -> None:
    slow = SlowRasa(delay=1.0)
    hub = _hub(engine, tmp_path, slow)
    conv = "web:slow-session"

    async def scenario() -> tuple[list[dict[str, Any]], float]:
        start = time.monotonic()
        async with hub.lock(conv):
            first = await inbound.handle_customer_message(hub, conv, "确认提交")
        elapsed = time.monotonic() - start
        await inbound.wait_for_late_turn(hub, conv)
        return first, elapsed

    first, elapsed = asyncio.run(scenario())
    assert elapsed < 0.9  # the customer heard something before Rasa was done
    assert inbound.APOLOGY_ZH not in json.dumps(first, ensure_ascii=False)
    assert first[0]["text"] == inbound.STILL_WORKING_ZH
    with Session(engine) as s:
        texts = [m.text for m in transcript.history(s, conv)]
    assert (
        texts[-1] == "报案成功,案号 CLM202600001。"
    )  # the claim number reaches the page (the stream reads this)
    assert all(t != inbound.APOLOGY_ZH for t in texts)


def test_a_slow_turn_is_delivered_late_on_telegram_and_the_next_turn_waits_for_it(
    engine, tmp_path: Path
) -> None:
    slow = SlowRasa(delay=0.8)
    hub = _hub(engine, tmp_path, slow)
    conv = "telegram:4242"
    sent: list[str] = []

    async def sender(external_id: str, messages: list[dict[str, Any]]) -> None:
        sent.extend(f"{external_id}:{m['text']}" for m in messages)

    hub.register_sender("telegram", sender)

    async def scenario() -> list[dict[str, Any]]:
        async with hub.lock(conv):
            await inbound.handle_customer_message(hub, conv, "确认提交")
        slow.delay = 0.0
        async with hub.lock(conv):  # the next message: handled after the late answer went out
            return await inbound.handle_customer_message(hub, conv, "谢谢")

    second = asyncio.run(scenario())
    assert sent == ["4242:报案成功,案号 CLM202600001。"]
    assert second[0]["text"] == "报案成功,案号 CLM202600001。"
    assert slow.finished == [conv, conv]


# ------------------------------------------------- a locked database stalls one turn only (item 14)


def test_a_database_waiting_on_a_lock_does_not_stall_other_customers(engine, tmp_path: Path) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file lock")
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    hub = build_hub(
        settings,
        sessionmaker(bind=engine, expire_on_commit=False),
        rasa=RasaClient(settings, transport=fake.transport()),
    )
    blocker = create_engine(db_url(engine), connect_args={"timeout": 30}).connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # another process holds the write lock

    async def scenario() -> float:
        turn = asyncio.ensure_future(inbound.handle_customer_message(hub, "web:a", "你好"))
        start = time.monotonic()
        await asyncio.sleep(0.05)
        ticks = 0
        while time.monotonic() - start < 0.5:  # the event loop keeps running meanwhile
            await asyncio.sleep(0.01)
            ticks += 1
        blocker.rollback()
        await turn
        return ticks

    try:
        ticks = asyncio.run(scenario())
    finally:
        blocker.close()
    assert ticks > 20
    with Session(engine) as s:
        assert s.scalar(select(TelegramUpdate).limit(1)) is None  # nothing else touched
