"""The staff session cookie and CSRF: an expiring signed cookie holding the user id and a
per-session CSRF token.

The cookie is signed (itsdangerous) with ``settings.session_secret`` and refused after
``settings.staff_session_minutes``. Forms carry the token in a hidden ``csrf_token`` field; JSON
API writes carry it in the ``X-CSRF-Token`` header (``GET /api/me`` returns it). Pages and the
API share the cookie. The dependencies that check it are in ``bot.web.deps``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from types import SimpleNamespace
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import StaffRole, StaffUser
from bot.services import staff

log = logging.getLogger(__name__)

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
CSRF_HEADER = "X-CSRF-Token"

_FALLBACK_SECRET = secrets.token_urlsafe(32)

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


def _secret(settings: Settings) -> str:
    secret = settings.session_secret.get_secret_value()
    if not secret:
        log.warning("BOT_SESSION_SECRET is empty: staff sessions use a per-process secret")
        return _FALLBACK_SECRET
    return secret


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(settings), salt=salt)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or _settings(request).public_url.startswith("https://")


def read_session(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings = _settings(request)
    try:
        data = _serializer(settings, "staff-session").loads(raw, max_age=settings.staff_session_minutes * 60)
    except (SignatureExpired, BadSignature):
        return None
    return data if isinstance(data, dict) and "uid" in data and "csrf" in data else None


def start_session(request: Request, response: Response, user: StaffUser) -> str:
    settings = _settings(request)
    csrf = secrets.token_urlsafe(24)
    token = _serializer(settings, "staff-session").dumps({"uid": user.id, "csrf": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.staff_session_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/",
    )
    return csrf


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def user_from_request(request: Request, db: Session) -> StaffUser | None:
    data = read_session(request)
    if data is None:
        return None
    user = staff.get_active(db, int(data["uid"]))
    if user is not None:
        request.state.csrf_token = data["csrf"]
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
