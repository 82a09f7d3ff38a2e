#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: CASTELLAN_TEST_PG_URL names its
# database. Skips (exit 77) with a clear message only when the PostgreSQL binaries are absent.
set -uo pipefail
here="$(dirname "$(realpath "$0")")"
source "$here/../support/harness.sh"
source "$here/../support/pg_cluster.sh"
if ! pg_available; then
  echo "SKIP: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (make deps installs the postgresql package)"
  exit 77
fi
trap pg_stop EXIT
pg_start || { echo "FAIL: could not start a PostgreSQL cluster"; exit 1; }
CASTELLAN_TEST_PG_URL="$PG_URL" "$@"
