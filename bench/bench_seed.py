"""Benchmark of the demo-data seeder: a baseline size and a big size, each into a fresh database.

    .venv/bin/python bench/bench_seed.py                      # 10,000 then 1,000,000 customers, SQLite
    .venv/bin/python bench/bench_seed.py --customers 200000   # a smaller big run
    .venv/bin/python bench/bench_seed.py --database-url postgresql://user:pw@127.0.0.1:5432/benchdb

Prints wall time, CPU time, rows/s and customers/s of both runs, the ratio of the time per customer
(big vs baseline; 1.0 means the seeder scales linearly; on a shared machine the CPU-time ratio is the
steadier one) and the peak RSS after each run (flat memory: the big run's peak stays close to the
baseline's). With --database-url the database is migrated and
WIPED before each run: point it at a database of its own.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from bot.db import make_engine  # noqa: E402
from bot.security import hash_password  # noqa: E402
from bot.seeding import DEMO_PASSWORD, seed_database  # noqa: E402

TODAY = date(2026, 11, 24)


@dataclass
class Run:
    customers: int
    seconds: float
    cpu_seconds: float
    rows: int
    peak_rss_mb: float
    db_mb: float | None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def customers_per_s(self) -> float:
        return self.customers / self.seconds

    @property
    def us_per_customer(self) -> float:
        return self.seconds / self.customers * 1e6

    @property
    def cpu_us_per_customer(self) -> float:
        return self.cpu_seconds / self.customers * 1e6


def migrate(engine: Engine) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_once(url: str, customers: int, seed: int, password_hash: str, db_file: Path | None) -> Run:
    engine = make_engine(url)
    try:
        migrate(engine)
        start, cpu_start = time.perf_counter(), cpu_seconds()
        with engine.begin() as conn:
            result = seed_database(
                conn, customers=customers, seed=seed, today=TODAY, force=True, progress=True,
                password_hash=password_hash,
            )  # fmt: skip
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    finally:
        engine.dispose()
    db_mb = None
    if db_file is not None and db_file.exists():
        db_mb = sum(p.stat().st_size for p in db_file.parent.glob(db_file.name + "*")) / 2**20
    return Run(customers, seconds, cpu, result.total_rows, peak_rss_mb(), db_mb)


def report(label: str, run: Run) -> None:
    size = f", database {run.db_mb:,.0f} MiB" if run.db_mb is not None else ""
    print(
        f"{label:<9} {run.customers:>9,} customers  {run.rows:>11,} rows  {run.seconds:9.1f} s wall  "
        f"{run.cpu_seconds:8.1f} s CPU  "
        f"{run.rows_per_s:>9,.0f} rows/s  {run.customers_per_s:>7,.0f} customers/s  "
        f"peak RSS {run.peak_rss_mb:,.0f} MiB{size}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="big size (default 1,000,000)")
    parser.add_argument("--baseline", type=int, default=10_000, help="baseline size (default 10,000)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--database-url", help="seed this database instead of temporary SQLite files (WIPED)")
    args = parser.parse_args(argv)

    password_hash = hash_password(DEMO_PASSWORD)  # hashed once, as the seeder does, outside the timing
    runs: list[tuple[str, Run]] = []
    with tempfile.TemporaryDirectory(prefix="bench_seed_") as tmp:
        for label, size in (("baseline", args.baseline), ("big", args.customers)):
            if args.database_url:
                url, db_file = args.database_url, None
            else:
                db_file = Path(tmp) / f"{label}.db"
                url = f"sqlite:///{db_file}"
            run = run_once(url, size, args.seed, password_hash, db_file)
            runs.append((label, run))
            report(label, run)
    (_, base), (_, big) = runs
    backend = "postgresql" if args.database_url else "sqlite (temporary files)"
    print(f"backend: {backend}")
    print(
        f"time per customer: baseline {base.us_per_customer:,.0f} µs, big {big.us_per_customer:,.0f} µs, "
        f"ratio big/baseline {big.us_per_customer / base.us_per_customer:.2f}"
    )
    print(
        f"CPU time per customer: baseline {base.cpu_us_per_customer:,.0f} µs, "
        f"big {big.cpu_us_per_customer:,.0f} µs, "
        f"ratio big/baseline {big.cpu_us_per_customer / base.cpu_us_per_customer:.2f}"
    )
    print(f"peak RSS: after baseline {base.peak_rss_mb:,.0f} MiB, after big {big.peak_rss_mb:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
