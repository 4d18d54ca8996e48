"""HTTP client for the Rasa server: the REST channel, trigger_intent and tracker reads.

Every channel reaches Rasa through this client with a sender id that names the channel:
``telegram:<chat_id>``, ``web:<session>``, ``hotline:<call_id>``.

Rasa answers only the app: every call carries ``BOT_RASA_TOKEN`` in the ``X-Assistant-Secret``
header (the REST channel, ``rasa_addons.channels``, refuses calls without it) and as the HTTP
API's ``token`` parameter.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings, get_settings

SECRET_HEADER = "X-Assistant-Secret"  # noqa: S105 - a header name (rasa_addons.secrets)


class RasaUnavailable(Exception):
    """The Rasa server (or the action server behind it) did not answer."""


class RasaClient:
    def __init__(self, settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings or get_settings()
        token = self.settings.rasa_token.get_secret_value()
        self._client = httpx.AsyncClient(
            base_url=self.settings.rasa_url,
            timeout=self.settings.rasa_timeout_seconds,
            transport=transport,
            headers={SECRET_HEADER: token} if token else {},
        )

    @property
    def _token_params(self) -> dict[str, str]:
        token = self.settings.rasa_token.get_secret_value()
        return {"token": token} if token else {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_message(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Send a customer's message through the REST channel; returns the bot's messages."""
        body: dict[str, Any] = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            resp = await self._client.post("/webhooks/rest/webhook", json=body)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        data = resp.json()
        return data if isinstance(data, list) else []

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Bot-initiated message: run an ``EXTERNAL_*`` intent; returns the rendered messages."""
        body = {"name": intent, "entities": entities or {}}
        try:
            resp = await self._client.post(
                f"/conversations/{sender_id}/trigger_intent",
                json=body,
                params={**self._token_params, "include_events": "NONE"},
            )
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        return list(resp.json().get("messages") or [])

    async def tracker(self, sender_id: str, include_events: str = "ALL") -> dict[str, Any]:
        try:
            resp = await self._client.get(
                f"/conversations/{sender_id}/tracker",
                params={**self._token_params, "include_events": include_events},
            )
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        data: dict[str, Any] = resp.json()
        return data

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        try:
            resp = await self._client.post(
                f"/conversations/{sender_id}/tracker/events", json=events, params=self._token_params
            )
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc

    async def status(self) -> dict[str, Any]:
        try:
            resp = await self._client.get("/status", params=self._token_params)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        data: dict[str, Any] = resp.json()
        return data
