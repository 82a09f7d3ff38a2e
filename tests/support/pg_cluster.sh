# A throwaway PostgreSQL cluster for the tests: Debian's own binaries, its own data directory,
# socket directory and loopback port, removed by pg_stop. Source it (after harness.sh); it
# defines functions only.
#
#   pg_available          true when initdb and pg_ctl are installed (make deps installs them)
#   pg_start              makes and starts the cluster; sets PG_DIR, PG_PORT, PG_URL (role
#                         castellan, password auth over TCP) and PG_SOCKET
#   pg_sql SQL            runs SQL as the superuser over the socket
#   pg_restart            restarts the server (every connection drops)
#   pg_stop               stops it at once and removes every file
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_PASSWORD="castellan-test-$$-secret"

pg_available() { [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }

# PostgreSQL refuses to run as root: as root, run it as the postgres user the package made.
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/castellan-pg.XXXXXX)
  chmod 0755 "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  PG_SOCKET="$PG_DIR/sock"
  as_pg mkdir -p "$PG_SOCKET"
  PG_PORT=$(free_port)
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
    > "$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
  pg_sql "CREATE ROLE castellan LOGIN PASSWORD '$PG_PASSWORD'" > /dev/null || return 1
  pg_sql "CREATE DATABASE castellan OWNER castellan" > /dev/null || return 1
  PG_URL="postgresql://castellan:$PG_PASSWORD@127.0.0.1:$PG_PORT/castellan"
}

pg_sql() { as_pg "$PG_BIN/psql" -X -q -A -t -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "${PG_DB:-postgres}" -v ON_ERROR_STOP=1 -c "$1"; }

pg_restart() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -m fast \
    -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=200" restart > /dev/null
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  [ -d "$PG_DIR/data" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop > /dev/null 2>&1
  rm -rf "$PG_DIR"
  PG_DIR=""
}
