"""The shared secrets between the app, Rasa and the action server (standard library only).

Every secret comes from the environment (``.env``, loaded by the process supervisor), never from a
command line. Calls carry it in the ``X-Assistant-Secret`` header; it is compared in constant time.
"""

from __future__ import annotations

import hmac
import os

SECRET_HEADER = "X-Assistant-Secret"  # noqa: S105 - a header name
# app -> Rasa: the Rasa HTTP API token doubles as the REST channel's secret (only the app holds it)
RASA_SECRET_ENV = "BOT_RASA_TOKEN"  # noqa: S105 - a variable name
# Rasa -> action server (endpoints.yml sends it as a header)
ACTION_SECRET_ENV = "BOT_ACTION_SERVER_TOKEN"  # noqa: S105 - a variable name


class MissingSecret(RuntimeError):
    """A process that must check a secret was started without one: refuse to run open."""


def secret_from_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSecret(f"{name} is not set: run `python -m bot init-env` and load .env")
    return value


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret never matches."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
