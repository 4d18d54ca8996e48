"""Seeding entry points: ``seed_database`` (any connection or session) and ``run_seed`` (the CLI)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.orm import Session

from bot.models import Base
from bot.seeding import demo
from bot.seeding.generator import TABLES, Generator, Rows

DEFAULT_SEED = 20261123
DEFAULT_CUSTOMERS = 300
CHUNK_CUSTOMERS = 5000  # customers generated (and written) per chunk
BATCH_ROWS = 10_000  # rows per executemany
STAFF_TABLE = "staff_users"
NO_PASSWORD = "!no-password"  # noqa: S105 - not an argon2 hash: no password verifies against it


@dataclass
class SeedResult:
    skipped: bool
    today: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def default_today(tz_name: str | None = None) -> date:
    from zoneinfo import ZoneInfo

    if tz_name is None:
        from bot.config import get_settings

        tz_name = get_settings().timezone
    return datetime.now(ZoneInfo(tz_name)).date()


def has_customers(conn: Connection) -> bool:
    return conn.execute(select(_table("customers").c.id).limit(1)).first() is not None


def wipe(conn: Connection) -> None:
    """Delete every row of the app's tables (children first). Used by --force."""
    existing = set(inspect(conn).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            conn.execute(t.delete())


def _id_start(conn: Connection) -> dict[str, int]:
    start = {}
    for name in (*TABLES, STAFF_TABLE):
        current = conn.execute(select(func.max(_table(name).c.id))).scalar()
        start[name] = int(current or 0) + 1
    return start


def _ensure_staff(
    conn: Connection, start: dict[str, int], password_hash: str | None, now: datetime, logins: bool
) -> None:
    """The demo staff; outside demo mode (``logins`` False) they are disabled, with no password."""
    table = _table(STAFF_TABLE)
    existing = set(conn.execute(select(table.c.username)).scalars())
    missing = [s for s in demo.DEMO_STAFF if s.username not in existing]
    if not missing:
        return
    if not logins:
        password_hash = NO_PASSWORD
    elif password_hash is None:
        from bot.security import hash_password

        password_hash = hash_password(demo.DEMO_PASSWORD)  # argon2 is slow: hash once, reuse
    rows = []
    for s in missing:
        rows.append(
            {
                "id": start[STAFF_TABLE],
                "username": s.username,
                "display_name": s.display_name,
                "password_hash": password_hash,
                "role": s.role,
                "team": s.team,
                "active": logins,
                "last_login_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        start[STAFF_TABLE] += 1
    conn.execute(table.insert(), rows)


def _staff_by_team(conn: Connection) -> tuple[dict[str, list[tuple[int, str]]], tuple[int, str] | None]:
    table = _table(STAFF_TABLE)
    usernames = [s.username for s in demo.DEMO_STAFF]
    found = conn.execute(
        select(table.c.id, table.c.username, table.c.role, table.c.team)
        .where(table.c.username.in_(usernames))
        .order_by(table.c.username)
    ).all()
    teams: dict[str, list[tuple[int, str]]] = {}
    supervisor = None
    for row in found:
        if row.role == "processor" and row.team:
            teams.setdefault(row.team, []).append((row.id, row.username))
        elif row.role == "supervisor":
            supervisor = (row.id, row.username)
    return teams, supervisor


def _write(conn: Connection, rows: Rows, counts: dict[str, int]) -> None:
    for name in TABLES:
        batch = rows.tables[name]
        if not batch:
            continue
        table = _table(name)
        for i in range(0, len(batch), BATCH_ROWS):
            conn.execute(table.insert(), batch[i : i + BATCH_ROWS])
        counts[name] = counts.get(name, 0) + len(batch)


def _sync_sequences(conn: Connection, names: list[str]) -> None:
    """PostgreSQL: move the id sequences past the ids assigned in Python."""
    if conn.dialect.name != "postgresql":
        return
    for name in names:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - fixed table names
                f"(SELECT MAX(id) FROM {name}))"
            )
        )


def seed_database(
    bind: Session | Connection,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    force: bool = False,
    progress: bool = False,
    chunk_customers: int = CHUNK_CUSTOMERS,
    password_hash: str | None = None,
    demo_logins: bool = True,
) -> SeedResult:
    """Seed demo data into the database behind ``bind``; the caller owns the transaction.

    ``customers`` counts every customer row, the fixed demo customers included. With customers
    already present nothing happens (``skipped``) unless ``force``, which wipes the app's tables first.
    The same ``seed`` and ``today`` give the same rows. ``demo_logins``: the demo staff can log in
    with the published demo password (demo mode only); otherwise they are disabled accounts.
    """
    if customers < len(demo.DEMO_CUSTOMERS):
        raise ValueError(f"need at least {len(demo.DEMO_CUSTOMERS)} customers (the fixed demo customers)")
    conn = _connection(bind)
    today = today or default_today()
    if has_customers(conn):
        if not force:
            return SeedResult(skipped=True, today=today)
        wipe(conn)
    if conn.dialect.name == "sqlite":
        # a bounded page cache (64 MiB) keeps index inserts of a big seed off the disk
        conn.exec_driver_sql("PRAGMA cache_size=-65536")
    start = _id_start(conn)
    now = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc)
    _ensure_staff(conn, start, password_hash, now, demo_logins)
    staff, supervisor = _staff_by_team(conn)
    gen = Generator(seed=seed, today=today, id_start=start, staff=staff, supervisor=supervisor)
    counts: dict[str, int] = {}

    from bot.seeding.demo_rows import add_demo_customers

    rows = Rows()
    add_demo_customers(gen, rows)
    _write(conn, rows, counts)
    remaining = customers - counts["customers"]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=customers, initial=counts["customers"], unit="customer", desc="seed", leave=False)
    index = 0
    try:
        while remaining > 0:
            size = min(chunk_customers, remaining)
            rows = gen.chunk(index, size)
            _write(conn, rows, counts)
            remaining -= size
            index += 1
            if bar is not None:
                bar.update(size)
    finally:
        if bar is not None:
            bar.close()
    _sync_sequences(conn, [*TABLES, STAFF_TABLE])
    return SeedResult(skipped=False, today=today, counts=counts)


