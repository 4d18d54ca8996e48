"""The customer-facing REST channel, locked to the app.

Rasa's ``RestInput`` accepts a message for any sender from anyone who can reach the port; this
subclass refuses (403) every call to ``/webhooks/rest/webhook`` without the ``X-Assistant-Secret``
header holding ``BOT_RASA_TOKEN`` (read from the environment when Rasa starts; Rasa refuses to
start without it). The channel keeps the name ``rest``, so the URL does not change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from rasa_addons.secrets import RASA_SECRET_ENV, SECRET_HEADER, secret_from_env, secret_matches


class SecretRestInput(RestInput):
    """``RestInput`` that only answers callers holding the shared secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecretRestInput:
        env_name = str((credentials or {}).get("secret_env") or RASA_SECRET_ENV)
        return cls(secret_from_env(env_name))

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The app's message metadata (only the app holds the secret): the ``client`` the identity
        check counts wrong tries by (web: the visitor's address). Other keys are dropped."""
        metadata = (request.json or {}).get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("client"), str):
            return {"client": metadata["client"][:200]}
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)

        @bp.middleware("request")
        async def require_secret(request: Request) -> response.HTTPResponse | None:
            if request.method == "GET" and request.path.rstrip("/").endswith("/webhooks/rest"):
                return None  # the channel's health route says nothing about anyone
            if not secret_matches(request.headers.get(SECRET_HEADER), self.secret):
                return response.json({"error": "forbidden"}, status=403)
            return None

        return bp
