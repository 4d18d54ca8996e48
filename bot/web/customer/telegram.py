"""``/telegram/webhook``: Telegram's deliveries in webhook mode (``bot.channels.telegram``).

The ``X-Telegram-Bot-Api-Secret-Token`` header is compared in constant time (403 otherwise). The
update is stored and committed (``telegram_updates``) before Telegram gets its 200, and the
bridge's inbox worker handles it: an update accepted just before a restart is handled after it.
404 when the bridge is not running, 500 when the update could not be stored (Telegram retries)."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response

from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, Inbox
from bot.web.deps import SettingsDep

router = APIRouter()
log = logging.getLogger(__name__)


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def webhook(request: Request, settings: SettingsDep) -> Response:
    secret = settings.telegram_webhook_secret.get_secret_value().encode("utf-8")
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
    if not secret or not hmac.compare_digest(given, secret):
        return Response(status_code=403)
    application = getattr(request.app.state, "telegram_app", None)
    inbox: Inbox | None = application.bot_data.get("inbox") if application is not None else None
    if inbox is None:
        return Response(status_code=404)
    try:
        data = await request.json()
        update_id = int(data["update_id"])
    except Exception:
        return Response(status_code=400)
    if not isinstance(data, dict):
        return Response(status_code=400)
    try:
        await inbox.store(update_id, data)  # False: a retry of a stored update, nothing to do
    except Exception:
        log.exception("telegram update %s could not be stored", update_id)
        return Response(status_code=500)
    return Response(status_code=200)
