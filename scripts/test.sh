#!/usr/bin/env bash
# `make test`: the whole suite: the Rasa checks (`rasa data validate`, the test stories with
# --fail-on-prediction-errors), then pytest on SQLite and PostgreSQL. Without TEST_POSTGRES_URL a
# throwaway PostgreSQL is started for the run (scripts/pg-throwaway.sh), so nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
export RASA_TELEMETRY_ENABLED=false  # no usage reports leave this machine
bash scripts/setup-envs.sh

echo "==> knowledge base"; .venv/bin/python scripts/validate_knowledge.py
echo "==> rasa data validate"
.venv-rasa/bin/python scripts/validate_data.py

bash scripts/train-if-changed.sh

echo "==> rasa test (test stories, fail on prediction errors)"
rm -rf results/stories
.venv-rasa/bin/rasa test core --model models --stories tests/stories --out results/stories \
  --fail-on-prediction-errors --quiet

if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  # shellcheck source=scripts/pg-throwaway.sh
  source scripts/pg-throwaway.sh
fi

echo "==> pytest"
.venv/bin/python -m pytest "$@"
