"""Live handover, a full round trip: the customer asks for a human, the conversation pauses and
enters the live queue, an agent accepts and replies on the customer's channel, hands back, and
the assistant resumes. On the web chat and on Telegram."""

from __future__ import annotations

from itertools import count
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.rasa_client import RasaClient
from bot.models import Handover, HandoverStatus, StaffRole, Ticket, TicketType
from bot.services.staff import create_user
from bot.web.app import create_app
from tests.channel_support import (
    TOKEN,
    FakeBotApi,
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
HEADER = "X-Telegram-Bot-Api-Secret-Token"
_users = count(1)


def make_agent(engine) -> tuple[str, str]:
    name = f"live_agent_{engine.dialect.name}_{next(_users)}"
    with Session(engine) as s, s.begin():
        create_user(
            s, username=name, password="agent-pass-123", role=StaffRole.AGENT, display_name="坐席小王"
        )
    return name, "agent-pass-123"


def test_web_chat_handover_round_trip(engine, tmp_path: Path) -> None:
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
    username, password = make_agent(engine)
    with TestClient(app) as customer, TestClient(app) as agent:
        customer.get("/chat")
        conversation = f"web:{chat_session_id(customer, settings)}"

        state = customer.post("/chat/api/message", json={"text": "转人工"}, headers=H).json()
        assert state["handover"] == "waiting"
        assert "转接人工客服" in state["messages"][-1]["text"]
        assert (conversation, [{"event": "pause"}]) in fake.events  # ConversationPaused in Rasa

        # while waiting, messages go to the queue, not to the assistant
        sent_to_rasa = len(fake.received)
        state = customer.post("/chat/api/message", json={"text": "我想问一下理赔款"}, headers=H).json()
        assert len(fake.received) == sent_to_rasa
        assert "请稍候" in state["messages"][-1]["text"]

        # the agent's live queue
        assert agent.get("/agent/live/api/queue").status_code == 401
        csrf = staff_login(agent, username, password)
        page = agent.get("/agent/live")
        assert page.status_code == 200 and "人工接入队列" in page.text
        items = agent.get("/agent/live/api/queue").json()["items"]
        mine = [i for i in items if i["status"] == "waiting" and i["reason_zh"] == "客户要求转人工"]
        assert mine
        handover_id = max(i["id"] for i in mine)
        with Session(engine) as s:
            h = s.get(Handover, handover_id)
            assert h is not None and h.conversation_id == conversation
            ticket = s.get(Ticket, h.ticket_id)
            assert ticket is not None and ticket.ticket_type == TicketType.HUMAN_HANDOVER
        transcript = agent.get(f"/agent/live/api/{handover_id}/messages").json()["messages"]
        assert ("customer", "我想问一下理赔款") in [(m["role"], m["text"]) for m in transcript]

        assert agent.post(f"/agent/live/api/{handover_id}/accept").status_code == 403  # no CSRF header
        hdr = {"X-CSRF-Token": csrf}
        assert agent.post(f"/agent/live/api/{handover_id}/accept", headers=hdr).json()["status"] == "active"
        assert agent.post(
            f"/agent/live/api/{handover_id}/reply",
            json={"text": "您好,我是坐席小王,您的赔款预计3个工作日到账。"},
            headers=hdr,
        ).json() == {"delivered": True}

        history = customer.get("/chat/api/history").json()
        assert history["handover"] == "active"
        agent_lines = [m["text"] for m in history["messages"] if m["role"] == "agent"]
        assert agent_lines == [
            "人工客服已接入,请问有什么可以帮您?",
            "您好,我是坐席小王,您的赔款预计3个工作日到账。",
        ]

        # an active handover: the customer's reply reaches the agent only
        customer.post("/chat/api/message", json={"text": "好的谢谢"}, headers=H)
        assert len(fake.received) == sent_to_rasa
        assert agent.post(f"/agent/live/api/{handover_id}/release", headers=hdr).json()["released"] is True
        assert (conversation, [{"event": "resume"}]) in fake.events

        history = customer.get("/chat/api/history").json()
        assert history["handover"] is None
        assert "智能助手将继续为您服务" in history["messages"][-1]["text"]
        state = customer.post("/chat/api/message", json={"text": "查一下保单"}, headers=H).json()
        assert fake.received[-1] == (conversation, "查一下保单")  # the assistant has the conversation again
        assert state["messages"][-1]["text"] == "收到:查一下保单"
        with Session(engine) as s:
            assert (
                s.scalars(select(Handover.status).where(Handover.id == handover_id)).one()
                == HandoverStatus.CLOSED
            )


def test_telegram_handover_round_trip(engine, tmp_path: Path) -> None:
    api = FakeBotApi(port=free_port())
    fake = FakeRasa()
    settings = make_settings(
        db_url(engine),
        tmp_path,
        telegram_token=TOKEN,
        telegram_api_base_url=api.base_url,
        public_url="https://assistant.example.test",
    )
    username, password = make_agent(engine)
    chat = 8_800_000 + next(_users)
    with ServerThread(api.app(), api.port):
        app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
        with TestClient(app, base_url="https://testserver") as client:  # https: the cookies are Secure

            def post(text: str, uid: int) -> None:
                update = {
                    "update_id": uid,
                    "message": {
                        "message_id": uid,
                        "date": 0,
                        "chat": {"id": chat, "type": "private"},
                        "from": {"id": chat, "is_bot": False, "first_name": "客户"},
                        "text": text,
                    },
                }
                assert (
                    client.post(
                        "/telegram/webhook",
                        json=update,
                        headers={HEADER: settings.telegram_webhook_secret.get_secret_value()},
                    ).status_code
                    == 200
                )

            post("有人工客服吗", 5_000_000 + chat)
            wait_until(lambda: any("转接人工客服" in t for t in api.texts_to(chat)), what="handover note")
            csrf = staff_login(client, username, password)
            hdr = {"X-CSRF-Token": csrf}
            items = client.get("/agent/live/api/queue").json()["items"]
            handover_id = max(i["id"] for i in items if i["channel_zh"] == "Telegram")
            client.post(f"/agent/live/api/{handover_id}/accept", headers=hdr)  # only its agent may reply
            client.post(
                f"/agent/live/api/{handover_id}/reply", json={"text": "您好,这里是人工客服。"}, headers=hdr
            )
            assert "您好,这里是人工客服。" in api.texts_to(chat)
            client.post(f"/agent/live/api/{handover_id}/release", headers=hdr)
            assert any("智能助手将继续为您服务" in t for t in api.texts_to(chat))
            post("谢谢", 5_000_001 + chat)
            wait_until(lambda: "收到:谢谢" in api.texts_to(chat), what="assistant resumed")
