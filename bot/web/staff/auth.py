"""Staff login and logout (``/login``, ``/desk/login``, ``/desk/logout``) and the responses
for a missing login, a wrong role and a failed CSRF check (``EXCEPTION_HANDLERS``).

The session cookie and CSRF are ``bot.web.staff.cookies``; the dependencies that check them are
``bot.web.deps`` (``page_user``, ``api_user``).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import StaffRole, StaffUser
from bot.services import audit, staff
from bot.web.deps import SessionDep
from bot.web.staff.cookies import (
    LOGIN_CSRF_COOKIE,
    ROLE_HOME,
    ApiUnauthenticated,
    CsrfFailed,
    LoginRequired,
    PageForbidden,
    check_csrf_value,
    csrf_token,
    end_session,
    secure,
    start_session,
    user_from_request,
)
from bot.web.templating import templates


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
        request, "desk/login.html", _login_context(request, token, next, None)
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=secure(request)
    )
    return response


def _limits(request: Request) -> staff.LoginLimits:
    settings: Settings = request.app.state.settings
    return staff.LoginLimits(
        per_user=settings.login_max_failures_per_user,
        per_client=settings.login_max_failures_per_client,
        window_minutes=settings.login_window_minutes,
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_failed(db: Session, username: str, client: str, reason: str) -> None:
    audit.record(
        db,
        actor=f"client:{client}",
        action="login_failed",
        object_type="staff_login",
        object_id=username.strip().lower()[:64],
        after={"reason": reason},
    )


@router.post("/desk/login")
def login_submit(
    request: Request,
    db: SessionDep,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    error = None
    user = None
    client = _client(request)
    limits = _limits(request)
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        error = "页面已过期,请刷新后重新登录。"
    elif staff.login_throttled(db, username, client, limits):
        # refused before any password hash: a flood of guesses costs the server nothing
        error = f"登录失败次数过多,请{limits.window_minutes}分钟后再试或联系主管。"
        _login_failed(db, username, client, "throttled")
    else:
        user = staff.authenticate(db, username, password)
        if user is None:
            staff.record_login_failure(db, username, client, limits)
            _login_failed(db, username, client, "bad_credentials")
            error = "用户名或密码不正确,请重新输入。"
    if user is None:
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(
            request,
            "desk/login.html",
            _login_context(request, token, next, error, username),
            status_code=429 if error and "过多" in error else 400,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=secure(request)
        )
        return response
    staff.clear_login_failures(db, username)
    audit.record(
        db, actor=f"staff:{user.username}", action="login", object_type="staff_user", object_id=user.id
    )
    redirect = RedirectResponse(_safe_next(next, user), status_code=303)
    start_session(request, redirect, db, user)
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


def _login_context(
    request: Request, token: str, next: str, error: str | None, username: str = ""
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    return {
        "request": request,
        "csrf_token": token,
        "next": next,
        "error": error,
        "username": username,
        "demo_mode": settings.demo_mode,
    }


@router.post("/desk/logout")
def logout(request: Request, db: SessionDep, csrf_token: str = Form("")) -> Response:
    user = user_from_request(request, db)
    if user is not None:
        check_csrf_value(request, csrf_token)
        audit.record(
            db, actor=f"staff:{user.username}", action="logout", object_type="staff_user", object_id=user.id
        )
    response = RedirectResponse("/desk/login", status_code=303)
    end_session(request, response, db)
    return response


async def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/desk/login?next={quote(exc.next_url, safe='/')}", status_code=303)


async def _forbidden(request: Request, _exc: Exception) -> Response:
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


async def _unauth(_request: Request, _exc: Exception) -> Response:
    return JSONResponse({"code": "unauthenticated", "message": "请先登录。"}, status_code=401)


async def _csrf(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(
        {"code": "csrf_failed", "message": "请求校验失败,请刷新页面后重试。"}, status_code=403
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    LoginRequired: _login_required,
    PageForbidden: _forbidden,
    ApiUnauthenticated: _unauth,
    CsrfFailed: _csrf,
}
