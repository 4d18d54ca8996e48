"""The app factory. Engines and clients are created here, never at import time."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import sessionmaker

from bot.config import Settings, get_settings
from bot.db import make_engine
from bot.errors import DomainError
from bot.web import health


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="保险客服助手 Insurance service assistant",
        version="0.1.0",
        description="Web chat, agent console, ticket desk and JSON API of the insurance service assistant.",
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message_zh}, status_code=exc.http_status)

    app.include_router(health.router)

    # Placeholders the next issues fill: web chat, agent console, ticket desk, Telegram webhook.
    for path, title in (("/chat", "在线客服"), ("/agent", "坐席话术助手"), ("/desk", "工单处理台")):

        async def _page(title: str = title) -> HTMLResponse:
            return HTMLResponse(
                f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{title}</title>"
                f"<body><h1>{title}</h1><p>该页面正在建设中。</p></body></html>"
            )

        app.add_api_route(path, _page, methods=["GET"], response_class=HTMLResponse, include_in_schema=False)

    return app
