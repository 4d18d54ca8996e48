"""Start the Rasa server without a secret on the command line.

    .venv-rasa/bin/python -m rasa_addons.serve -i 127.0.0.1 -p 5005 --model models \
        --endpoints endpoints.yml --credentials credentials.yml

The arguments are those of ``rasa run`` (``--enable-api`` is added); the API token comes from
``BOT_RASA_TOKEN`` in the environment and is handed to Rasa inside this process, so it never shows
in ``/proc/<pid>/cmdline`` or ``ps``. Files Rasa creates (the tracker store) are private to the
owner (umask 077). Refuses to start without the token, or when one is passed on the command line.
"""

from __future__ import annotations

import os
import sys

from rasa_addons.secrets import ACTION_SECRET_ENV, RASA_SECRET_ENV, MissingSecret, secret_from_env

FORBIDDEN_ARGS = ("--auth-token", "--jwt-secret")


def rasa_argv(args: list[str], token: str) -> list[str]:
    """The ``rasa`` argument vector for ``rasa run`` with ``args`` and the token."""
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in FORBIDDEN_ARGS:
            raise SystemExit(f"{name}: secrets come from the environment, not the command line")
    extra = [] if "--enable-api" in args else ["--enable-api"]
    return ["rasa", "run", *extra, *args, "--auth-token", token]


def main(args: list[str] | None = None) -> None:
    os.umask(0o077)
    try:
        token = secret_from_env(RASA_SECRET_ENV)
        secret_from_env(ACTION_SECRET_ENV)  # endpoints.yml sends it to the action server
    except MissingSecret as exc:
        raise SystemExit(str(exc)) from None
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # sys.argv is this process's own copy: /proc/<pid>/cmdline still shows the launcher's arguments
    sys.argv = rasa_argv(list(sys.argv[1:] if args is None else args), token)
    project_root = os.getcwd()
    if project_root not in sys.path:
        sys.path.insert(1, project_root)

    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
