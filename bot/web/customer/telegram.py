"""``/telegram/webhook``: Telegram's deliveries in webhook mode (``bot.channels.telegram``).

The ``X-Telegram-Bot-Api-Secret-Token`` header is compared in constant time (403 otherwise); the
update goes to the running bridge's queue (404 when the bridge is not running)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from telegram import Update

from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.web.deps import SettingsDep

router = APIRouter()


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def webhook(request: Request, settings: SettingsDep) -> Response:
    secret = settings.telegram_webhook_secret.get_secret_value().encode("utf-8")
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
    if not secret or not hmac.compare_digest(given, secret):
        return Response(status_code=403)
    application = getattr(request.app.state, "telegram_app", None)
    if application is None:
        return Response(status_code=404)
    try:
        data = await request.json()
        update = Update.de_json(data, application.bot)
    except Exception:
        return Response(status_code=400)
    if update is None:
        return Response(status_code=400)
    await application.update_queue.put(update)
    return Response(status_code=200)
