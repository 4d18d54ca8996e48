"""``/healthz``: the database, the Rasa server and the action server."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.web.deps import SettingsDep, TransactionsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Health of the app and the processes behind it")
async def healthz(settings: SettingsDep, tx: TransactionsDep) -> JSONResponse:
    checks: dict[str, Any] = {}

    def ping() -> None:
        with tx() as session:
            session.execute(text("SELECT 1"))

    try:
        await anyio.to_thread.run_sync(ping)  # off the event loop: a locked database stalls this check only
        checks["database"] = {"ok": True}
    except Exception as exc:  # report, never raise
        checks["database"] = {"ok": False, "error": type(exc).__name__}

    async with httpx.AsyncClient(timeout=3.0) as client:
        try:
            token = settings.rasa_token.get_secret_value()
            resp = await client.get(f"{settings.rasa_url}/status", params={"token": token} if token else {})
            body = resp.json() if resp.status_code == 200 else {}
            model_ok = bool(body.get("model_file"))
            checks["rasa"] = {"ok": resp.status_code == 200 and model_ok, "model": body.get("model_file")}
        except (httpx.HTTPError, ValueError) as exc:
            checks["rasa"] = {"ok": False, "error": type(exc).__name__}
        try:
            resp = await client.get(f"{settings.action_server_url}/health")
            checks["action_server"] = {"ok": resp.status_code == 200}
        except httpx.HTTPError as exc:
            checks["action_server"] = {"ok": False, "error": type(exc).__name__}

    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503
    )
