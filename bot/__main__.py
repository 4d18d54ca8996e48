"""Command line: ``python -m bot <command>``.

  init-env              write .env with generated local secrets (keeps existing values)
  migrate               apply the Alembic migrations to DATABASE_URL
  seed [--customers N]  load deterministic demo data (only into an empty database unless --force)
  serve                 run the app (uvicorn) on BOT_APP_HOST:BOT_APP_PORT
  demo-info             print the demo customers and staff logins
"""

from __future__ import annotations

import argparse
import secrets
import sys

from bot.config import PROJECT_ROOT

ENV_FILE = PROJECT_ROOT / ".env"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
GENERATED_SECRETS = ("BOT_RASA_TOKEN", "BOT_SESSION_SECRET", "BOT_TELEGRAM_WEBHOOK_SECRET")


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
    ENV_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ENV_FILE.chmod(0o600)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    command.upgrade(cfg, "head")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from bot.seed import run_seed

    return run_seed(customers=args.customers, force=args.force, seed=args.seed)


def cmd_demo_info(_args: argparse.Namespace) -> int:
    from bot.seed import print_demo_info

    print_demo_info()
    return 0


def cmd_serve(_args: argparse.Namespace) -> int:
    import uvicorn

    from bot.config import get_settings

    settings = get_settings()
    uvicorn.run(
        "bot.web.app:create_app",
        factory=True,
        host=settings.app_host,
        port=settings.app_port,
        proxy_headers=True,
        log_level="info",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="保险客服助手 command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-env", help="write .env with generated local secrets").set_defaults(func=cmd_init_env)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load deterministic demo data")
    seed.add_argument("--customers", type=int, default=300, help="number of customers (default 300)")
    seed.add_argument("--seed", type=int, default=20261123, help="random seed (default 20261123)")
    seed.add_argument("--force", action="store_true", help="seed even when the database has customers")
    seed.set_defaults(func=cmd_seed)
    sub.add_parser("demo-info", help="print demo customers and staff logins").set_defaults(func=cmd_demo_info)
    sub.add_parser("serve", help="run the app").set_defaults(func=cmd_serve)
    # Further commands (users, reminders, ...) register here.
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
