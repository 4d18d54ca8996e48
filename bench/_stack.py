"""A Rasa server + action server on loopback over a seeded temporary SQLite database, for benchmarks.

    with dialogue_stack(model="models") as stack:
        httpx.post(stack.webhook, json={"sender": "web:x", "message": "你好"}, headers=stack.headers)

The Rasa server keeps conversations in memory (no tracker store); both processes log to the temp
folder, which is removed afterwards. Everything listens on 127.0.0.1 only. Both are started by the
project's launchers (``rasa_addons.serve``, ``actions.server``) with fresh secrets in their
environment: the REST channel and the action server refuse calls without them.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
SECRET_HEADER = "X-Assistant-Secret"  # rasa_addons.secrets


@dataclass(frozen=True)
class Stack:
    rasa_url: str
    action_url: str
    database_url: str
    tmp: Path
    rasa_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {SECRET_HEADER: self.rasa_token}

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float, ready=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited\n{log.read_text(errors='replace')[-3000:]}")
        try:
            resp = httpx.get(url, timeout=5)
            if resp.status_code == 200 and (ready is None or ready(resp)):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s\n{log.read_text(errors='replace')[-3000:]}")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def dialogue_stack(
    model: str | Path = "models", customers: int = 40, timeout: float = 300
) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmpdir:
        tmp = Path(tmpdir)
        database_url = f"sqlite:///{tmp / 'app.db'}"
        rasa_port, action_port = free_port(), free_port()
        rasa_token, action_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SANIC_HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "BOT_RASA_TOKEN": rasa_token,
            "BOT_ACTION_SERVER_TOKEN": action_token,
        }
        subprocess.run(
            [str(APP_PY), "-m", "bot", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [str(APP_PY), "-m", "bot", "seed", "--customers", str(customers)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        endpoints = tmp / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
            "  headers:\n    X-Assistant-Secret: ${BOT_ACTION_SERVER_TOKEN}\n",
            encoding="utf-8",
        )
        commands = {
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
                str(model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ],
        }
        procs: list[subprocess.Popen[bytes]] = []
        logs = {name: tmp / f"{name}.log" for name in commands}
        try:
            for name, cmd in commands.items():
                procs.append(
                    subprocess.Popen(
                        cmd,
                        cwd=ROOT,
                        env=env,
                        stdout=logs[name].open("wb"),
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            _wait(f"http://127.0.0.1:{action_port}/health", procs[0], logs["actions"], 120)
            _wait(
                f"http://127.0.0.1:{rasa_port}/status?token={rasa_token}",
                procs[1],
                logs["rasa"],
                timeout,
                ready=lambda r: bool(r.json().get("model_file")),
            )
            rasa_url, action_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}"
            yield Stack(rasa_url, action_url, database_url, tmp, rasa_token)
        finally:
            _stop(procs)
