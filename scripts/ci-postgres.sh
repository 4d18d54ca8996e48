#!/usr/bin/env bash
# Start the Debian PostgreSQL cluster on 127.0.0.1 and create the test role and database.
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  pg_lsclusters -h | grep -q . || pg_createcluster "$ver" main
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'assistant_test') THEN
    CREATE ROLE assistant_test LOGIN PASSWORD 'assistant_test';
  END IF;
END $$;
SQL
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='assistant_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O assistant_test assistant_test"
echo "==> PostgreSQL $ver is up on 127.0.0.1:5432 (database assistant_test)"
