"""Premium reminders: stages, who gets them, quiet hours, once per (premium, stage) across runs,
restarts and crashes, and the ``python -m bot reminders run`` command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import make_engine
from bot.jobs.reminders import in_quiet_hours, run_reminders
from bot.models import (
    Channel,
    ChatMessage,
    PolicyStatus,
    PremiumStatus,
    ReminderRecord,
    ReminderStage,
    ReminderStatus,
)
from bot.services.reminders import select_due
from tests.channel_support import (
    FakeRasa,
    ServerThread,
    bind,
    db_url,
    free_port,
    make_customer,
    make_hub,
    make_policy,
    make_premium,
    make_settings,
    rasa_http_app,
    utc,
)

ROOT = Path(__file__).resolve().parents[2]
# Every test works in its own stretch of the calendar, so the shared database never mixes them.
_years = count(2040)


def run(hub, on: date, hour_utc: int = 4):
    return asyncio.run(run_reminders(hub, on, now=utc(on.year, on.month, on.day, hour_utc)))


def web_customer(s: Session, chat: str, due: date, **kw):
    customer = make_customer(s, reminders_enabled=kw.pop("customer_enabled", True))
    policy = make_policy(s, customer, status=kw.pop("policy_status", PolicyStatus.IN_FORCE))
    premium = make_premium(s, policy, due, status=kw.pop("premium_status", PremiumStatus.PENDING))
    bind(s, customer, Channel.WEB, chat, reminders=kw.pop("binding_enabled", True))
    return customer, policy, premium


def outbox(engine, conversation_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.scalars(select(ChatMessage.text).where(ChatMessage.conversation_id == conversation_id))
        return [r or "" for r in rows]


@pytest.fixture
def env(engine, tmp_path):
    fake = FakeRasa()
    settings = make_settings(db_url(engine), tmp_path)
    return engine, settings, fake, make_hub(engine, settings, fake)


def test_each_stage_is_sent_on_its_day_and_only_once(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    chat = f"rem-stages-{y}"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        _, policy, premium = web_customer(s, chat, due)
        policy.grace_period_days = 60
    sent_on: list[tuple[date, str]] = []
    day = due - timedelta(days=40)
    while day <= due + timedelta(days=70):
        before = len(fake.triggered)
        run(hub, day)
        for _sender, _intent, ents in fake.triggered[before:]:
            sent_on.append((day, ents["reminder_stage"]))
        day += timedelta(days=1)
    assert sent_on == [
        (due - timedelta(days=30), "d30"),
        (due - timedelta(days=15), "d15"),
        (due - timedelta(days=7), "d7"),
        (due, "d0"),
        (due + timedelta(days=1), "grace"),
    ]
    texts = outbox(engine, f"web:{chat}")
    assert len(texts) == 5 and all("EXTERNAL_premium_reminder" in t for t in texts)
    ents = fake.triggered[-1][2]
    assert ents["premium_amount"] == "1,234.50"
    assert (
        ents["masked_policy_number"].startswith(policy.number[:6]) and "****" in ents["masked_policy_number"]
    )
    assert ents["premium_due_date"] == f"{y}年6月30日"
    with Session(engine) as s:
        stages = {
            r.stage for r in s.scalars(select(ReminderRecord).where(ReminderRecord.premium_id == premium.id))
        }
    assert stages == set(ReminderStage)


def test_a_missed_run_catches_up_with_the_current_stage_only(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        web_customer(s, f"rem-catch-{y}", due)
    report = run(hub, due - timedelta(days=10))  # the app was down since before the d30 day
    assert report.sent == 1
    assert fake.triggered[-1][2]["reminder_stage"] == "d15"


def test_paid_opted_out_unbound_and_ended_policies_get_nothing(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        web_customer(s, f"rem-paid-{y}", due, premium_status=PremiumStatus.PAID)
        web_customer(s, f"rem-optout-c-{y}", due, customer_enabled=False)
        web_customer(s, f"rem-optout-b-{y}", due, binding_enabled=False)
        web_customer(s, f"rem-lapsed-{y}", due, policy_status=PolicyStatus.TERMINATED)
        unbound = make_customer(s)
        make_premium(s, make_policy(s, unbound), due)
        web_customer(s, f"rem-yes-{y}", due)
    report = run(hub, due)
    assert report.sent == 1
    assert [sender for sender, _i, _e in fake.triggered] == [f"web:rem-yes-{y}"]


def test_quiet_hours_defer_to_the_next_allowed_run(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        web_customer(s, f"rem-quiet-{y}", due)
    # 14:00 UTC is 22:00 in Shanghai: quiet
    deferred = run(hub, due, hour_utc=14)
    assert deferred.deferred and fake.triggered == []
    later = run(hub, due, hour_utc=1)  # 09:00 local
    assert later.sent == 1


def test_quiet_hours_span_midnight() -> None:
    from datetime import datetime

    assert in_quiet_hours(datetime(2026, 1, 1, 22), 21, 8)
    assert in_quiet_hours(datetime(2026, 1, 1, 7), 21, 8)
    assert not in_quiet_hours(datetime(2026, 1, 1, 8), 21, 8)
    assert not in_quiet_hours(datetime(2026, 1, 1, 12), 21, 8)


def test_two_runs_and_a_restart_send_nothing_twice(env, tmp_path) -> None:
    engine, settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for i in range(3):
            web_customer(s, f"rem-idem-{y}-{i}", due)
    on = due - timedelta(days=7)
    assert run(hub, on).sent == 3
    assert run(hub, on).sent == 0
    # a restart: a new process has a new engine and a new hub; the state is in the database
    engine2 = make_engine(db_url(engine))
    hub2 = make_hub(engine2, settings, fake)
    assert run(hub2, on).sent == 0
    assert run(hub2, on + timedelta(days=1)).sent == 0  # still the d7 stage: nothing new
    engine2.dispose()
    assert len(fake.triggered) == 3


def test_a_crash_between_claim_and_send_never_repeats(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        customer, _policy, premium = web_customer(s, f"rem-crash-{y}", due)
        # the previous process claimed the slot and died before sending
        s.add(
            ReminderRecord(
                premium_id=premium.id,
                stage=ReminderStage.DUE_DAY,
                customer_id=customer.id,
                status=ReminderStatus.FAILED,
                detail="sending",
            )
        )
    assert run(hub, due).sent == 0
    assert fake.triggered == []


def test_rasa_down_is_retried_by_the_next_run(env) -> None:
    engine, _settings, fake, hub = env
    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        _c, _p, premium = web_customer(s, f"rem-down-{y}", due)
    fake.down = True
    first = run(hub, due)
    assert first.failed == 1
    fake.down = False
    second = run(hub, due, hour_utc=5)
    assert second.sent == 1
    assert run(hub, due, hour_utc=6).sent == 0
    with Session(engine) as s:
        record = s.scalars(select(ReminderRecord).where(ReminderRecord.premium_id == premium.id)).one()
    assert record.status == ReminderStatus.SENT and record.sent_at is not None


def test_due_set_selection_is_one_query_per_stage(env) -> None:
    engine, _settings, _fake, _hub = env
    from sqlalchemy import event

    y = next(_years)
    due = date(y, 6, 30)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for i in range(5):
            web_customer(s, f"rem-q-{y}-{i}", due)
    statements: list[str] = []

    def count_statements(*args):
        statements.append(args[2])

    with Session(engine) as s:
        event.listen(engine, "before_cursor_execute", count_statements)
        try:
            items = select_due(s, due - timedelta(days=30))
        finally:
            event.remove(engine, "before_cursor_execute", count_statements)
    assert len([i for i in items if i.conversation_id.startswith(f"web:rem-q-{y}")]) == 5
    assert len([st for st in statements if st.lstrip().upper().startswith("SELECT")]) == 5


def test_the_command_line_job_runs_once_per_date(engine, tmp_path) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the command line is exercised on the SQLite backend; the service is covered on both")
    fake = FakeRasa()
    y = next(_years)
    due = date(y, 12, 31)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        web_customer(s, f"rem-cli-{y}", due)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url(engine),
        "BOT_RASA_URL": f"http://127.0.0.1:{port}",
        "BOT_RASA_TOKEN": "tok",
        "BOT_TELEGRAM_TOKEN": "",
        "BOT_REMINDER_SCHEDULER_ENABLED": "false",
    }
    on = (due - timedelta(days=30)).isoformat()
    cmd = [sys.executable, "-m", "bot", "reminders", "run", "--date", on, "--now", f"{on}T04:00:00+00:00"]
    with ServerThread(rasa_http_app(fake), port):
        first = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        second = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        quiet = subprocess.run(
            [*cmd[:-1], f"{on}T15:00:00+00:00"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert first.returncode == 0, first.stderr
    assert "已发送 1 条" in first.stdout
    assert "已发送 0 条" in second.stdout
    assert "免打扰" in quiet.stdout
    assert [s for s, _i, _e in fake.triggered] == [f"web:rem-cli-{y}"]


def test_the_in_app_scheduler_catches_up_on_start(engine, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from bot.channels.rasa_client import RasaClient
    from bot.web.app import create_app
    from tests.channel_support import wait_until

    fake = FakeRasa()
    settings = make_settings(
        db_url(engine),
        tmp_path,
        reminder_scheduler_enabled=True,
        reminder_quiet_start_hour=0,  # no quiet hours: the test runs at any time of day
        reminder_quiet_end_hour=0,
    )
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(settings.timezone)).date()
    chat = f"rem-sched-{engine.dialect.name}-{today.isoformat()}-{next(_years)}"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        web_customer(s, chat, today + timedelta(days=7))
    app = create_app(settings, rasa=RasaClient(settings, transport=fake.transport()))
    with TestClient(app):
        texts = wait_until(lambda: outbox(engine, f"web:{chat}"), timeout=30, what="the catch-up run")
    assert "reminder_stage=d7" in texts[0]
