#!/usr/bin/env bash
# Source this file to get a throwaway PostgreSQL on 127.0.0.1 for the test suite:
#   source scripts/pg-throwaway.sh   ->  exports TEST_POSTGRES_URL, stops and deletes it on exit.
# The server comes from Debian's binaries (/usr/lib/postgresql/<ver>/bin) when present, otherwise
# from the pinned pgserver wheel from PyPI (its wheel carries the PostgreSQL binaries), installed
# once into var/tools/. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
# system user (Debian's package creates it) or `nobody`. PG_THROWAWAY_WHEEL=1 uses the wheel even
# where Debian's binaries exist.
PGSERVER_PIN="pgserver==0.1.4"

_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ "${PG_THROWAWAY_WHEEL:-0}" != 1 ] && [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  d="$PWD/var/tools/pgserver/pgserver/pginstall/bin"
  if [ ! -x "$d/initdb" ]; then
    echo "==> no PostgreSQL binaries from Debian; installing $PGSERVER_PIN into var/tools/" >&2
    .venv/bin/python -m pip install -q --no-deps --target "$PWD/var/tools/pgserver" "$PGSERVER_PIN" >&2 || return 1
  fi
  echo "$d"
}

_pg_free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_pg_start() {
  local bindir run_as=() port
  bindir=$(_pg_bindir) || { echo "ERROR: no PostgreSQL binaries could be found or installed" >&2; return 1; }
  PG_THROWAWAY_DIR=$(mktemp -d /tmp/pg-test.XXXXXX)
  chmod 0755 "$PG_THROWAWAY_DIR"
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_THROWAWAY_DIR"
    run_as=(runuser -u "$user" --)
  fi
  port=$(_pg_free_port)
  "${run_as[@]}" "$bindir/initdb" -D "$PG_THROWAWAY_DIR/data" -U assistant_test -A trust -E UTF8 \
    --no-locale >"$PG_THROWAWAY_DIR/initdb.log" 2>&1 || { cat "$PG_THROWAWAY_DIR/initdb.log" >&2; return 1; }
  "${run_as[@]}" "$bindir/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -l "$PG_THROWAWAY_DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $PG_THROWAWAY_DIR -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$PG_THROWAWAY_DIR/server.log" >&2; return 1; }
  "${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U assistant_test assistant_test
  PG_THROWAWAY_STOP=("${run_as[@]}" "$bindir/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m fast -w stop)
  export TEST_POSTGRES_URL="postgresql://assistant_test@127.0.0.1:$port/assistant_test"
  echo "==> throwaway PostgreSQL ($bindir) on 127.0.0.1:$port for the tests"
}

_pg_stop() {
  if [ -n "${PG_THROWAWAY_DIR:-}" ]; then
    "${PG_THROWAWAY_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_THROWAWAY_DIR"
  fi
}

_pg_start && trap _pg_stop EXIT
