#!/usr/bin/env bash
# `make run`: set up and start everything on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
export RASA_TELEMETRY_ENABLED=false  # no usage reports leave this machine
umask 077  # .env, the databases, uploads and logs: readable by their owner only

bash scripts/setup-envs.sh
.venv/bin/python -m bot init-env          # .env with generated local secrets (never committed)
set -a; . ./.env; set +a
mkdir -p var
.venv/bin/python -m bot migrate           # also makes var/, the databases and uploads owner-only
export BOT_DEMO_MODE=true; .venv/bin/python -m bot seed  # demo mode for this local try: demo staff logins (published password); seeds only an empty database
bash scripts/train-if-changed.sh

cat <<MSG

==================================================================
 保险客服助手 is starting (Ctrl-C stops every process)
   web chat        http://${BOT_APP_HOST}:${BOT_APP_PORT}/chat
   agent console   http://${BOT_APP_HOST}:${BOT_APP_PORT}/agent
   ticket desk     http://${BOT_APP_HOST}:${BOT_APP_PORT}/desk
   API docs        http://${BOT_APP_HOST}:${BOT_APP_PORT}/docs
   health          http://${BOT_APP_HOST}:${BOT_APP_PORT}/healthz
   Rasa (loopback) ${BOT_RASA_URL}   actions (loopback) ${BOT_ACTION_SERVER_URL}
MSG
.venv/bin/python -m bot demo-info || true
echo "=================================================================="
exec .venv/bin/honcho -f Procfile -e .env start
