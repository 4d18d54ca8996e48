"""Desk pages: forms with CSRF, the queue's keyset pagination, transcripts and reports."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.models import Ticket, TicketStatus, TicketType
from bot.services.tickets import queries
from bot.services.tickets.create import create_ticket
from tests import desk_support
from tests.desk_support import StaffClient, World, fresh_ticket, make_test_app

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures

Login = Callable[[str], StaffClient]


def test_ticket_page_actions_through_forms(login: Login, world: World, session: Session) -> None:
    proc = login("proc_wang")
    n = world.beneficiary_ticket.number
    page = proc.get(f"/desk/tickets/{n}")
    assert page.status_code == 200
    assert "受益人变更" in page.text and "张*山" in page.text and "138****5678" in page.text
    assert world.id_old not in page.text and "13812345678" not in page.text
    resp = proc.form(f"/desk/tickets/{n}/action", {"action": "take"})
    assert resp.status_code == 303 and "notice=" in resp.headers["location"]
    resp = proc.form(f"/desk/tickets/{n}/action", {"action": "process", "note": "已核对"})
    assert fresh_ticket(session, n).status is TicketStatus.PENDING_APPROVAL
    # a wrong move comes back as a message on the page, not a crash
    resp = proc.form(f"/desk/tickets/{n}/action", {"action": "close"})
    follow = proc.get(resp.headers["location"])
    assert "不能执行「关闭」" in follow.text


def test_form_without_csrf_token_is_refused(login: Login, world: World, session: Session) -> None:
    proc = login("proc_wang")
    n = world.surrender_ticket.number
    resp = proc.http.post(f"/desk/tickets/{n}/action", data={"action": "take"})
    assert resp.status_code == 403
    assert fresh_ticket(session, n).status is TicketStatus.OPEN


def test_other_team_ticket_page_is_not_found(login: Login, world: World) -> None:
    page = login("proc_chen").get(f"/desk/tickets/{world.surrender_ticket.number}")
    assert page.status_code == 404 and "未找到工单" in page.text


def test_login_redirects_by_role_and_logout_ends_the_session(app: Any, world: World) -> None:
    agent = StaffClient(app, "agent_li")
    assert agent.login_response.headers["location"] == "/agent"
    proc = StaffClient(app, "proc_wang")
    assert proc.login_response.headers["location"] == "/desk"
    page = proc.get("/desk")
    assert page.status_code == 200 and "保全组工单队列" in page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    token = found.group(1)
    assert proc.http.post("/desk/logout", data={"csrf_token": token}).status_code == 303
    assert proc.get("/desk").status_code == 303


@pytest.mark.parametrize("sort", ["created", "sla"])
def test_keyset_pagination_visits_every_ticket_once(session: Session, world: World, sort: str) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made = set()
    for i in range(57):
        t, _ = create_ticket(
            session,
            ticket_type=[TicketType.SURRENDER, TicketType.CONTACT_CHANGE, TicketType.REINSTATEMENT][i % 3],
            now=base + timedelta(minutes=i // 2),  # pairs share a timestamp: the id breaks ties
        )
        made.add(t.number)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = queries.queue(session, world.proc, queries.QueueFilter(sort=sort, cursor=cursor, limit=10))
        seen += [t.number for t in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    expected = made | {
        world.beneficiary_ticket.number,
        world.contact_ticket.number,
        world.account_ticket.number,
        world.surrender_ticket.number,
    }
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    assert pages == 7
    rows = session.scalars(select(Ticket)).all()
    key = {t.number: ((t.sla_due_at if sort == "sla" else t.created_at), t.id) for t in rows}
    ordered = sorted(seen, key=lambda n: key[n], reverse=(sort == "created"))
    assert seen == ordered


def _tracker_db(
    path: Path, rows: list[tuple[str, str, float, str | None, str | None, dict[str, Any]]]
) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL,"
        " intent_name TEXT, action_name TEXT, data TEXT)"
    )
    conn.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
        " VALUES (?,?,?,?,?,?)",
        [(s, t, ts, i, a, json.dumps(d, ensure_ascii=False)) for s, t, ts, i, a, d in rows],
    )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_transcript_and_reports_from_the_tracker_store(
    tmp_path: Path, engine: Engine, session: Session, world: World
) -> None:
    now = datetime.now(timezone.utc).timestamp()
    conv = "telegram:5550001"  # the beneficiary ticket's conversation
    url = _tracker_db(
        tmp_path / "tracker.db",
        [
            (
                conv,
                "user",
                now - 300,
                "change_beneficiary",
                None,
                {"text": "我要改受益人,身份证110101199003071234"},
            ),
            (conv, "bot", now - 299, None, None, {"text": "好的,请先核验身份。"}),
            (conv, "action", now - 299, None, "utter_ask_policy_number", {}),
            (conv, "user", now - 200, "EXTERNAL_ticket_update", None, {"text": "/EXTERNAL_ticket_update"}),
            ("web:abc", "user", now - 100, "nlu_fallback", None, {"text": "啊啊啊"}),
            ("web:abc", "action", now - 99, None, "action_default_fallback", {}),
            ("web:def", "user", now - 50, "ask_premium_due", None, {"text": "下期保费什么时候交"}),
        ],
    )
    app = make_test_app(engine, session, tracker_database_url=url)
    proc = StaffClient(app, "proc_wang")
    page = proc.get(f"/desk/tickets/{world.beneficiary_ticket.number}")
    assert "我要改受益人,身份证110101************" in page.text
    assert "好的,请先核验身份。" in page.text and "EXTERNAL" not in page.text
    # containment: web:abc got a human handover ticket
    create_ticket(session, ticket_type=TicketType.HUMAN_HANDOVER, conversation_id="web:abc")
    sup = StaffClient(app, "sup_zhou")
    figs = sup.get("/api/reports").json()
    c = figs["conversations"]
    assert c["conversations"] == 3 and c["contained"] == 2
    assert c["intents"] == {"change_beneficiary": 1, "nlu_fallback": 1, "ask_premium_due": 1}
    assert c["fallback_rate"] == pytest.approx(2 / 3)  # one fallback intent + one fallback action, 3 messages
    assert figs["tickets"]["by_type"]["beneficiary_change"] == 1
    html = sup.get("/desk/reports").text
    assert html.count("<svg") >= 6 and "工单类型分布" in html and "自助解决率" in html
    assert "cdn" not in html.lower()


def test_users_cli_creates_and_lists_staff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from bot import config, db
    from bot.__main__ import main
    from bot.db import make_engine
    from bot.services import staff
    from tests.conftest import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    for cached in (config.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("violet-harbour-lamp-7\n"))
        args = ["users", "create", "--username", "Li.Ming", "--role", "processor", "--team", "claims"]
        assert main([*args, "--name", "李明", "--password-stdin"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert main(["users", "create", "--username", "x", "--role", "agent", "--password-stdin"]) == 2
        assert "密码至少需要12个字符" in capsys.readouterr().err
        assert main(["users", "list"]) == 0
        assert "li.ming" in capsys.readouterr().out
        with Session(engine) as s:
            user = staff.authenticate(s, "li.ming", "violet-harbour-lamp-7")
            assert user is not None and user.team is not None and user.team.value == "claims"
            assert user.password_hash.startswith("$argon2id$")
            assert staff.authenticate(s, "li.ming", "wrong-pass") is None
    finally:
        for cached in (config.get_settings, db.get_engine, db.get_sessionmaker):
            cached.cache_clear()
        engine.dispose()
