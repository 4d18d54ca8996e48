"""Telegram against the live stack: the real Rasa and action server behind the app, the Bot API
faked on loopback (``live_stack.telegram_api``). Updates are posted to the app's webhook with the
secret header, as Telegram does; what the customer reads is what the app sent with sendMessage.

One customer, in the words a customer would type: /start, a policy query that asks for identity
first (张伟, the demo policyholder), the masked policy card, a claim report whose claim-type
question comes as an inline keyboard and is answered by a button press (callback_query), and a
photo of the scene that is attached to the new claim."""

from __future__ import annotations

import re
import time
from itertools import count
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.channel_support import JPEG, wait_until

pytestmark = pytest.mark.live
HEADER = "X-Telegram-Bot-Api-Secret-Token"
APOLOGY = "智能助手暂时无法回复"
TURN_TIMEOUT = 90.0  # the first turns wait for Rasa and the action server to warm up
QUIET_SECONDS = 2.0  # a turn is over when no further message came for this long
_ids = count(int(time.time()) % 100_000 * 100)


class TelegramCustomer:
    """A Telegram user talking to the app through its webhook."""

    def __init__(self, live_stack: Any, chat_id: int) -> None:
        self.stack = live_stack
        self.api = live_stack.telegram_api
        self.chat_id = chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": "伟", "language_code": "zh-hans"}
        self.chat = {"id": chat_id, "type": "private", "first_name": "伟"}
        self.dialogue: list[str] = []  # for failure messages

    # ------------------------------------------------------------ what the app sent to this chat

    def sent(self) -> list[dict[str, Any]]:
        return [
            p
            for name, p in list(self.api.calls)
            if name in ("sendMessage", "sendPhoto") and str(p.get("chat_id")) == str(self.chat_id)
        ]

    def _turn(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.sent())
        resp = httpx.post(
            f"{self.stack.app_url}/telegram/webhook",
            json={"update_id": next(_ids), **update},
            headers={HEADER: self.stack.telegram_secret},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        wait_until(lambda: len(self.sent()) > before, timeout=TURN_TIMEOUT, what="the assistant's answer")
        settled = len(self.sent())
        while True:  # the turn's other messages follow at once; stop when it has gone quiet
            time.sleep(QUIET_SECONDS)
            if len(self.sent()) == settled:
                break
            settled = len(self.sent())
        replies = self.sent()[before:]
        text = "\n".join(str(r.get("text") or "") for r in replies)
        said = (
            update.get("message", {}).get("text") or update.get("callback_query", {}).get("data") or "[照片]"
        )
        self.dialogue.append(f"客户: {said}\n助手: {text}")
        assert APOLOGY not in text, (
            f"the assistant failed on {update}: {text!r}\n{self.stack.log_tail('actions')}"
        )
        return replies

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    # ------------------------------------------------------------ what the customer does

    def start(self) -> list[dict[str, Any]]:
        entities = [{"type": "bot_command", "offset": 0, "length": 6}]
        return self._turn({"message": self._message(text="/start", entities=entities)})

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._turn({"message": self._message(text=text)})

    def press(self, reply: dict[str, Any], title: str) -> list[dict[str, Any]]:
        """Press the inline keyboard button ``title`` under ``reply`` (a sent message)."""
        rows = reply["reply_markup"]["inline_keyboard"]
        button = next(b for row in rows for b in row if b["text"] == title)
        message = self._message(text=reply.get("text") or "")
        message["from"] = {"id": 123456, "is_bot": True, "first_name": "保险客服助手"}
        callback = {
            "id": str(next(_ids)),
            "from": self.user,
            "chat_instance": f"ci-{self.chat_id}",
            "data": button["callback_data"],
            "message": message,
        }
        return self._turn({"callback_query": callback})

    def photo(self, data: bytes, caption: str) -> list[dict[str, Any]]:
        file_id = f"photo-{next(_ids)}"
        self.api.files[file_id] = data
        size = {"file_id": file_id, "file_unique_id": "u" + file_id, "width": 1280, "height": 960}
        return self._turn(
            {"message": self._message(photo=[{**size, "file_size": len(data)}], caption=caption)}
        )


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def keyboard_titles(reply: dict[str, Any]) -> list[str]:
    markup = reply.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def test_live_telegram_conversation(live_stack) -> None:
    from bot.models import ChatMessage, Claim, Document
    from bot.seeding import DEMO_CUSTOMERS
    from bot.seeding.demo import CHEN_JING, ZHANG_ZIHAN

    zhang = next(c for c in DEMO_CUSTOMERS if c.key == "zhang_wei")
    life = next(p for p in zhang.policies if p.number.startswith("LF"))
    customer = TelegramCustomer(live_stack, chat_id=7_700_000 + next(_ids) % 100_000)
    conversation = f"telegram:{customer.chat_id}"
    assert live_stack.telegram_api.calls_of("setWebhook"), "the app did not register its webhook"

    # /start: the greeting
    greeting = texts(customer.start())
    assert "您好" in greeting, greeting

    # a policy query: identity first (policy number, name, last six of the ID), then the card
    reply = texts(customer.say("帮我查一下保单"))
    assert "保单号" in reply, f"'帮我查一下保单' did not start the identity check: {reply!r}"
    reply = texts(customer.say(f"我的保单号是{life.number}"))
    assert "姓名" in reply, reply
    reply = texts(customer.say(f"我叫{zhang.name}"))
    assert "后六位" in reply, reply
    card = texts(customer.say(f"身份证后六位是{zhang.id_last6}"))
    assert life.number in card and life.product in card, card
    assert "投保人:张*" in card, card
    assert "证件1101" in card and "*" * 12 in card, card  # the beneficiaries' IDs, first six only

    # a claim: the claim-type question is an inline keyboard, answered with a button press
    replies = customer.say("我要报案")
    asking = next((r for r in replies if "车险" in keyboard_titles(r)), None)
    assert asking is not None, f"no claim-type keyboard after '我要报案': {texts(replies)!r}"
    assert keyboard_titles(asking) == ["车险", "医疗", "重疾", "意外", "身故"]
    data = [b["callback_data"] for row in asking["reply_markup"]["inline_keyboard"] for b in row]
    assert data[0] == '/inform{"claim_type":"车险"}'  # the Rasa payload itself (it fits in 64 bytes)
    answered_before = len(live_stack.telegram_api.calls_of("answerCallbackQuery"))
    replies = customer.press(asking, "车险")
    assert len(live_stack.telegram_api.calls_of("answerCallbackQuery")) == answered_before + 1
    reply = texts(replies)
    assert "请问您是关于哪个保险产品" not in reply, f"the button press was not understood: {reply!r}"

    motor = next(p for p in zhang.policies if p.number.startswith("AU"))
    answers = [
        (("哪一张保单", "保单号"), motor.number),
        (
            ("描述", "情况", "经过"),
            "昨天下午三点在北京市朝阳区望京西路等红灯的时候被后车追尾了,车尾保险杠撞坏了,没有人受伤",
        ),
        (("什么时间", "时间"), "昨天下午三点左右"),
        (("地点", "哪里"), "北京市朝阳区望京西路与阜通东大街交叉口"),
        (("报警",), "已经报警了,也拍了现场照片"),
        (("照片",), "拍了"),
        (("车牌",), "京A8K2J6"),
        (("姓名",), zhang.name),
        (("后六位",), zhang.id_last6),
    ]
    claim_number = None
    for _turn in range(16):
        m = re.search(r"CL\d{10}", reply)
        if m and "理赔案号" in reply:
            claim_number = m.group(0)
            break
        last = replies[-1]
        if "确认提交" in keyboard_titles(last):
            replies = customer.press(last, "确认提交")
        else:
            answer = next((a for keys, a in answers if any(k in reply for k in keys)), None)
            assert answer is not None, "unexpected question:\n" + "\n".join(customer.dialogue[-4:])
            replies = customer.say(answer)
        reply = texts(replies)
    assert claim_number, "no claim number after the dialogue:\n" + "\n".join(customer.dialogue[-8:])

    # a photo of the scene is attached to the claim just reported in this chat
    reply = texts(customer.photo(JPEG, "事故现场照片"))
    assert claim_number in reply and "已收到" in reply, reply
    engine = create_engine(live_stack.database_url)
    try:
        with Session(engine) as s:
            claim = s.scalars(select(Claim).where(Claim.number == claim_number)).one()
            assert claim.conversation_id == conversation
            docs = list(s.scalars(select(Document).where(Document.claim_id == claim.id)))
            assert [d.channel for d in docs] == ["telegram"]
            assert docs[0].content_type == "image/jpeg"
            stored = list(
                s.scalars(select(ChatMessage.text).where(ChatMessage.conversation_id == conversation))
            )
            assert "/start" in stored  # the transcript agents read
    finally:
        engine.dispose()

    print("\n".join(customer.dialogue))  # shown with -s, or -rP
    # nothing sent on this chat ever held a full ID number or mobile number
    everything = texts(customer.sent())
    for secret in (zhang.id_number, zhang.mobile, CHEN_JING[2], ZHANG_ZIHAN[2]):
        assert secret not in everything
    assert not re.search(r"\d{17}[\dXx]", everything) and not re.search(r"1[3-9]\d{9}", everything)
