"""Command line: ``python -m bot <command>``.

init-env              write .env with generated local secrets (keeps existing values)
migrate               apply the Alembic migrations to DATABASE_URL
seed [--customers N]  load deterministic demo data (only into an empty database unless --force)
serve                 run the app (uvicorn) on BOT_APP_HOST:BOT_APP_PORT
demo-info             print the demo customers and staff logins
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT

ENV_FILE = PROJECT_ROOT / ".env"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
GENERATED_SECRETS: tuple[str, ...] = (
    "BOT_RASA_TOKEN",
    "BOT_ACTION_SERVER_TOKEN",
    "BOT_SESSION_SECRET",
    "BOT_TELEGRAM_WEBHOOK_SECRET",
)
# --- staff helper: the audit log's HMAC key (kept out of the database) ---
GENERATED_SECRETS += ("BOT_AUDIT_KEY",)
PRIVATE_UMASK = 0o077  # every file this command line creates: owner only


def _sqlite_path(url: str) -> Path | None:
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix) and url[len(prefix) :] not in ("", ":memory:"):
            return Path(url[len(prefix) :])
    return None


def secure_local_files() -> None:
    """Make .env, var/, the SQLite databases (with their journals) and the uploads owner-only,
    including files an older version created world-readable."""
    from bot.config import get_settings

    settings = get_settings()
    paths: list[Path] = [ENV_FILE, PROJECT_ROOT / "var", settings.upload_dir]
    for url in (settings.database_url, settings.tracker_database_url):
        db = _sqlite_path(url)
        if db is not None:
            paths += [db, *db.parent.glob(db.name + "-*")]  # -wal, -shm, -journal
    for path in paths:
        if not path.exists():
            continue
        if path.is_dir():
            for child in [path, *path.rglob("*")]:
                if not child.is_symlink():
                    child.chmod(0o700 if child.is_dir() else 0o600)
        elif not path.is_symlink():
            path.chmod(0o600)


def cmd_init_env(_args: argparse.Namespace) -> int:
    """Create .env from .env.example, generating the local secrets that are still empty."""
    existing: dict[str, str] = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                existing[key.strip()] = value.strip()
    lines: list[str] = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, default = (part.strip() for part in line.split("=", 1))
            value = existing.pop(key, default)
            if key in GENERATED_SECRETS and not value:
                value = secrets.token_urlsafe(32)
            lines.append(f"{key}={value}")
        else:
            lines.append(line)
    for key, value in existing.items():  # settings the user added by hand stay
        lines.append(f"{key}={value}")
    # private before the secrets go in (an older .env may be world-readable)
    fd = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    command.upgrade(cfg, "head")
    secure_local_files()
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from bot.seeding import run_seed

    today = None
    if args.today:
        from datetime import date

        today = date.fromisoformat(args.today)
    return run_seed(customers=args.customers, force=args.force, seed=args.seed, today=today)


def cmd_demo_info(_args: argparse.Namespace) -> int:
    from bot.seeding import print_demo_info

    print_demo_info()
    return 0


def cmd_serve(_args: argparse.Namespace) -> int:
    import uvicorn

    from bot.config import get_settings

    settings = get_settings()
    secure_local_files()
    uvicorn.run(
        "bot.web.app:create_app",
        factory=True,
        host=settings.app_host,
        port=settings.app_port,
        proxy_headers=True,
        log_level="info",
        timeout_graceful_shutdown=5,  # open event streams (web chat, live page) end, not block a stop
    )
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """``users create`` (password prompted, or read from stdin) and ``users list``."""
    import getpass

    from bot.db import session_scope
    from bot.errors import DomainError
    from bot.models import StaffRole, Team
    from bot.services import staff

    if args.users_command == "set-password":
        return _users_set_password(args)
    if args.users_command == "list":
        with session_scope() as session:
            for user in staff.list_users(session):
                state = "" if user.active else "  (已停用)"
                print(f"{user.username:<20} {staff.role_label(user):<12} {user.display_name}{state}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码: ")
        if password != getpass.getpass("再次输入密码: "):
            print("两次输入的密码不一致。", file=sys.stderr)
            return 2
    try:
        with session_scope() as session:
            user = staff.create_user(
                session,
                username=args.username,
                password=password,
                role=StaffRole(args.role),
                team=Team(args.team) if args.team else None,
                display_name=args.name or args.username,
            )
            print(f"已创建员工账户 {user.username}({staff.role_label(user)})。")
    except DomainError as exc:
        print(f"未能创建账户:{exc.message_zh}", file=sys.stderr)
        return 2
    return 0


def _read_new_password(args: argparse.Namespace) -> str | None:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("密码: ")
    if password != getpass.getpass("再次输入密码: "):
        print("两次输入的密码不一致。", file=sys.stderr)
        return None
    return password


def _users_set_password(args: argparse.Namespace) -> int:
    """A new password for a staff account; every session of that account ends."""
    from bot.db import session_scope
    from bot.errors import DomainError
    from bot.services import staff

    password = _read_new_password(args)
    if password is None:
        return 2
    try:
        with session_scope() as session:
            user = staff.by_username(session, args.username)
            staff.set_password(session, user, password)
            print(f"已为 {user.username} 设置新密码,其所有登录会话已失效。")
    except DomainError as exc:
        print(f"未能设置密码:{exc.message_zh}", file=sys.stderr)
        return 2
    return 0


def cmd_reminders_run(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import date, datetime, timezone

    from bot.channels.factory import build_hub
    from bot.config import get_settings
    from bot.db import get_sessionmaker
    from bot.jobs.reminders import run_reminders

    on_date = date.fromisoformat(args.date) if args.date else None
    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)

    async def _run() -> int:
        hub = build_hub(get_settings(), get_sessionmaker())
        try:
            report = await run_reminders(hub, on_date, now)
        finally:
            await hub.rasa.aclose()
        print(report.summary_zh())
        return 1 if report.failed else 0

    return asyncio.run(_run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="保险客服助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-env", help="write .env with generated local secrets").set_defaults(func=cmd_init_env)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load deterministic demo data")
    seed.add_argument("--customers", type=int, default=300, help="number of customers (default 300)")
    seed.add_argument("--seed", type=int, default=20261123, help="random seed (default 20261123)")
    seed.add_argument(
        "--force", action="store_true", help="wipe the app's data and seed again when customers exist"
    )
    seed.add_argument("--today", help="date the demo data is relative to, YYYY-MM-DD (default: today)")
    seed.set_defaults(func=cmd_seed)
    sub.add_parser("demo-info", help="print demo customers and staff logins").set_defaults(func=cmd_demo_info)
    sub.add_parser("serve", help="run the app").set_defaults(func=cmd_serve)
    users = sub.add_parser("users", help="staff accounts: create, list")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a staff account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=["agent", "processor", "reviewer", "supervisor"])
    create.add_argument("--team", choices=["claims", "policy_service", "renewals", "customer_service"])
    create.add_argument("--name", help="display name (default: the username)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users_sub.add_parser("list", help="list staff accounts")
    set_pw = users_sub.add_parser("set-password", help="set a new password (ends the account's sessions)")
    set_pw.add_argument("--username", required=True)
    set_pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users.set_defaults(func=cmd_users)
    reminders = sub.add_parser("reminders", help="premium reminders")
    reminders_sub = reminders.add_subparsers(dest="reminders_command", required=True)
    rem_run = reminders_sub.add_parser("run", help="send the reminders due on a date (default: today)")
    rem_run.add_argument("--date", help="run date YYYY-MM-DD (default: today, local time)")
    rem_run.add_argument("--now", help="wall-clock time for the quiet-hours check, ISO 8601 (default: now)")
    rem_run.set_defaults(func=cmd_reminders_run)
    # Further commands (users, reminders, ...) register here.
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    from bot.masking import install_log_masking

    install_log_masking()  # the CLI's log lines mask personal data too
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
