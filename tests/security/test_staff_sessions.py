"""Attacks on staff logins and sessions (issue 12, item 9): a cookie that outlives logout and
password changes, a login throttle in memory and per username only that hashes every guess, weak
passwords, demo logins outside demo mode, and pages that can be framed or run injected script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.models import StaffRole
from bot.services import staff
from tests import desk_support
from tests.desk_support import CSRF_RE, PASSWORD, StaffClient, World

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures


def _try(client: TestClient, username: str, password: str, ip_note: str = "") -> Any:
    token = CSRF_RE.search(client.get("/desk/login").text)
    assert token is not None
    return client.post(
        "/desk/login", data={"username": username, "password": password, "csrf_token": token.group(1)}
    )


def test_a_cookie_copied_before_logout_no_longer_works(app: Any, world: World) -> None:
    c = StaffClient(app, "sup_zhou")
    stolen = c.http.cookies.get("staff_session")
    assert c.get("/api/me").status_code == 200
    c.http.post("/desk/logout", data={"csrf_token": c.csrf})
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set("staff_session", stolen)
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/desk").status_code == 303


def test_a_password_change_ends_every_session(app: Any, world: World, session: Session) -> None:
    c = StaffClient(app, "proc_wang")
    assert c.get("/api/me").status_code == 200
    staff.set_password(session, world.proc, "a-new-and-long-passphrase")
    assert c.get("/api/me").status_code == 401
    assert StaffClient(app, "proc_wang", "a-new-and-long-passphrase").login_response.status_code == 303


def test_guessing_many_usernames_from_one_client_is_throttled(app: Any, world: World) -> None:
    client = TestClient(app, follow_redirects=False)
    for i in range(20):  # BOT_LOGIN_MAX_FAILURES_PER_CLIENT
        assert _try(client, f"guess_{i}", "wrong-guess").status_code == 400
    resp = _try(client, "sup_zhou", PASSWORD)  # even the right password, from this client, for a while
    assert resp.status_code == 429 and "登录失败次数过多" in resp.text


def test_the_throttle_survives_a_restart_and_is_shared_by_app_processes(
    engine: Engine, session: Session, world: World
) -> None:
    first = desk_support.make_test_app(engine, session)
    client = TestClient(first, follow_redirects=False)
    for _ in range(5):  # BOT_LOGIN_MAX_FAILURES_PER_USER
        assert _try(client, "sup_zhou", "wrong-guess").status_code == 400
    second = desk_support.make_test_app(engine, session)  # another process, or after a restart
    other = TestClient(second, follow_redirects=False, base_url="http://elsewhere")
    assert _try(other, "sup_zhou", PASSWORD).status_code == 429


def test_a_throttled_guess_costs_no_password_hash(
    app: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = staff.verify_password
    monkeypatch.setattr(staff, "verify_password", lambda h, p: calls.append(p) or real(h, p))
    client = TestClient(app, follow_redirects=False)
    for i in range(20):
        _try(client, f"nobody_{i}", "wrong-guess")
    assert len(calls) == 20  # an unknown user costs a hash, like a known one
    for i in range(30):
        assert _try(client, f"nobody_{i}", "wrong-guess").status_code == 429
    assert len(calls) == 20  # refused before hashing


@pytest.mark.parametrize(
    "password",
    [
        "short-pw",
        "password1234",
        "Password2026!",
        "qwertyuiop123",
        "Demo@2026",
        "newuser-secret-x",
        "aaaaaaaaaaaaaaaa",
    ],
)
def test_weak_passwords_are_refused(session: Session, password: str) -> None:
    with pytest.raises(InvalidInput):
        staff.create_user(
            session, username="newuser", password=password, role=StaffRole.AGENT, display_name="新员工"
        )


def test_a_good_password_is_accepted(session: Session) -> None:
    user = staff.create_user(
        session, username="newuser", password="violet-harbour-lamp-7", role=StaffRole.AGENT, display_name="新"
    )
    assert user.id is not None


def test_the_seed_creates_no_usable_demo_login_outside_demo_mode(tmp_path: Path) -> None:
    from bot.db import make_engine
    from bot.models import StaffUser
    from bot.seeding import DEMO_PASSWORD, run_seed
    from tests.conftest import upgrade

    eng = make_engine(f"sqlite:///{tmp_path / 'prod.db'}")
    try:
        upgrade(eng)
        assert run_seed(customers=10, seed=1, engine=eng, demo_mode=False) == 0
        with Session(eng) as s:
            users = s.scalars(select(StaffUser)).all()
            assert users  # the seeded tickets keep their assignees
            assert all(not u.active for u in users)
            assert staff.authenticate(s, "supervisor1", DEMO_PASSWORD) is None
    finally:
        eng.dispose()


def test_the_app_refuses_to_start_with_demo_passwords_outside_demo_mode(tmp_path: Path) -> None:
    from bot.db import make_engine
    from bot.seeding import run_seed
    from bot.web.app import DemoPasswordsOutsideDemoMode, create_app
    from tests.channel_support import make_settings
    from tests.conftest import upgrade

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    eng = make_engine(url)
    try:
        upgrade(eng)
        assert run_seed(customers=10, seed=1, engine=eng, demo_mode=True) == 0
        with (
            pytest.raises(DemoPasswordsOutsideDemoMode),
            TestClient(create_app(make_settings(url, tmp_path))),
        ):
            pass
        with TestClient(create_app(make_settings(url, tmp_path, demo_mode=True))) as client:
            page = client.get("/desk/login")
            assert "演示模式" in page.text  # clearly labelled
    finally:
        eng.dispose()


@pytest.mark.parametrize(
    "path", ["/desk/login", "/chat", "/api/me", "/agent/live", "/staff-static/staff.css"]
)
def test_every_response_forbids_framing_and_inline_script(app: Any, path: str) -> None:
    resp = TestClient(app, follow_redirects=False).get(path)
    csp = resp.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert resp.headers.get("x-frame-options") == "DENY"
    assert resp.headers.get("x-content-type-options") == "nosniff"
    assert resp.headers.get("referrer-policy") == "no-referrer"


def test_the_pages_need_no_inline_script() -> None:
    import re

    templates = Path(__file__).resolve().parents[2] / "bot" / "web" / "templates"
    for page in templates.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page  # only <script src=...>
        assert not re.search(r"\son[a-z]+\s*=", html), page  # no onclick=, onsubmit=, ...
        assert "javascript:" not in html, page
