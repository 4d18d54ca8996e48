"""The staff session cookie and CSRF: the cookie carries a random token naming a server-side
session (``staff_sessions``, only the token's hash is stored) with its own CSRF token.

A session ends after ``settings.staff_session_minutes``, at logout and when the password changes
(``bot.services.staff``). Forms carry the token in a hidden ``csrf_token`` field; JSON
API writes carry it in the ``X-CSRF-Token`` header (``GET /api/me`` returns it). Pages and the
API share the cookie. The dependencies that check it are in ``bot.web.deps``.
"""

from __future__ import annotations

import hmac
from types import SimpleNamespace
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import StaffRole, StaffUser
from bot.services import staff

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
CSRF_HEADER = "X-CSRF-Token"

ROLE_HOME = {
    StaffRole.AGENT: "/agent",
    StaffRole.PROCESSOR: "/desk",
    StaffRole.REVIEWER: "/desk",
    StaffRole.SUPERVISOR: "/desk",
}


class LoginRequired(Exception):
    def __init__(self, next_url: str = "/desk") -> None:
        self.next_url = next_url


class PageForbidden(Exception):
    pass


class ApiUnauthenticated(Exception):
    pass


class CsrfFailed(Exception):
    pass


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or _settings(request).public_url.startswith("https://")


def start_session(request: Request, response: Response, db: Session, user: StaffUser) -> str:
    """A new server-side session for ``user``; the cookie names it. Returns its CSRF token."""
    settings = _settings(request)
    token, row = staff.start_session(db, user, minutes=settings.staff_session_minutes)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.staff_session_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/",
    )
    return row.csrf_token


def end_session(request: Request, response: Response, db: Session) -> None:
    """Revoke the session the cookie names (the cookie alone no longer works) and drop the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        staff.end_session(db, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def user_from_request(request: Request, db: Session) -> StaffUser | None:
    found = staff.session_for_token(db, request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        return None
    row, user = found
    request.state.csrf_token = row.csrf_token
    # A plain copy for error pages, which render after the DB session has closed.
    request.state.staff_view = SimpleNamespace(
        display_name=user.display_name, role=user.role, team=user.team, label=staff.role_label(user)
    )
    return user


def csrf_token(request: Request) -> str:
    return str(getattr(request.state, "csrf_token", ""))


def check_csrf_value(request: Request, value: str | None) -> None:
    expected = csrf_token(request)
    if not expected or not value or not hmac.compare_digest(expected, value):
        raise CsrfFailed()


def staff_context(request: Request, user: StaffUser, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "user": user,
        "role_label": staff.role_label(user),
        "csrf_token": csrf_token(request),
        **extra,
    }
