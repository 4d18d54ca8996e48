"""The action server, locked to Rasa: ``python -m actions.server [--port 5055]``.

rasa_sdk's own server (``python -m rasa_sdk``) runs every action for anyone who can reach the
port. This launcher builds the same Sanic app (``rasa_sdk.endpoint.create_app``) and adds a request
middleware that refuses (403) every call without the ``X-Assistant-Secret`` header holding
``BOT_ACTION_SERVER_TOKEN`` (from the environment; Rasa sends it, endpoints.yml), except
``/health``. It listens on ``SANIC_HOST`` (default 127.0.0.1), one worker, no CORS, and its files
are private to the owner (umask 077). It refuses to start without the secret.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response

from rasa_addons import secrets

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/health"})


def build_app(secret: str, actions: str = "actions") -> Sanic:
    app = create_app(actions, cors_origins=[])

    @app.middleware("request")
    async def require_secret(request: Any) -> Any:
        if request.path in OPEN_PATHS:
            return None
        if not secrets.secret_matches(request.headers.get(secrets.SECRET_HEADER), secret):
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the action server, refusing calls without the secret")
    parser.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        secret = secrets.secret_from_env(secrets.ACTION_SECRET_ENV)
    except secrets.MissingSecret as exc:
        raise SystemExit(str(exc)) from None
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = build_app(secret, args.actions)
    if args.actions == "actions":
        from actions.knowledge import warm_up

        warm_up()  # the knowledge index (~1 s) is built before the first customer asks
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    log.info("action server on http://%s:%s (calls need %s)", host, args.port, secrets.SECRET_HEADER)
    app.run(host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
