#!/usr/bin/env bash
# Start the local PostgreSQL cluster on loopback and make sure the test role and
# database exist. Idempotent. The URL the tests use is DIXIAN_TEST_PG_URL.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "postgres: not root, assuming a server is already reachable at \$DIXIAN_TEST_PG_URL"
  exit 0
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  pg_createcluster "$version" main >/dev/null
fi
cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
if ! pg_lsclusters -h | head -1 | grep -q online; then
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='dixian'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE dixian LOGIN PASSWORD 'dixian' CREATEDB CREATEROLE\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='dixian_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE DATABASE dixian_test OWNER dixian\""
echo "postgres: ready on 127.0.0.1 (database dixian_test)"
