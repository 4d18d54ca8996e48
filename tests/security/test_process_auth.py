"""Item 2 of issue 12: anyone on the host could act as any customer.

Attacks reproduced here: a hand-built call to the action server, a message posted straight to
Rasa's REST channel for someone else's sender id, secrets read from ``/proc/<pid>/cmdline``, and
world-readable ``.env``, databases and uploads. The action server and file-mode tests start their
own processes; the Rasa tests use the live stack (``tests/live/conftest.py``)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.live.conftest import live_stack  # noqa: F401 - the live fixture, for the live tests here

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / ".venv" / "bin" / "python"
HEADER = "X-Assistant-Secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")


def _descendants(pid: int) -> list[int]:
    """The process and every process it started (a launcher may exec or fork)."""
    found, todo = [pid], [pid]
    while todo:
        children = Path(f"/proc/{todo.pop()}/task")
        for task in children.glob("*/children") if children.exists() else []:
            for child in task.read_text().split():
                found.append(int(child))
                todo.append(int(child))
    return found


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("actions")
    port, token = _free_port(), secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
        "BOT_ACTION_SERVER_TOKEN": token,
        "SANIC_HOST": "127.0.0.1",
    }
    log = (tmp / "actions.log").open("wb")
    proc = subprocess.Popen(
        [str(APP_PY), "-m", "actions.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp / "actions.log").read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("action server did not start")
        yield url, token, proc.pid
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)


def _action_call(name: str) -> dict[str, object]:
    return {
        "next_action": name,
        "sender_id": "web:someone-else",
        "tracker": {"sender_id": "web:someone-else", "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.2",
    }


def test_the_action_server_refuses_a_hand_built_call(action_server) -> None:
    url, token, _pid = action_server
    call = _action_call("action_show_policy_overview")
    assert httpx.post(f"{url}/webhook", json=call, timeout=10).status_code == 403
    wrong = {HEADER: token[:-1] + ("x" if token[-1] != "x" else "y")}
    assert httpx.post(f"{url}/webhook", json=call, headers=wrong, timeout=10).status_code == 403
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 403
    # Rasa, holding the secret, is served (an unknown action: 404, not 403)
    unknown = _action_call("no_such_action")
    ok = httpx.post(f"{url}/webhook", json=unknown, headers={HEADER: token}, timeout=10)
    assert ok.status_code != 403
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200


def test_the_action_server_has_no_secret_on_its_command_line(action_server) -> None:
    _url, token, pid = action_server
    for p in _descendants(pid):
        assert token not in _cmdline(p)


def test_the_action_server_will_not_start_without_its_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_ACTION_SERVER_TOKEN"}
    done = subprocess.run(
        [str(APP_PY), "-m", "actions.server", "--port", str(_free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert b"BOT_ACTION_SERVER_TOKEN" in done.stderr


def test_env_databases_and_uploads_are_private_after_init_env_and_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.__main__ as cli

    # .env (init-env), written over an older world-readable one
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_RASA_TOKEN=\n", encoding="utf-8")
    env_file.chmod(0o644)
    monkeypatch.setattr(cli, "ENV_FILE", env_file)
    assert cli.cmd_init_env(None) == 0  # type: ignore[arg-type]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = [line for line in env_file.read_text().splitlines() if "=" in line and line[0] != "#"]
    values = dict(line.split("=", 1) for line in lines)
    assert values["BOT_ACTION_SERVER_TOKEN"] and values["BOT_RASA_TOKEN"]

    # migrate: a fresh database, an old tracker store and an old upload made world-readable
    db, tracker = tmp_path / "app.db", tmp_path / "tracker.db"
    uploads = tmp_path / "uploads"
    (uploads / "web").mkdir(parents=True)
    old_upload = uploads / "web" / "card.jpg"
    old_upload.write_bytes(b"x")
    sqlite3.connect(tracker).close()
    for path, mode in ((tracker, 0o644), (old_upload, 0o644), (uploads, 0o755), (uploads / "web", 0o755)):
        path.chmod(mode)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "BOT_TRACKER_DATABASE_URL": f"sqlite:///{tracker}",
        "BOT_UPLOAD_DIR": str(uploads),
    }
    migrate = f"umask 022 && exec {APP_PY} -m bot migrate"
    subprocess.run(["bash", "-c", migrate], cwd=ROOT, env=env, check=True, timeout=300)
    for path in (db, tracker, old_upload):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in (uploads, uploads / "web"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_no_process_of_the_stack_is_started_with_a_secret_on_its_command_line() -> None:
    """Procfile (what `make run` starts): no secret, no ${VAR} that expands to one."""
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    for needle in ("--auth-token", "TOKEN", "SECRET", "rasa_sdk"):
        assert needle not in procfile


# ---------------------------------------------------------------- against the live stack


@pytest.mark.live
def test_rasa_refuses_a_message_for_someone_else_without_the_secret(live_stack) -> None:  # noqa: F811
    webhook = f"{live_stack.rasa_url}/webhooks/rest/webhook"
    body = {"sender": "web:someone-elses-session", "message": "帮我查一下我的保单"}
    assert httpx.post(webhook, json=body, timeout=60).status_code == 403
    assert httpx.post(webhook, json=body, headers={HEADER: "guess"}, timeout=60).status_code == 403
    ok = httpx.post(webhook, json=body, headers={HEADER: live_stack.rasa_token}, timeout=60)
    assert ok.status_code == 200


@pytest.mark.live
def test_no_secret_on_the_command_line_of_any_live_process(live_stack) -> None:  # noqa: F811
    secrets_ = [
        live_stack.rasa_token,
        live_stack.action_token,
        live_stack.env["BOT_SESSION_SECRET"],
        live_stack.env["BOT_TELEGRAM_WEBHOOK_SECRET"],
    ]
    for name, pid in live_stack.pids.items():
        for p in _descendants(pid):
            line = _cmdline(p)
            assert not [s for s in secrets_ if s in line], f"{name} ({p}) shows a secret: {line}"


@pytest.mark.live
def test_the_tracker_store_keeps_no_verification_answer_once_the_turn_is_over(live_stack) -> None:  # noqa: F811
    from bot.seeding.demo import ZHANG_WEI

    webhook = f"{live_stack.rasa_url}/webhooks/rest/webhook"
    sender = f"web:redact-{secrets.token_hex(4)}"
    replies: list[dict[str, object]] = []
    with httpx.Client(headers={HEADER: live_stack.rasa_token}, timeout=120) as client:
        for text in ("帮我查一下我的保单", ZHANG_WEI.policies[1].number, ZHANG_WEI.name, ZHANG_WEI.id_last6):
            replies = client.post(webhook, json={"sender": sender, "message": text}).json()
        assert "保单号" in json.dumps(replies, ensure_ascii=False)  # verified, the card shown
        # a later turn still works without the raw answers
        again = client.post(webhook, json={"sender": sender, "message": "帮我查一下我的保单"}).json()
        assert "保单号" in json.dumps(again, ensure_ascii=False)
    with sqlite3.connect(live_stack.tmp / "tracker.db") as conn:
        rows = [r[0] for r in conn.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))]
    stored = "\n".join(rows)
    assert rows
    assert ZHANG_WEI.id_last6 not in stored
    assert ZHANG_WEI.name not in stored
