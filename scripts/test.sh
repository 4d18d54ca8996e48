#!/usr/bin/env bash
# `make test`: the whole suite. pytest (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set),
# then the Rasa checks: `rasa data validate` and the test stories with --fail-on-prediction-errors.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
export RASA_TELEMETRY_ENABLED=false  # no usage reports leave this machine
bash scripts/setup-envs.sh

echo "==> rasa data validate"
.venv-rasa/bin/python scripts/validate_data.py

bash scripts/train-if-changed.sh

echo "==> rasa test (test stories, fail on prediction errors)"
rm -rf results/stories
.venv-rasa/bin/rasa test core --model models --stories tests/stories --out results/stories \
  --fail-on-prediction-errors --quiet

echo "==> pytest"
.venv/bin/python -m pytest "$@"