def run_seed(
    customers: int = DEFAULT_CUSTOMERS,
    force: bool = False,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    *,
    engine: Engine | None = None,
    demo_mode: bool | None = None,
) -> int:
    """The ``python -m bot seed`` command: seed DATABASE_URL in one transaction; returns the exit code.

    The demo staff logins (published password) are created only in demo mode (``BOT_DEMO_MODE``)."""
    if demo_mode is None:
        from bot.config import get_settings

        demo_mode = get_settings().demo_mode
    if engine is None:
        from bot.db import get_engine

        engine = get_engine()
    with engine.begin() as conn:
        result = seed_database(
            conn,
            customers=customers,
            seed=seed,
            today=today,
            force=force,
            progress=True,
            demo_logins=demo_mode,
        )
    if result.skipped:
        print("数据库中已有客户数据,未重新生成演示数据(如需清空并重新生成,请加 --force)。")
        return 0
    summary = ", ".join(f"{name} {n}" for name, n in result.counts.items())
    print(f"演示数据已生成 (seed={seed}, today={result.today.isoformat()}): {summary}")
    if demo_mode:
        print("演示模式 (BOT_DEMO_MODE=true):已创建演示员工账户,密码为公开的演示密码,仅供本机试用。")
    else:
        print("未开启演示模式:演示员工账户已停用且没有密码;请用 `python -m bot users create` 创建员工账户。")
    print("运行 `python -m bot demo-info` 查看演示客户和员工登录信息。")
    return 0


def print_demo_info() -> None:
    """Print the fixed demo customers and staff logins (local demo data, not real people)."""
    status_zh = {
        "in_force": "有效",
        "cooling_off": "犹豫期",
        "grace_period": "宽限期",
        "lapsed": "效力中止",
        "terminated": "终止",
    }
    widths = (8, 14, 13, 14, 18, 10)
    print(
        "演示客户 Demo customers — 核身: 保单号 + 姓名 + 身份证后六位 (policy number, name, last six of ID)"
    )
    print(_cols(("姓名", "身份证后六位", "手机", "保单号", "产品", "状态", "说明"), widths))
    print("-" * 110)
    for c in demo.DEMO_CUSTOMERS:
        for i, p in enumerate(c.policies):
            lead = (c.name, c.id_last6, c.mobile) if i == 0 else ("", "", "")
            print(_cols((*lead, p.number, p.product, status_zh[p.status], p.note), widths))
        extra = [f"理赔 {n}" for n in c.claims] + [f"工单 {n}" for n in c.tickets]
        if extra:
            print(_cols(("", "", "", "; ".join(extra)), widths[:3]))
    print()
    print(
        f"演示员工登录 Demo staff logins — 密码 password: {demo.DEMO_PASSWORD}"
        " (仅演示模式 BOT_DEMO_MODE=true,本机试用 demo mode only, local try)"
    )
    role_zh = {"agent": "客服坐席", "processor": "后台处理", "reviewer": "复核", "supervisor": "主管"}
    team_zh = {"claims": "理赔", "policy_service": "保全", "renewals": "续期", "customer_service": "客服"}
    print("  " + _cols(("用户名", "姓名", "角色", "团队"), (14, 14, 10)))
    for s in demo.DEMO_STAFF:
        print(
            "  "
            + _cols(
                (s.username, s.display_name, role_zh[s.role], team_zh.get(s.team or "", "-")), (14, 14, 10)
            )
        )


def _width(value: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in value)


def _cols(values: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """Columns padded to display widths (a Chinese character takes two columns); the rest as is."""
    out = []
    for i, value in enumerate(values):
        if i < len(widths):
            out.append(value + " " * max(1, widths[i] - _width(value)))
        else:
            out.append(value)
    return "".join(out).rstrip()


# ---------------------------------------------------------------- digest (tests, bench)

DIGEST_TABLES = (*TABLES, STAFF_TABLE)


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def data_digest(bind: Session | Connection) -> str:
    """A SHA-256 over every seeded row (bar password hashes), in id order."""
    conn = _connection(bind)
    h = hashlib.sha256()
    for name in DIGEST_TABLES:
        table = _table(name)
        cols = [c for c in table.c if c.name not in ("password_hash", "last_login_at")]
        for row in conn.execute(select(*cols).order_by(table.c.id)):
            h.update(json.dumps([_norm(v) for v in row], ensure_ascii=False, default=str).encode())
        h.update(name.encode())
    return h.hexdigest()
