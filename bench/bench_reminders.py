"""Benchmark: selecting the premium-reminder due set (set-based SQL, one query per stage).

Builds two databases with the real schema (Alembic migrations) and bulk Core inserts: a baseline
of 10,000 policies and the target of 1,000,000 policies (one policyholder per policy, one unpaid
premium each, due dates spread over a year, a channel binding for 60 % of the customers, a few
opt-outs and already-sent records), then times ``select_due`` for one run date on both and
prints the figures and the ratio. Target: at most 60 s for the million.

    .venv/bin/python bench/bench_reminders.py [--policies 1000000] [--baseline 10000] [--url URL]

``--url`` runs the target on an existing empty PostgreSQL database instead of a SQLite file.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from bot.db import make_engine
from bot.models import ChannelBinding, Customer, Policy, PremiumDue, ReminderRecord
from bot.services.reminders import select_due

ROOT = Path(__file__).resolve().parent.parent
RUN_DATE = date(2027, 6, 1)
CHUNK = 20_000


def migrate(engine: Engine) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def build(engine: Engine, n: int, seed: int = 7) -> float:
    rnd = random.Random(seed)
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for start in range(1, n + 1, CHUNK):
            ids = range(start, min(start + CHUNK, n + 1))
            conn.execute(
                insert(Customer.__table__),
                [
                    {
                        "id": i,
                        "name": "客户",
                        "id_number": f"{i:018d}",
                        "gender": "M",
                        "birth_date": date(1980, 1, 1),
                        "mobile": f"139{i % 10**8:08d}",
                        "reminders_enabled": i % 50 != 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(Policy.__table__),
                [
                    {
                        "id": i,
                        "number": f"LF{2000 + i // 10**6:04d}{i % 10**6:06d}",
                        "line": "life",
                        "product_name": "寿险",
                        "status": "in_force" if i % 40 else "lapsed",
                        "issue_date": date(2020, 1, 1),
                        "effective_date": date(2020, 1, 2),
                        "cooling_off_days": 15,
                        "waiting_period_days": 0,
                        "grace_period_days": 60,
                        "sum_insured": Decimal("100000"),
                        "premium": Decimal("1200.00"),
                        "payment_frequency": "annual",
                        "payment_years": 20,
                        "policyholder_id": i,
                        "insured_id": i,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(PremiumDue.__table__),
                [
                    {
                        "id": i,
                        "policy_id": i,
                        "due_date": RUN_DATE + timedelta(days=rnd.randint(-90, 275)),
                        "amount": Decimal("1200.00"),
                        "status": "paid" if i % 7 == 0 else ("failed" if i % 11 == 0 else "pending"),
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(ChannelBinding.__table__),
                [
                    {
                        "customer_id": i,
                        "channel": "telegram" if i % 2 else "web",
                        "external_id": f"x{i}",
                        "reminders_enabled": i % 30 != 0,
                        "bound_at": now,
                    }
                    for i in ids
                    if i % 5 < 3
                ],
            )
            conn.execute(
                insert(ReminderRecord.__table__),
                [
                    {"premium_id": i, "stage": "d30", "customer_id": i, "status": "sent", "created_at": now}
                    for i in ids
                    if i % 9 == 0
                ],
            )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


def time_selection(engine: Engine) -> tuple[float, int]:
    with Session(engine) as session:
        t0 = time.perf_counter()
        due = select_due(session, RUN_DATE)
        return time.perf_counter() - t0, len(due)


def run(n: int, url: str | None, tmp: Path) -> tuple[float, float, int]:
    engine = make_engine(url or f"sqlite:///{tmp / f'bench_{n}.db'}")
    migrate(engine)
    build_s = build(engine, n)
    select_s, count = time_selection(engine)
    engine.dispose()
    return build_s, select_s, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--url", help="database URL for the target run (an empty PostgreSQL database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as d:
        tmp = Path(d)
        b_build, b_sel, b_count = run(args.baseline, None, tmp)
        print(
            f"baseline {args.baseline:>9,} policies: built in {b_build:6.1f} s, "
            f"due set {b_count:>7,} in {b_sel:7.3f} s"
        )
        t_build, t_sel, t_count = run(args.policies, args.url, tmp)
        print(
            f"target   {args.policies:>9,} policies: built in {t_build:6.1f} s, "
            f"due set {t_count:>7,} in {t_sel:7.3f} s"
        )
    ratio = t_sel / b_sel if b_sel else float("inf")
    size = args.policies / args.baseline
    print(f"ratio target/baseline: {ratio:.1f}x for {size:.0f}x the policies (linear would be {size:.0f}x)")
    verdict = "OK" if t_sel <= 60 else "TOO SLOW"
    print(f"target selection {t_sel:.2f} s (limit 60 s): {verdict}")
    return 0 if t_sel <= 60 else 1


if __name__ == "__main__":
    sys.exit(main())
