#!/usr/bin/env bash
# Create or update the two Python 3.10 environments:
#   .venv-rasa  rasa==3.6.21 and jieba, nothing else (requirements/rasa.lock)
#   .venv       this project with its dev tools (pyproject.toml, pinned by requirements/app.lock)
# An environment is rebuilt only when its lock (or pyproject.toml) changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidates=()
  [ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
  command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
  if command -v pyenv >/dev/null 2>&1; then
    for p in "$(pyenv root)"/versions/3.10.*/bin/python3.10; do [ -x "$p" ] && candidates+=("$p"); done
  fi
  for p in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
    [ -x "$p" ] && candidates+=("$p")
  done
  for p in "${candidates[@]}"; do
    if "$p" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

PY=$(find_python310) || {
  echo "ERROR: Python 3.10 was not found." >&2
  echo "Rasa 3.6 supports Python 3.8-3.10 only, and both environments use 3.10." >&2
  echo "Install it (e.g. 'pyenv install 3.10' or Debian's python3.10 and python3.10-venv)," >&2
  echo "or point PYTHON310 at its interpreter, then run this again." >&2
  exit 1
}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

ensure_venv() {  # dir
  if [ ! -x "$1/bin/python" ] || ! "$1/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
    rm -rf "$1"
    echo "==> creating $1 with $PY"
    "$PY" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade "pip<25" wheel
  fi
}

# Rasa environment.
want=$(stamp_of requirements/rasa.lock)
if [ "$(cat .venv-rasa/.lock-stamp 2>/dev/null)" != "$want" ]; then
  ensure_venv .venv-rasa
  echo "==> installing Rasa 3.6 into .venv-rasa (first time: a few minutes)"
  .venv-rasa/bin/pip install -q -r requirements/rasa.lock
  echo "$want" > .venv-rasa/.lock-stamp
fi

# App environment.
want=$(stamp_of requirements/app.lock pyproject.toml)
if [ "$(cat .venv/.lock-stamp 2>/dev/null)" != "$want" ]; then
  ensure_venv .venv
  echo "==> installing the app into .venv"
  .venv/bin/pip install -q -c requirements/app.lock -e ".[dev]"
  echo "$want" > .venv/.lock-stamp
fi
