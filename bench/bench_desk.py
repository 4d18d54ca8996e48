"""Ticket desk benchmark: the queue page and the ticket API with a million tickets, next to the
same with a thousand (the baseline, measured in the same run).

    .venv/bin/python bench/bench_desk.py                 # SQLite files under var/bench/
    .venv/bin/python bench/bench_desk.py --postgres-url postgresql://u:p@127.0.0.1:5432/db
    .venv/bin/python bench/bench_desk.py --small 1000 --large 1000000 --requests 200

The databases are built once with Core bulk inserts and reused while their row count matches.
The app runs in-process (Starlette's TestClient); each figure is the p95 of N requests.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import Engine, func, insert, select, text  # noqa: E402

from bot.db import make_engine  # noqa: E402
from bot.ids import id_check_char  # noqa: E402
from bot.models import Customer, Policy, StaffUser, Ticket, TicketEvent  # noqa: E402
from bot.security import hash_password  # noqa: E402
from bot.services.tickets.rules import TICKET_RULES  # noqa: E402

PASSWORD = "bench-password-1"  # local benchmark only
CUSTOMERS = 200
STATUS_WEIGHTS = {
    "open": 6,
    "in_progress": 8,
    "awaiting_documents": 3,
    "pending_approval": 2,
    "approved": 5,
    "rejected": 2,
    "closed": 74,
}


def migrate(engine: Engine) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def ticket_count(engine: Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())
    except Exception:
        return -1


def build(url: str, n: int, rng: random.Random) -> Engine:
    """A database with ``n`` tickets (and their creation events), a few staff and customers."""
    if url.startswith("postgresql"):
        engine = make_engine(url)
        if ticket_count(engine) == n:
            return engine
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(url.split("///", 1)[1])
        engine = make_engine(url)
        if path.exists() and ticket_count(engine) == n:
            return engine
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    now = datetime.now(timezone.utc)
    pw = hash_password(PASSWORD)
    with engine.begin() as conn:
        conn.execute(
            insert(StaffUser),
            [
                {
                    "username": "bench_proc",
                    "display_name": "经办",
                    "password_hash": pw,
                    "role": "processor",
                    "team": "policy_service",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                },
                {
                    "username": "bench_sup",
                    "display_name": "主管",
                    "password_hash": pw,
                    "role": "supervisor",
                    "team": None,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                },
            ],
        )
        customers = []
        for i in range(CUSTOMERS):
            first17 = f"110101198{i % 10}0101{i:03d}"[:17].ljust(17, "0")
            customers.append(
                {
                    "id": i + 1,
                    "name": f"客户{i}",
                    "id_number": first17 + id_check_char(first17),
                    "gender": "M",
                    "birth_date": date(1980, 1, 1),
                    "mobile": f"138{i:08d}",
                    "reminders_enabled": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        conn.execute(insert(Customer), customers)
        conn.execute(
            insert(Policy),
            [
                {
                    "id": i + 1,
                    "number": f"LF2023{i:06d}",
                    "line": "life",
                    "product_name": "安康终身寿险",
                    "status": "in_force",
                    "issue_date": date(2023, 1, 1),
                    "effective_date": date(2023, 1, 2),
                    "cooling_off_days": 15,
                    "waiting_period_days": 0,
                    "grace_period_days": 60,
                    "sum_insured": 500000,
                    "premium": 12000,
                    "payment_frequency": "annual",
                    "payment_years": 20,
                    "bank_name": "工商银行",
                    "bank_account": f"62220212{i:011d}",
                    "policyholder_id": i + 1,
                    "insured_id": i + 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(CUSTOMERS)
            ],
        )
    types = list(TICKET_RULES)
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    chunk = 20_000
    span = 2 * 365 * 24 * 3600
    for start in range(0, n, chunk):
        rows, events = [], []
        for i in range(start, min(n, start + chunk)):
            tt = rng.choice(types)
            rule = TICKET_RULES[tt]
            created = now - timedelta(seconds=int(span * (1 - i / n)) + rng.randint(0, 60))
            status = rng.choices(statuses, weights)[0]
            c = i % CUSTOMERS + 1
            rows.append(
                {
                    "id": i + 1,
                    "number": f"TK26{i:08d}",
                    "ticket_type": tt.value,
                    "team": rule.team.value,
                    "status": status,
                    "priority": rule.priority.value,
                    "sla_due_at": created + timedelta(hours=rule.sla_hours),
                    "subject": rule.title_zh,
                    "customer_id": c,
                    "policy_id": c,
                    "conversation_id": f"web:bench{i}",
                    "channel": "web",
                    "payload": {"note": "bench"},
                    "requires_checker": rule.requires_checker,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            events.append(
                {
                    "ticket_id": i + 1,
                    "at": created,
                    "actor_label": "assistant",
                    "kind": "created",
                    "to_status": "open",
                    "data": {},
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Ticket), rows)
            conn.execute(insert(TicketEvent), events)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"  built {n:,} tickets in {time.perf_counter() - started:.0f} s", flush=True)
    return engine


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def make_clients(url: str, n: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.web.app import create_app

    settings = Settings(
        database_url=url,
        session_secret="bench",
        tracker_database_url="sqlite:////nonexistent/t.db",
        telegram_token="",
    )
    app = create_app(settings)

    def client_for(username: str) -> TestClient:
        c = TestClient(app, follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/desk/login").text)
        assert token is not None
        resp = c.post(
            "/desk/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert resp.status_code == 303, resp.text
        return c

    proc, sup = client_for("bench_proc"), client_for("bench_sup")
    # cursors of the processor's following queue pages
    cursors: list[str] = []
    cursor = proc.get("/api/tickets?limit=50").json()["next_cursor"]
    while cursor and len(cursors) < 6:
        cursors.append(cursor)
        cursor = proc.get(f"/api/tickets?limit=50&cursor={cursor}").json()["next_cursor"]
    return {"app": app, "proc": proc, "sup": sup, "cursors": cursors, "n": n}


def scenarios(rng: random.Random) -> dict[str, Callable[[dict[str, Any]], Any]]:
    def next_page(c: dict[str, Any]) -> Any:
        return c["proc"].get(f"/desk?cursor={rng.choice(c['cursors'])}" if c["cursors"] else "/desk")

    return {
        "queue page (processor, HTML)": lambda c: c["proc"].get("/desk"),
        "queue next pages (cursor, HTML)": next_page,
        "queue SLA order, breached only": lambda c: c["sup"].get("/desk?sort=sla&sla_breached=1"),
        "queue page (supervisor, all teams)": lambda c: c["sup"].get("/desk"),
        "queue API JSON (processor)": lambda c: c["proc"].get("/api/tickets"),
        "search by ticket number": lambda c: c["sup"].get(f"/desk?q=TK26{rng.randrange(c['n']):08d}"),
        "ticket API GET /api/tickets/{n}": lambda c: c["sup"].get(
            f"/api/tickets/TK26{rng.randrange(c['n']):08d}"
        ),
    }


def measure(pair: list[dict[str, Any]], requests: int, rng: random.Random) -> dict[str, list[float]]:
    """p95 per scenario and database; the two databases are measured alternately, request by
    request, so that a change in the machine's load affects both alike."""
    out: dict[str, list[float]] = {}
    for name, fn in scenarios(rng).items():
        samples: list[list[float]] = [[] for _ in pair]
        for c in pair:
            fn(c)  # warm-up
        for _ in range(requests):
            for i, c in enumerate(pair):
                t0 = time.perf_counter()
                resp = fn(c)
                samples[i].append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, resp.text[:300]
        out[name] = [p95(s) for s in samples]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres-url", default="", help="benchmark on PostgreSQL (its schema is replaced)")
    args = parser.parse_args()
    rng = random.Random(20261123)
    if args.postgres_url:
        print("PostgreSQL: one database at a time (its schema is replaced); the runs are not interleaved")
    pair = []
    for n in (args.small, args.large):
        if args.postgres_url:
            url = args.postgres_url
        else:
            (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{ROOT / 'var' / 'bench' / f'desk_{n}.db'}"
        print(f"database with {n:,} tickets ({'postgresql' if args.postgres_url else 'sqlite'})", flush=True)
        build(url, n, rng).dispose()
        if args.postgres_url:  # measure now, before the next build replaces the schema
            c = make_clients(url, n)
            single = measure([c], args.requests, rng)
            c["app"].state.engine.dispose()
            pair.append({name: v[0] for name, v in single.items()})
        else:
            pair.append(make_clients(url, n))
    if args.postgres_url:
        figures = {name: [pair[0][name], pair[1][name]] for name in pair[0]}
    else:
        figures = measure(pair, args.requests, rng)
    print()
    print(f"p95 latency in ms over {args.requests} requests each (app in-process, SQLite runs interleaved)")
    header = f"{'':38} {args.small:>12,} {args.large:>12,} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for name, (small, large) in figures.items():
        print(f"{name:38} {small:12.1f} {large:12.1f} {large / small:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
