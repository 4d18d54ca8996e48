"""A whole live conversation (verification, a bank-card change, a contact change, a claim, a
complaint and a handover), then a scan of everything staff and operators can read: every staff
API response and page about the tickets it created, the live queue, the audit export, every log
line of the three processes, the app's transcript and Rasa's tracker store. None may hold the
full resident ID, the full card number or a full mobile, in any separator form.

Run: ``ln -s /work/main/models models`` once, then
``LIVE_SKIP_TRAIN=1 pytest -m live tests/security/test_live_pii_scan.py``.

The tracker-store assertion depends on the redacting tracker store (``rasa_addons``, issue 12
item 2); until it is in, that assertion fails by design.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.live]
ROOT = Path(__file__).resolve().parents[2]
CARD = "6225880137005311"  # Luhn-valid, the card of the payment-account story
NEW_MOBILE = "13912345678"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－\u3000", "0123456789Xx- ")
_SEP = r"[\s\-_/\u2010-\u2015]*"


def secret_pattern(secret: str) -> re.Pattern[str]:
    """``secret`` with any separators between its characters (after full-width → ASCII)."""
    return re.compile(r"(?<![0-9])" + _SEP.join(re.escape(c) for c in secret) + r"(?![0-9])", re.IGNORECASE)


class Scan:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.patterns = {name: secret_pattern(value) for name, value in secrets.items()}
        self.leaks: dict[str, list[str]] = {}

    def check(self, where: str, body: str) -> None:
        flat = body.translate(_FULL_WIDTH)
        found = [name for name, pattern in self.patterns.items() if pattern.search(flat)]
        if found:
            self.leaks.setdefault(where, []).extend(found)


def _demo_customer(database_url: str) -> tuple[str, str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.id_number, c.mobile FROM customers c JOIN policies p ON p.policyholder_id = c.id "
                "WHERE p.number = 'LF2023000123'"
            )
        ).one()
    engine.dispose()
    return str(row[0]), str(row[1])


def _staff_user(live_stack: Any, username: str, role: str, team: str | None = None) -> None:
    args = [str(ROOT / ".venv/bin/python"), "-m", "bot", "users", "create", "--username", username]
    args += ["--role", role, "--name", "扫描员", "--password-stdin"]
    if team:
        args += ["--team", team]
    subprocess.run(
        args, cwd=ROOT, env=live_stack.env, input="scan-Passw0rd-2026\n", text=True, check=True, timeout=120
    )


def _login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = client.get("/desk/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    resp = client.post(
        "/desk/login",
        data={"username": username, "password": "scan-Passw0rd-2026", "csrf_token": token.group(1)},
    )
    assert resp.status_code == 303, resp.text[:300]
    return client


def test_a_whole_live_conversation_leaks_no_full_id_card_or_mobile(live_stack: Any) -> None:
    id_number, mobile = _demo_customer(live_stack.database_url)
    spaced_id = f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
    hyphen_mobile = f"{NEW_MOBILE[:3]}-{NEW_MOBILE[3:7]}-{NEW_MOBILE[7:]}"
    spaced_card = " ".join(CARD[i : i + 4] for i in range(0, len(CARD), 4))

    chat = httpx.Client(base_url=live_stack.app_url, timeout=120)
    assert chat.get("/chat").status_code == 200
    replies: list[str] = []

    def say(message: str) -> str:
        resp = chat.post("/chat/api/message", json={"text": message}, headers={"X-Chat-Request": "1"})
        assert resp.status_code == 200, resp.text[:300]
        bot = [m["text"] for m in resp.json()["messages"] if m["role"] in ("bot", "system")]
        replies.extend(bot)
        return bot[-1] if bot else ""

    say("你好")
    # verification inside a bank-card change (the card typed with spaces)
    for message in ("换一张扣款银行卡", "保单号是LF2023000123", "张伟", "后六位157317", "招商银行"):
        say(message)
    say(spaced_card)
    say("张伟")
    say("确认")
    # a contact change with a hyphenated mobile
    for message in ("我换手机号了", f"新号码是{hyphen_mobile}", "是的"):
        say(message)
    # a claim on the motor policy
    for message in (
        "我要报案",
        "车险",
        "张伟,保单号AU2024000088",
        "157317",
        "我在路口等红灯的时候被后面的车追尾了,车尾保险杠撞坏了",
        "昨天下午三点左右",
        "北京市朝阳区望京西路和阜通东大街路口",
        "已经报警了,也拍了照片",
        "京A8K2J6",
        "没错,确认提交",
    ):
        say(message)
    # free text with the full ID, the card and the mobile: a complaint, then a human
    say(f"我要投诉,你们客服把我的身份证{spaced_id}和卡号{CARD}还有手机{mobile}都念出来了")
    say("转人工")

    scan = Scan({"resident ID": id_number, "card": CARD, "mobile": mobile, "new mobile": NEW_MOBILE})
    engine = create_engine(live_stack.database_url)
    sid_conv = None
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT number, conversation_id, ticket_type FROM tickets WHERE conversation_id LIKE 'web:%'"
            )
        ).all()
        handovers = conn.execute(text("SELECT id FROM handovers")).scalars().all()
        # the app's own transcript (what the web chat and the live queue read)
        for (body,) in conn.execute(text("SELECT text FROM chat_messages WHERE text IS NOT NULL")):
            scan.check("app transcript (chat_messages)", str(body))
    engine.dispose()
    numbers = [r[0] for r in rows]
    sid_conv = rows[0][1] if rows else None
    kinds = {r[2] for r in rows}
    assert "payment_account_change" in kinds, (kinds, replies[-12:])

    _staff_user(live_stack, "scan_sup", "supervisor")
    _staff_user(live_stack, "scan_agent", "agent")
    sup = _login(live_stack.app_url, "scan_sup")
    agent = _login(live_stack.app_url, "scan_agent")
    staff_urls = ["/desk", "/api/tickets", "/api/reports", "/desk/reports", "/desk/audit?verify=1"]
    for n in numbers:
        staff_urls += [f"/api/tickets/{n}", f"/desk/tickets/{n}", f"/api/tickets/{n}/audit.csv"]
    for url in staff_urls:
        resp = sup.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        scan.check(f"staff GET {url}", resp.text)
    live_urls = ["/agent/live/api/queue"] + [f"/agent/live/api/{h}/messages" for h in handovers]
    for url in live_urls:
        resp = agent.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        scan.check(f"agent GET {url}", resp.text)
    if handovers:  # accept and read again: what the agent sees while helping the customer
        agent_csrf = agent.get("/api/me").json()["csrf_token"]
        agent.post(f"/agent/live/api/{handovers[-1]}/accept", headers={"X-CSRF-Token": agent_csrf})
        scan.check("agent live messages", agent.get(f"/agent/live/api/{handovers[-1]}/messages").text)
    assert sid_conv is not None

    for name, path in live_stack.logs.items():
        for i, line in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines()):
            scan.check(f"{name} log line {i + 1}", line)
    non_tracker = dict(scan.leaks)

    # Rasa's tracker store (the redacting tracker store of rasa_addons, a separate change)
    tracker = sqlite3.connect(str(Path(live_stack.tmp) / "tracker.db"))
    try:
        for type_name, data in tracker.execute("SELECT type_name, data FROM events"):
            scan.check(f"tracker store ({type_name} event)", json.dumps(json.loads(data), ensure_ascii=False))
    finally:
        tracker.close()
    tracker_leaks = {k: v for k, v in scan.leaks.items() if k.startswith("tracker store")}

    assert not non_tracker, f"personal numbers found: {non_tracker}"
    assert not tracker_leaks, f"personal numbers in the tracker store (needs rasa_addons): {tracker_leaks}"
