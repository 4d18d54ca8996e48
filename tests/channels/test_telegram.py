"""The Telegram bridge against a fake Bot API server on loopback (PTB ``base_url``), never the internet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.jobs.reminders import run_reminders
from bot.models import Channel, Document, ReminderRecord, ReminderStatus
from bot.web.app import create_app
from tests.channel_support import (
    JPEG,
    TOKEN,
    WEBHOOK_SECRET,
    FakeBotApi,
    FakeRasa,
    ServerThread,
    bind,
    db_url,
    free_port,
    make_claim,
    make_customer,
    make_policy,
    make_premium,
    make_settings,
    utc,
    wait_until,
)

HEADER = "X-Telegram-Bot-Api-Secret-Token"
_update_ids = count(700_000)
_chat_ids = count(9_100_000)


@dataclass
class Tg:
    client: TestClient
    api: FakeBotApi
    rasa: FakeRasa
    app: Any
    engine: Any

    def post(self, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
        headers = {HEADER: secret} if secret is not None else {}
        return self.client.post("/telegram/webhook", json=update, headers=headers).status_code


@pytest.fixture
def tg(engine, tmp_path: Path) -> Iterator[Tg]:
    api = FakeBotApi(port=free_port())
    rasa = FakeRasa()
    settings = make_settings(
        db_url(engine),
        tmp_path,
        telegram_token=TOKEN,
        telegram_api_base_url=api.base_url,
        public_url="https://assistant.example.test",
    )
    with ServerThread(api.app(), api.port):
        app = create_app(settings, rasa=RasaClient(settings, transport=rasa.transport()))
        with TestClient(app) as client:
            yield Tg(client=client, api=api, rasa=rasa, app=app, engine=engine)


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "客户"}


def text_update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": 1767225600,
        "chat": {"id": chat_id, "type": "private"},
        "from": user(chat_id),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def callback_update(chat_id: int, data: str) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": user(chat_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 5,
                "date": 1767225600,
                "chat": {"id": chat_id, "type": "private"},
                "text": "请选择",
            },
        },
    }


def photo_update(chat_id: int, file_id: str, size: int, caption: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": 1767225600,
        "chat": {"id": chat_id, "type": "private"},
        "from": user(chat_id),
        "photo": [
            {
                "file_id": file_id + "s",
                "file_unique_id": "s" + file_id,
                "width": 90,
                "height": 90,
                "file_size": 10,
            },
            {
                "file_id": file_id,
                "file_unique_id": "u" + file_id,
                "width": 800,
                "height": 600,
                "file_size": size,
            },
        ],
    }
    if caption:
        message["caption"] = caption
    return {"update_id": next(_update_ids), "message": message}


def test_start_sets_the_webhook_with_the_secret(tg: Tg) -> None:
    calls = tg.api.calls_of("setWebhook")
    assert calls, "setWebhook was not called on start"
    assert calls[-1]["url"] == "https://assistant.example.test/telegram/webhook"
    assert calls[-1]["secret_token"] == WEBHOOK_SECRET


def test_webhook_refuses_a_missing_or_wrong_secret(tg: Tg) -> None:
    chat = next(_chat_ids)
    assert tg.post(text_update(chat, "你好"), secret=None) == 403
    assert tg.post(text_update(chat, "你好"), secret="wrong") == 403
    assert tg.post(text_update(chat, "你好"), secret=WEBHOOK_SECRET + "x") == 403
    assert tg.rasa.received == []
    assert tg.post(text_update(chat, "你好")) == 200
    wait_until(lambda: tg.api.texts_to(chat), what="reply")
    assert tg.rasa.received == [(f"telegram:{chat}", "你好")]


def test_start_greets_the_customer(tg: Tg) -> None:
    chat = next(_chat_ids)
    assert tg.post(text_update(chat, "/start")) == 200
    texts = wait_until(lambda: tg.api.texts_to(chat), what="greeting")
    assert (f"telegram:{chat}", "/greet") in tg.rasa.received
    assert "您好" in texts[0]


def test_duplicate_update_ids_are_dropped(tg: Tg) -> None:
    chat = next(_chat_ids)
    update = text_update(chat, "保单号LF2023000123")
    assert tg.post(update) == 200
    assert tg.post(update) == 200  # Telegram retried the delivery
    wait_until(lambda: tg.api.texts_to(chat), what="reply")
    other = text_update(chat, "第二条")
    assert tg.post(other) == 200
    wait_until(lambda: len(tg.api.texts_to(chat)) >= 2, what="second reply")
    assert [t for s, t in tg.rasa.received if s == f"telegram:{chat}"] == ["保单号LF2023000123", "第二条"]
    assert len(tg.api.texts_to(chat)) == 2


def test_messages_of_one_chat_are_answered_in_order(tg: Tg) -> None:
    chat = next(_chat_ids)
    texts = [f"第{i}条消息" for i in range(8)]
    for text in texts:
        assert tg.post(text_update(chat, text)) == 200
    replies = wait_until(lambda: len(tg.api.texts_to(chat)) == 8 and tg.api.texts_to(chat), what="8 replies")
    assert [t for s, t in tg.rasa.received if s == f"telegram:{chat}"] == texts
    assert replies == [f"收到:{t}" for t in texts]


def test_buttons_become_an_inline_keyboard_and_round_trip(tg: Tg) -> None:
    chat = next(_chat_ids)
    tg.post(text_update(chat, "我要报案"))
    wait_until(lambda: tg.api.texts_to(chat), what="question with buttons")
    sent = next(p for p in tg.api.calls_of("sendMessage") if str(p["chat_id"]) == str(chat))
    keyboard = sent["reply_markup"]["inline_keyboard"]
    titles = [row[0]["text"] for row in keyboard]
    assert titles == ["车险", "医疗(长载荷)"]
    short, long = keyboard[0][0]["callback_data"], keyboard[1][0]["callback_data"]
    assert short == '/inform{"claim_type":"车险"}'
    assert long.startswith("k:") and len(long.encode()) <= 64
    answered_before = len(tg.api.calls_of("answerCallbackQuery"))

    tg.post(callback_update(chat, short))
    wait_until(lambda: len(tg.api.texts_to(chat)) >= 2, what="reply to the button")
    tg.post(callback_update(chat, long))
    wait_until(lambda: len(tg.api.texts_to(chat)) >= 3, what="reply to the long button")
    payloads = [t for s, t in tg.rasa.received if s == f"telegram:{chat}"]
    assert payloads[1] == short
    assert payloads[2].startswith('/inform{"claim_type":"车险","note":"很长的按钮载荷')
    assert len(tg.api.calls_of("answerCallbackQuery")) == answered_before + 2


def test_rasa_down_gets_an_apology_and_a_way_to_a_human(tg: Tg) -> None:
    chat = next(_chat_ids)
    tg.rasa.down = True
    tg.post(text_update(chat, "我的理赔到哪一步了"))
    wait_until(lambda: tg.api.texts_to(chat), what="apology")
    sent = next(p for p in tg.api.calls_of("sendMessage") if str(p["chat_id"]) == str(chat))
    assert "抱歉" in sent["text"]
    assert sent["reply_markup"]["inline_keyboard"][0][0]["text"] == "转人工客服"
    # the customer takes the offer while Rasa is still down: the conversation goes to the live queue
    tg.post(callback_update(chat, "/request_human"))
    texts = wait_until(
        lambda: len(tg.api.texts_to(chat)) >= 2 and tg.api.texts_to(chat), what="handover note"
    )
    assert "人工客服" in texts[1]


def test_telegram_errors_are_retried_with_backoff(tg: Tg) -> None:
    chat = next(_chat_ids)
    tg.api.fail_next["sendMessage"] = [502, 429]
    tg.post(text_update(chat, "你好呀"))
    attempts = wait_until(
        lambda: len(tg.api.texts_to(chat)) >= 3 and tg.api.texts_to(chat), what="3 attempts"
    )
    assert attempts == ["收到:你好呀"] * 3  # Bad Gateway, then flood control, then delivered
    assert tg.api.fail_next["sendMessage"] == []


def test_a_photo_is_attached_to_the_open_claim(tg: Tg) -> None:
    chat = next(_chat_ids)
    conversation = f"telegram:{chat}"
    with Session(tg.engine) as s, s.begin():
        customer = make_customer(s)
        policy = make_policy(s, customer)
        claim = make_claim(s, policy, conversation)
        claim_id, claim_number = claim.id, claim.number
    tg.api.files["ph1"] = JPEG
    tg.post(photo_update(chat, "ph1", len(JPEG), caption="驾驶证"))
    texts = wait_until(lambda: tg.api.texts_to(chat), what="upload confirmation")
    assert "已收到" in texts[0] and claim_number in texts[0]
    with Session(tg.engine) as s:
        docs = list(s.scalars(select(Document).where(Document.claim_id == claim_id)))
    assert len(docs) == 1
    doc = docs[0]
    assert doc.channel == "telegram" and doc.content_type == "image/jpeg" and doc.size_bytes == len(JPEG)
    stored = Path(doc.stored_path or "")
    assert stored.read_bytes() == JPEG and stored.suffix == ".jpg" and "ph1" not in stored.name
    assert tg.api.calls_of("getFile")[-1]["file_id"] == "ph1"  # the largest size was fetched


def test_a_file_that_is_not_an_image_is_refused(tg: Tg) -> None:
    chat = next(_chat_ids)
    with Session(tg.engine) as s, s.begin():
        make_claim(s, make_policy(s, make_customer(s)), f"telegram:{chat}")
    tg.api.files["evil"] = b"MZ\x90\x00 this is an exe"
    tg.post(photo_update(chat, "evil", 22))
    texts = wait_until(lambda: tg.api.texts_to(chat), what="refusal")
    assert "无法接收" in texts[0]


def test_reminders_reach_telegram_once(tg: Tg) -> None:
    chat = next(_chat_ids)
    due = date(2027, 3, 31)
    with Session(tg.engine) as s, s.begin():
        customer = make_customer(s)
        policy = make_policy(s, customer)
        premium = make_premium(s, policy, due)
        bind(s, customer, Channel.TELEGRAM, str(chat))
        premium_id = premium.id
    hub = tg.app.state.hub
    run_date = date(2027, 3, 1)  # 30 days before

    async def run_twice() -> tuple[Any, Any]:
        first = await run_reminders(hub, run_date, now=utc(2027, 3, 1))
        second = await run_reminders(hub, run_date, now=utc(2027, 3, 1, 5))
        return first, second

    first, second = tg.client.portal.call(run_twice)  # type: ignore[union-attr]
    texts = tg.api.texts_to(chat)
    assert len(texts) == 1 and "EXTERNAL_premium_reminder" in texts[0] and "reminder_stage=d30" in texts[0]
    assert "LF2023****" in texts[0] or "****" in texts[0]
    with Session(tg.engine) as s:
        records = list(s.scalars(select(ReminderRecord).where(ReminderRecord.premium_id == premium_id)))
    assert [(r.stage.value, r.status) for r in records] == [("d30", ReminderStatus.SENT)]
    assert first.sent >= 1 and second.sent == 0


def test_polling_mode_without_a_public_url(engine, tmp_path: Path) -> None:
    """Local runs: only a token, no public URL. The bridge polls getUpdates and answers."""
    api = FakeBotApi(port=free_port())
    rasa = FakeRasa()
    settings = make_settings(
        db_url(engine), tmp_path, telegram_token=TOKEN, telegram_api_base_url=api.base_url
    )
    chat = next(_chat_ids)
    with ServerThread(api.app(), api.port):
        app = create_app(settings, rasa=RasaClient(settings, transport=rasa.transport()))
        with TestClient(app) as client:
            wait_until(lambda: api.calls_of("getUpdates"), what="polling")
            assert api.calls_of("deleteWebhook") and not api.calls_of("setWebhook")
            api.updates.append(text_update(chat, "轮询模式你好"))
            assert wait_until(lambda: api.texts_to(chat), what="reply") == ["收到:轮询模式你好"]
            # the webhook route is not a way in when polling
            assert client.post("/telegram/webhook", json=text_update(chat, "x")).status_code == 403
