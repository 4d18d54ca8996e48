"""The app factory: the one place that registers every router, static mount and error handler.
Engines and clients are created here, never at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import inspect
from sqlalchemy.orm import sessionmaker

from bot.channels import telegram
from bot.channels.factory import build_hub
from bot.channels.hub import ChannelHub
from bot.channels.rasa_client import RasaClient
from bot.config import Settings, get_settings
from bot.db import make_engine, transaction
from bot.errors import DomainError
from bot.jobs import scheduler
from bot.masking import install_log_masking
from bot.services import staff
from bot.web import docs, health
from bot.web.customer import chat
from bot.web.customer import telegram as telegram_webhook
from bot.web.security_headers import SecurityHeadersMiddleware
from bot.web.staff import agent, api_tickets, auth, desk, live, reports
from bot.web.templating import STATIC_DIR

ROUTERS = [
    health.router,
    docs.router,
    chat.router,  # the web chat
    live.router,  # the live handover queue
    telegram_webhook.router,
    auth.router,  # staff login
    desk.router,  # the ticket desk (/desk)
    api_tickets.router,  # its JSON API (/api)
    agent.router,  # the agent console (/agent)
    agent.api_router,
    reports.router,
]
STATIC_MOUNTS = [  # (path, directory, name)
    ("/static/swagger", docs.SWAGGER_DIR, "swagger"),
    ("/chat/static", str(STATIC_DIR / "chat"), "chat-static"),
    ("/staff-static", str(STATIC_DIR / "staff"), "staff-static"),
]


log = logging.getLogger(__name__)


class DemoPasswordsOutsideDemoMode(RuntimeError):
    """Demo staff logins with the published password exist while BOT_DEMO_MODE is off."""


def refuse_demo_passwords(app: FastAPI) -> None:
    """Outside demo mode, refuse to run while any demo login still has the published password."""
    from bot.seeding.demo import DEMO_PASSWORD, DEMO_STAFF

    settings: Settings = app.state.settings
    if settings.demo_mode:
        log.warning("DEMO MODE: the demo staff logins use the published password; local try only")
        return
    if not inspect(app.state.engine).has_table("staff_users"):
        return  # not migrated yet: no logins at all (the health page says so)
    with transaction(app.state.sessionmaker) as session:
        found = staff.demo_logins_with_published_password(
            session, [s.username for s in DEMO_STAFF], DEMO_PASSWORD
        )
    if found:
        raise DemoPasswordsOutsideDemoMode(
            f"demo staff logins with the published password exist ({', '.join(found)}) and BOT_DEMO_MODE is "
            "off: set new passwords (`python -m bot users set-password --username ...`) or run in demo mode"
        )


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"code": exc.code, "message": exc.message_zh}, status_code=exc.http_status)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The Telegram bridge (when a token is set) and the reminder scheduler run with the app."""
    hub: ChannelHub = app.state.hub
    settings: Settings = app.state.settings
    refuse_demo_passwords(app)
    if settings.telegram_token.get_secret_value():
        app.state.telegram_app = await telegram.start_telegram(hub, settings)
    if settings.reminder_scheduler_enabled:
        app.state.reminder_scheduler = scheduler.start(hub)
    try:
        yield
    finally:
        if app.state.reminder_scheduler is not None:
            scheduler.stop(app.state.reminder_scheduler)
            app.state.reminder_scheduler = None
        if app.state.telegram_app is not None:
            await telegram.stop_telegram(hub, app.state.telegram_app)
            app.state.telegram_app = None
        await hub.rasa.aclose()


def create_app(settings: Settings | None = None, *, rasa: RasaClient | None = None) -> FastAPI:
    """The app; ``rasa`` replaces the Rasa client the channels share (tests pass one that talks to a
    fake Rasa on an in-process transport)."""
    install_log_masking()  # every log line of this process masks personal data
    settings = settings or get_settings()
    app = FastAPI(
        title="保险客服助手 Insurance service assistant",
        version="0.1.0",
        description="Web chat, agent console, ticket desk and JSON API of the insurance service assistant.",
        lifespan=_lifespan,
        docs_url=None,  # served by bot.web.docs from local files: no CDN at run time
        redoc_url=None,
        exception_handlers={DomainError: _domain_error, **auth.EXCEPTION_HANDLERS},
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.hub = build_hub(settings, app.state.sessionmaker, rasa)
    app.state.telegram_app = None
    app.state.reminder_scheduler = None
    app.add_middleware(SecurityHeadersMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    for path, directory, name in STATIC_MOUNTS:
        app.mount(path, StaticFiles(directory=directory), name=name)
    return app
