"""The live stack: the real Rasa server, the real action server and the app, on loopback.

``live_stack`` (session scope) makes sure a trained model exists (``scripts/train-if-changed.sh``;
``LIVE_SKIP_TRAIN=1`` uses the model in ``models/`` as it is), builds a temporary SQLite app
database (migrated and seeded with the demo customers), starts the three processes on free
ports with their logs in a temporary folder, waits until Rasa has loaded the model, yields the
URLs, and stops everything at the end. Tests that use it are marked ``@pytest.mark.live``.

The app's Telegram bridge runs in webhook mode against a fake Bot API server on loopback (in this
process, ``telegram_api``): tests post updates to ``/telegram/webhook`` with ``telegram_secret``
and read what the app sent with ``telegram_api.calls``. Nothing ever reaches Telegram.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.channel_support import TOKEN, WEBHOOK_SECRET, FakeBotApi, ServerThread

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
RASA_READY_TIMEOUT = float(os.environ.get("LIVE_RASA_TIMEOUT", "600"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveStack:
    app_url: str
    rasa_url: str
    action_url: str
    rasa_token: str
    action_token: str
    database_url: str
    env: dict[str, str]
    tmp: Path
    logs: dict[str, Path] = field(default_factory=dict)
    telegram_api: FakeBotApi = field(default_factory=FakeBotApi)
    telegram_secret: str = WEBHOOK_SECRET
    pids: dict[str, int] = field(default_factory=dict)

    def log_tail(self, name: str, lines: int = 60) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _wait(url: str, ok, timeout: float, proc: subprocess.Popen[bytes], name: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"{name} exited with {proc.returncode} before it was ready:\n{tail}")
        try:
            resp = httpx.get(url, timeout=5)
            if ok(resp):
                return
            last = f"{resp.status_code} {resp.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
    raise RuntimeError(f"{name} not ready after {timeout:.0f} s ({last}):\n{tail}")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _rasa_ready(resp: httpx.Response) -> bool:
    if resp.status_code != 200:
        return False
    data = resp.json()
    return bool(data.get("model_file") or data.get("model_id"))


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    if not RASA.exists():
        pytest.fail(".venv-rasa is missing: run `make run` or scripts/setup-envs.sh first")
    tmp = tmp_path_factory.mktemp("live")
    if os.environ.get("LIVE_SKIP_TRAIN") != "1":  # 1: use the model already in models/ as it is
        subprocess.run(["bash", "scripts/train-if-changed.sh"], cwd=ROOT, check=True, timeout=3600)
    elif not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("LIVE_SKIP_TRAIN=1 but there is no model in models/")

    token = secrets.token_urlsafe(16)
    action_token = secrets.token_urlsafe(16)
    app_port, rasa_port, action_port = _free_port(), _free_port(), _free_port()
    telegram_api = FakeBotApi(port=_free_port())
    database_url = f"sqlite:///{tmp / 'app.db'}"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "BOT_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "BOT_RASA_TOKEN": token,
        "BOT_ACTION_SERVER_TOKEN": action_token,
        "BOT_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "BOT_APP_HOST": "127.0.0.1",
        "BOT_APP_PORT": str(app_port),
        "BOT_PUBLIC_URL": f"http://127.0.0.1:{app_port}",  # Telegram in webhook mode
        "BOT_SESSION_SECRET": secrets.token_urlsafe(32),
        "BOT_TELEGRAM_TOKEN": TOKEN,  # the fake Bot API's token: the live stack never talks to Telegram
        "BOT_TELEGRAM_API_BASE_URL": telegram_api.base_url,
        "BOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BOT_UPLOAD_DIR": str(tmp / "uploads"),
        "BOT_REMINDER_SCHEDULER_ENABLED": "false",
        # One scripted customer walks whole conversations within a minute: the chat limits are
        # raised here (tests/security/test_customer_abuse.py tests them at their defaults).
        "BOT_RATE_LIMIT_CHAT_SESSION": "600/minute",
        "BOT_RATE_LIMIT_CHAT_CLIENT": "2000/minute",
        "BOT_DEMO_MODE": "true",  # the seed's demo staff logins (the app refuses them outside demo mode)
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_DB": str(tmp / "tracker.db"),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "SANIC_HOST": "127.0.0.1",
    }
    subprocess.run([str(APP_PY), "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True, timeout=300)
    subprocess.run(
        [str(APP_PY), "-m", "bot", "seed", "--customers", "40"], cwd=ROOT, env=env, check=True, timeout=600
    )

    endpoints = tmp / "endpoints.yml"
    # the project's endpoints.yml, its ${VAR}s filled from env by Rasa (secrets never in the file)
    endpoints.write_text((ROOT / "endpoints.yml").read_text(encoding="utf-8"), encoding="utf-8")
    logs = {name: tmp / f"{name}.log" for name in ("actions", "rasa", "app")}
    commands = {
        # the launchers read their secrets from the environment: none is on a command line
        "actions": [str(APP_PY), "-m", "actions.server", "--port", str(action_port)],
        "rasa": [
            str(RASA_PY),
            "-m",
            "rasa_addons.serve",
            "-i",
            "127.0.0.1",
            "-p",
            str(rasa_port),
            "--model",
            "models",
            "--endpoints",
            str(endpoints),
            "--credentials",
            "credentials.yml",
        ],
        "app": [
            str(APP_PY),
            "-m",
            "uvicorn",
            "bot.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
            "--log-level",
            "info",
            "--timeout-graceful-shutdown",
            "5",
        ],
    }
    procs: list[subprocess.Popen[bytes]] = []
    fake_telegram = ServerThread(telegram_api.app(), telegram_api.port).__enter__()
    try:
        started: dict[str, subprocess.Popen[bytes]] = {}
        for name, cmd in commands.items():
            fh = logs[name].open("wb")
            started[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
            procs.append(started[name])
        _wait(
            f"http://127.0.0.1:{action_port}/health",
            lambda r: r.status_code == 200,
            120,
            started["actions"],
            "action server",
            logs["actions"],
        )
        _wait(
            f"http://127.0.0.1:{app_port}/healthz",
            lambda r: r.status_code in (200, 503),
            120,
            started["app"],
            "app",
            logs["app"],
        )
        _wait(
            f"http://127.0.0.1:{rasa_port}/status?token={token}",
            _rasa_ready,
            RASA_READY_TIMEOUT,
            started["rasa"],
            "rasa",
            logs["rasa"],
        )
        yield LiveStack(
            app_url=f"http://127.0.0.1:{app_port}",
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            action_url=f"http://127.0.0.1:{action_port}",
            rasa_token=token,
            action_token=action_token,
            database_url=database_url,
            env=env,
            tmp=tmp,
            logs=logs,
            telegram_api=telegram_api,
            pids={name: proc.pid for name, proc in started.items()},
        )
    finally:
        _stop(procs)
        fake_telegram.__exit__(None, None, None)
