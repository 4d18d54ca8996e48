"""Wiring of the customer channels into the app: routers, static files, and what runs with it
(the Telegram bridge when a token is set, the reminder scheduler unless disabled)."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.channels.hub import ChannelHub, get_hub, set_hub
from bot.channels.rasa_client import RasaClient

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "chat"


def install(app: FastAPI) -> None:
    """Routers and the hub; called by ``create_app``."""
    from bot.channels import telegram
    from bot.web import chat, handover

    settings = app.state.settings
    app.state.hub = ChannelHub(
        settings=settings, sessionmaker=app.state.sessionmaker, rasa=RasaClient(settings)
    )
    app.state.telegram_app = None
    app.state.reminder_scheduler = None
    app.include_router(chat.router)
    app.include_router(handover.router)
    app.include_router(telegram.router)
    app.mount("/chat/static", StaticFiles(directory=str(STATIC_DIR)), name="chat-static")


async def startup(app: FastAPI) -> None:
    hub: ChannelHub = app.state.hub
    settings = app.state.settings
    set_hub(hub)
    if settings.telegram_token.get_secret_value():
        from bot.channels.telegram import start_telegram

        app.state.telegram_app = await start_telegram(hub, settings)
    if settings.reminder_scheduler_enabled:
        from bot.services.reminders import start_scheduler

        app.state.reminder_scheduler = start_scheduler(hub)


async def shutdown(app: FastAPI) -> None:
    hub: ChannelHub = app.state.hub
    if app.state.reminder_scheduler is not None:
        app.state.reminder_scheduler.shutdown(wait=False)
        app.state.reminder_scheduler = None
    if app.state.telegram_app is not None:
        from bot.channels.telegram import stop_telegram

        await stop_telegram(hub, app.state.telegram_app)
        app.state.telegram_app = None
    await hub.rasa.aclose()
    if get_hub() is hub:
        set_hub(None)
