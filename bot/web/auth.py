"""Staff authentication: login/logout, an expiring signed session cookie, CSRF, role checks.

The session cookie holds the user id and a per-session CSRF token, signed (itsdangerous) with
``settings.session_secret`` and refused after ``settings.staff_session_minutes``. Forms carry the
token in a hidden ``csrf_token`` field; JSON API writes carry it in the ``X-CSRF-Token`` header
(``GET /api/me`` returns it). Pages and the API share the cookie.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import StaffRole, StaffUser
from bot.services import audit, staff

log = logging.getLogger(__name__)

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _local_time(value: str | None, tz: str = "Asia/Shanghai") -> str:
    """ISO timestamp → ``YYYY-MM-DD HH:MM`` in Beijing time, for pages."""
    if not value:
        return ""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        return datetime.fromisoformat(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


templates.env.filters["local"] = _local_time

_FALLBACK_SECRET = secrets.token_urlsafe(32)
_LOGIN_FAILURES: dict[str, list[float]] = {}
MAX_LOGIN_FAILURES = 5
LOGIN_LOCK_SECONDS = 15 * 60

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


def _secure(request: Request) -> bool:
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
        secure=_secure(request),
        path="/",
    )
    return csrf


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def get_session(request: Request) -> Iterator[Session]:
    """A DB session per request; committed when the handler returns normally."""
    session: Session = request.app.state.sessionmaker()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def _user_from_request(request: Request, db: Session) -> StaffUser | None:
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


def page_user(*roles: StaffRole) -> Callable[..., StaffUser]:
    """Dependency for pages: redirect to the login page, or a 403 page for other roles."""

    def dependency(request: Request, db: Session = Depends(get_session)) -> StaffUser:
        user = _user_from_request(request, db)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        if roles and user.role not in roles:
            raise PageForbidden()
        return user

    return dependency


def api_user(*roles: StaffRole) -> Callable[..., StaffUser]:
    """Dependency for the JSON API: 401 without a session, 403 for other roles, and the
    ``X-CSRF-Token`` header on every write."""

    def dependency(request: Request, db: Session = Depends(get_session)) -> StaffUser:
        user = _user_from_request(request, db)
        if user is None:
            raise ApiUnauthenticated()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf_value(request, request.headers.get(CSRF_HEADER))
        if roles and user.role not in roles:
            from bot.errors import PermissionDenied

            raise PermissionDenied("role")
        return user

    return dependency


def staff_context(request: Request, user: StaffUser, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "user": user,
        "role_label": staff.role_label(user),
        "csrf_token": csrf_token(request),
        **extra,
    }


def _safe_next(value: str | None, user: StaffUser | None = None) -> str:
    value = value or ""
    safe = bool(value) and value.startswith("/") and not value.startswith("//") and "\\" not in value
    agent_to_desk = (
        user is not None and user.role is StaffRole.AGENT and bool(value) and value.startswith("/desk")
    )
    if value and safe and not agent_to_desk:
        return value
    return ROLE_HOME[user.role] if user else "/desk"


router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
@router.get("/desk/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request, "desk/login.html", {"request": request, "csrf_token": token, "next": next, "error": None}
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/desk/login")
def login_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
    db: Session = Depends(get_session),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    error = None
    user = None
    key = username.strip().lower()
    now = time.monotonic()
    recent = [t for t in _LOGIN_FAILURES.get(key, []) if now - t < LOGIN_LOCK_SECONDS]
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        error = "页面已过期,请刷新后重新登录。"
    elif len(recent) >= MAX_LOGIN_FAILURES:
        error = "登录失败次数过多,请15分钟后再试或联系主管。"
    else:
        user = staff.authenticate(db, username, password)
        if user is None:
            recent.append(now)
            error = "用户名或密码不正确,请重新输入。"
    _LOGIN_FAILURES[key] = recent
    if user is None:
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(
            request,
            "desk/login.html",
            {"request": request, "csrf_token": token, "next": next, "error": error, "username": username},
            status_code=400,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=_secure(request)
        )
        return response
    _LOGIN_FAILURES.pop(key, None)
    audit.record(
        db, actor=f"staff:{user.username}", action="login", object_type="staff_user", object_id=user.id
    )
    redirect = RedirectResponse(_safe_next(next, user), status_code=303)
    start_session(request, redirect, user)
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/desk/logout")
def logout(request: Request, csrf_token: str = Form(""), db: Session = Depends(get_session)) -> Response:
    user = _user_from_request(request, db)
    if user is not None:
        check_csrf_value(request, csrf_token)
    response = RedirectResponse("/desk/login", status_code=303)
    end_session(response)
    return response


def install(app: FastAPI) -> None:
    """Exception handlers for the staff pages and API, and the login routes."""

    @app.exception_handler(LoginRequired)
    async def _login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/desk/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, _exc: PageForbidden) -> Response:
        user = getattr(request.state, "staff_view", None)
        return templates.TemplateResponse(
            request,
            "desk/forbidden.html",
            {
                "request": request,
                "user": user,
                "home": ROLE_HOME[user.role] if user else "/desk/login",
                "csrf_token": csrf_token(request),
                "role_label": user.label if user else "",
            },
            status_code=403,
        )

    @app.exception_handler(ApiUnauthenticated)
    async def _unauth(_request: Request, _exc: ApiUnauthenticated) -> Response:
        return JSONResponse({"code": "unauthenticated", "message": "请先登录。"}, status_code=401)

    @app.exception_handler(CsrfFailed)
    async def _csrf(_request: Request, _exc: CsrfFailed) -> Response:
        return JSONResponse(
            {"code": "csrf_failed", "message": "请求校验失败,请刷新页面后重试。"}, status_code=403
        )

    app.include_router(router)
