#!/usr/bin/env bash
# A local PostgreSQL for the tests of the DATABASE_URL path: installs Debian's server when it is
# missing, starts the cluster, and makes a superuser role for the tests (each test file then
# creates and drops its own database). Prints the admin connection string on stdout.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "pocketenv: installing PostgreSQL for the tests…" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true # "already running" is fine
for _ in $(seq 1 50); do
  su postgres -c "pg_isready -q" && break
  sleep 0.2
done
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'pocketenv_test'\"" | grep -q 1 ||
  su postgres -c "psql -q -c \"CREATE ROLE pocketenv_test LOGIN SUPERUSER PASSWORD 'pocketenv_test'\"" >&2
echo "postgres://pocketenv_test:pocketenv_test@127.0.0.1:5432/postgres"
