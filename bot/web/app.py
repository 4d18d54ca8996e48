"""The app factory. Engines and clients are created here, never at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from bot.channels import runtime as channels_runtime
from bot.config import Settings, get_settings
from bot.db import make_engine
from bot.errors import DomainError
from bot.web import health
from bot.web.docs import install_docs


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The Telegram bridge and the reminder scheduler run with the app."""
    await channels_runtime.startup(app)
    try:
        yield
    finally:
        await channels_runtime.shutdown(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="保险客服助手 Insurance service assistant",
        version="0.1.0",
        description="Web chat, agent console, ticket desk and JSON API of the insurance service assistant.",
        lifespan=_lifespan,
        docs_url=None,  # served by bot.web.docs from local files: no CDN at run time
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message_zh}, status_code=exc.http_status)

    app.include_router(health.router)
    install_docs(app)
    channels_runtime.install(app)  # web chat, live handover queue, Telegram webhook

    # Staff side: login, ticket desk (/desk), agent console (/agent), JSON API (/api), reports.
    from bot.web.desk import include_staff

    include_staff(app)

    return app
