#!/usr/bin/env bash
# `make bench`: every benchmark of issue 9 in one run, on loopback, with its own ports and a
# scratch directory, side by side with the peers it is compared to:
#   - OPC UA: `castellan serve` and node-opcua's server (tests/ua/interop/ua_peer.mjs server)
#     under the same `castellan bench opcua` load, one after the other; BENCH_EXTRA_URL adds a
#     row for any other server (BENCH_EXTRA_PID for its CPU and memory, BENCH_EXTRA_NAME).
#   - AccessTokens: RequestAccessToken over OPC UA, the domain decision alone, token_verifier,
#     and the OpenSSL ECDSA P-256 floor measured in the same run (Google Benchmark and
#     `openssl speed`).
#   - Device registry: admission and search at growing N, automatic registrations, on SQLite and
#     on a throwaway PostgreSQL cluster (tests/support/pg_cluster.sh).
# Writes bench/results/latest.md (tables and the machine) and bench/results/latest.png.
#
# Sizes (environment): BENCH_QUICK=1 is a smoke run of about two minutes. Otherwise
#   BENCH_UA_SECONDS (20) BENCH_UA_CLIENTS (4) BENCH_IDLE_SESSIONS (4000; node-opcua: at most 500,
#   BENCH_NODE_IDLE_SESSIONS) BENCH_TOKEN_SECONDS (20)
#   BENCH_REGISTRY_SIZES (10000,100000,1000000) BENCH_SIGNUPS (3000) BENCH_PG (1; 0 skips PostgreSQL)
#   BENCH_PG_SIZES (the same as BENCH_REGISTRY_SIZES) BENCH_OUT (bench/results) BUILD_DIR (build)
# It measures; it asserts nothing. It fails only when a piece cannot run at all.
set -uo pipefail
ROOT=$(cd "$(dirname "$(realpath "$0")")/.." && pwd)
BUILD=$(realpath "${BUILD_DIR:-$ROOT/build}")
C=$BUILD/castellan
OUT=${BENCH_OUT:-$ROOT/bench/results}
PEER=$ROOT/tests/ua/interop/ua_peer.mjs
source "$ROOT/tests/support/harness.sh"
source "$ROOT/tests/support/pg_cluster.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  d_ua_seconds=4 d_idle=200 d_token_seconds=4 d_sizes=1000,10000 d_signups=400 d_min_time=0.1
else
  d_ua_seconds=20 d_idle=4000 d_token_seconds=20 d_sizes=10000,100000,1000000 d_signups=3000 d_min_time=1
fi
UA_SECONDS=${BENCH_UA_SECONDS:-$d_ua_seconds}
UA_CLIENTS=${BENCH_UA_CLIENTS:-4}
IDLE=${BENCH_IDLE_SESSIONS:-$d_idle}
# node-opcua opens sessions ~5x slower and holds each in ~0.5 MiB: fewer suffice for its slope.
NODE_IDLE=${BENCH_NODE_IDLE_SESSIONS:-$(( IDLE < 500 ? IDLE : 500 ))}
TOKEN_SECONDS=${BENCH_TOKEN_SECONDS:-$d_token_seconds}
SIZES=${BENCH_REGISTRY_SIZES:-$d_sizes}
PG_SIZES=${BENCH_PG_SIZES:-$SIZES}
SIGNUPS=${BENCH_SIGNUPS:-$d_signups}
MIN_TIME=${BENCH_MIN_TIME:-$d_min_time}

for tool in "$C" "$BUILD/bench/castellan_bench_authz" "$BUILD/bench/castellan_bench_registry"; do
  [ -x "$tool" ] || { echo "bench: $tool is missing (make build)" >&2; exit 1; }
done
for cmd in jq node gnuplot openssl; do
  command -v $cmd >/dev/null || { echo "bench: $cmd is missing (make deps)" >&2; exit 1; }
done
[ -d "$ROOT/tests/ua/interop/node_modules/node-opcua-server" ] || { echo "bench: node-opcua missing (make deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/castellan-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
mkdir -p "$OUT"
log() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
declare -A load_at
LOAD_BEFORE=$(loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---- OPC UA: castellan ------------------------------------------------------------------------
password="bench password $$"
"$C" --data-dir d init >/dev/null || { echo "bench: castellan init failed" >&2; exit 1; }
"$C" --data-dir d user add alice --password "$password" --role Operator >/dev/null || exit 1
"$C" --data-dir d authz rule add Operator --criteria UserName:alice >/dev/null || exit 1
ua_port=$(free_port)
ua_url="opc.tcp://127.0.0.1:$ua_port"
"$C" --data-dir d --set ua.listen=127.0.0.1:$ua_port --set ua.allow_anonymous=true --set admin.listen=off \
  --set device.mtls_listen=off --set log.level=warn serve >castellan.log 2>&1 &
castellan_pid=$!
pids+=($castellan_pid)
for _ in $(seq 100); do "$C" --data-dir d ua endpoints --url "$ua_url" >/dev/null 2>&1 && break; sleep 0.2; done
"$C" --data-dir d ua endpoints --url "$ua_url" >/dev/null 2>&1 || { echo "bench: castellan did not start" >&2; cat castellan.log >&2; exit 1; }

# bench_ua NAME URL PID IDLE [extra flags…]: one `castellan bench opcua` run → ua-NAME.json
bench_ua() {
  local name=$1 url=$2 pid=$3 idle=$4
  shift 4
  load_at[$name]=$(loadavg)
  log "OPC UA: $name ($UA_CLIENTS clients, ${UA_SECONDS}s, $idle idle sessions)"
  "$C" --json --data-dir d bench opcua --url "$url" --clients "$UA_CLIENTS" --seconds "$UA_SECONDS" \
    ${pid:+--server-pid "$pid"} --idle-sessions "$idle" "$@" >"ua-$name.json" 2>"ua-$name.err" \
    || log "OPC UA: $name reported errors: $(head -c 300 "ua-$name.err") $(jq -r '.first_error // empty' "ua-$name.json" 2>/dev/null)"
}
bench_ua castellan "$ua_url" "$castellan_pid" "$IDLE"

# AccessTokens over OPC UA: implicit use by the session's user (UserName login, Argon2id once per
# session), RequestAccessToken in a loop over 2 SignAndEncrypt sessions.
load_at[token]=$(loadavg)
log "AccessTokens over OPC UA (${TOKEN_SECONDS}s)"
"$C" --json --data-dir d bench opcua --url "$ua_url" --clients 2 --seconds "$TOKEN_SECONDS" --server-pid "$castellan_pid" \
  --operation token --user alice --password "$password" >ua-token.json 2>ua-token.err \
  || log "tokens reported errors: $(head -c 300 ua-token.err)"
kill "$castellan_pid" 2>/dev/null
wait "$castellan_pid" 2>/dev/null

# ---- OPC UA: node-opcua's server, the same load -------------------------------------------------
node_port=$(free_port)
node "$PEER" server --port "$node_port" --pki "$work/pki-node" >node-server.log 2>&1 &
node_pid=$!
pids+=($node_pid)
for _ in $(seq 150); do grep -q READY node-server.log && break; sleep 0.2; done
if grep -q READY node-server.log; then
  bench_ua node-opcua "opc.tcp://127.0.0.1:$node_port" "$node_pid" "$NODE_IDLE" --no-trust
else
  log "node-opcua's server did not start: $(tail -3 node-server.log)"
fi
kill "$node_pid" 2>/dev/null
wait "$node_pid" 2>/dev/null
NODE_OPCUA_VERSION=$(jq -r .version "$ROOT/tests/ua/interop/node_modules/node-opcua-server/package.json")

if [ -n "${BENCH_EXTRA_URL:-}" ]; then
  bench_ua extra "$BENCH_EXTRA_URL" "${BENCH_EXTRA_PID:-}" "$NODE_IDLE" --no-trust
fi

# ---- AccessTokens: the domain, the verifier and the OpenSSL floor -------------------------------
load_at[authz]=$(loadavg)
log "AccessTokens: castellan_bench_authz and openssl speed"
"$BUILD/bench/castellan_bench_authz" --benchmark_filter='ECDSA|ES256' --benchmark_min_time="$MIN_TIME" \
  --benchmark_format=json >authz.json 2>authz.err || log "castellan_bench_authz failed: $(tail -3 authz.err)"
openssl speed -seconds "$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)" ecdsap256 >openssl-speed.txt 2>/dev/null
# "256 bits ecdsa (nistp256)   0.0000s   0.0001s  63000.0  21000.0" → signs/s verifies/s
read -r OPENSSL_SIGNS OPENSSL_VERIFIES < <(awk '/ecdsa \(nistp256\)/ {print $(NF-1), $NF}' openssl-speed.txt | tail -1)

# ---- Device registry: SQLite, then PostgreSQL ------------------------------------------------------
registry_tsv() {  # Markdown rows of castellan_bench_registry → n cached50 cached99 cold50 cold99 search50 search99 autoreg
  grep -E '^\| [0-9]' "$1" | tr -d '|' | sed 's#/# #g' | awk '{print $1, $2, $3, $4, $5, $6, $7, $8}'
}
load_at[sqlite]=$(loadavg)
log "registry on SQLite: sizes $SIZES, $SIGNUPS sign-ups"
"$BUILD/bench/castellan_bench_registry" --sizes "$SIZES" --signups "$SIGNUPS" >registry-sqlite.md 2>registry-sqlite.err \
  || log "registry on SQLite failed: $(tail -3 registry-sqlite.err)"
registry_tsv registry-sqlite.md >registry-sqlite.dat
PG_NOTE=""
if [ "${BENCH_PG:-1}" = 1 ] && pg_available; then
  if pg_start; then
    load_at[postgresql]=$(loadavg)
    PG_VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')
    log "registry on PostgreSQL $PG_VERSION: sizes $PG_SIZES"
    "$BUILD/bench/castellan_bench_registry" --sizes "$PG_SIZES" --signups "$SIGNUPS" --store "$PG_URL" \
      >registry-pg.md 2>registry-pg.err || log "registry on PostgreSQL failed: $(tail -3 registry-pg.err)"
    registry_tsv registry-pg.md >registry-pg.dat
    pg_stop
  else
    PG_NOTE="PostgreSQL did not start; no PostgreSQL rows."
  fi
else
  PG_NOTE="PostgreSQL skipped (BENCH_PG=0 or no server binaries)."
fi
touch registry-pg.dat
LOAD_AFTER=$(loadavg)

# ---- Report ----------------------------------------------------------------------------------------
log "writing $OUT/latest.md and $OUT/latest.png"
j() { jq -r "$1 // empty" "$2" 2>/dev/null; }
fmt() {  # fmt NUMBER [DECIMALS]: with thousands separators, or – when there is none
  [ -n "$1" ] || { printf '–'; return; }
  awk -v x="$1" -v d="${2:-0}" 'BEGIN { s = sprintf("%." d "f", x); i = index(s, "."); w = i ? substr(s, 1, i - 1) : s
    f = i ? substr(s, i) : ""; neg = w ~ /^-/; if (neg) w = substr(w, 2)
    while (length(w) > 3) { f = "," substr(w, length(w) - 2) f; w = substr(w, 1, length(w) - 3) }
    printf "%s%s%s", neg ? "-" : "", w, f }'
}
bm() {  # bm NAME: Google Benchmark cpu_time of NAME in µs
  jq -r --arg n "$1" '.benchmarks[] | select(.name == $n) | (.cpu_time * (if .time_unit == "ns" then 0.001 elif .time_unit == "ms" then 1000 else 1 end))' authz.json 2>/dev/null | head -1
}
ua_row() {  # ua_row LABEL FILE
  local f=$2
  [ -s "$f" ] || { echo "| $1 | did not run | | | | | |"; return; }
  local cpu_connect cpu_read kib
  cpu_connect=$(j .server_cpu_ms_per_connect "$f"); cpu_read=$(j .server_cpu_us_per_read "$f")
  kib=$(j .server_rss_kib_per_idle_session "$f")
  echo "| $1 | $(fmt "$(j .connects_per_second "$f")") | $(fmt "$cpu_connect" 2) ms | $(fmt "$(j .reads_per_second "$f")") |" \
       "$(fmt "$(j .read_us_p50 "$f")") µs / $(fmt "$(j .read_us_p99 "$f")") µs | $(fmt "$cpu_read" 1) µs |" \
       "$(fmt "$kib" 1) KiB ($(fmt "$(j .idle_sessions_opened "$f")") held) |"
}
reg_rows() {  # reg_rows STORE FILE: the store named on its first row only
  local label=$1
  while read -r n c50 c99 k50 k99 s50 s99 ar; do
    echo "| $label | $(fmt "$n") | $c50 / $c99 | $k50 / $k99 | $s50 / $s99 | $(fmt "$ar") |"
    label=""
  done <"$2"
}

cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
sign_floor=$(bm BM_OpenSSL_ECDSA_P256_Sign)
verify_floor=$(bm BM_OpenSSL_ECDSA_P256_Verify)
issue_domain=$(bm BM_RequestAccessToken_ES256)
verify_token=$(bm BM_VerifyToken_ES256)
tok=ua-token.json
{
  echo "# castellan benchmarks — latest run"
  echo
  echo "Written by \`make bench\` (bench/run_bench.sh)$([ "${BENCH_QUICK:-0}" = 1 ] && echo ', **BENCH_QUICK=1: a smoke run, small sizes and short durations**')."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| date | $STARTED |"
  echo "| CPU | $cpu_model, $(nproc) cores |"
  echo "| RAM | $mem_gib GiB |"
  echo "| kernel | $(uname -r) |"
  echo "| OpenSSL | $(openssl version -v | awk '{print $2}') |"
  echo "| load average before / after (1, 5, 15 min) | $LOAD_BEFORE / $LOAD_AFTER |"
  echo
  echo "Client and server share the machine; other work on it (load average above) inflates CPU"
  echo "per operation and tails."
  echo
  echo "## OPC UA server"
  echo
  echo "\`castellan bench opcua --clients $UA_CLIENTS --seconds $UA_SECONDS --idle-sessions $IDLE\`: Basic256Sha256"
  echo "SignAndEncrypt, anonymous; half the time full connects (OpenSecureChannel, CreateSession,"
  echo "ActivateSession, CloseSession; the endpoints are fetched once before, as clients keep them),"
  echo "half Reads of CurrentTime over one session per client; then idle sessions, each on its own"
  echo "channel. Server CPU and memory from /proc."
  echo
  echo "| server | connects/s | server CPU per connect | Reads/s | Read p50 / p99 | server CPU per Read | memory per idle session |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  ua_row "castellan (load ${load_at[castellan]})" ua-castellan.json
  ua_row "node-opcua $NODE_OPCUA_VERSION (load ${load_at[node-opcua]:-–})" ua-node-opcua.json
  [ -n "${BENCH_EXTRA_URL:-}" ] && ua_row "${BENCH_EXTRA_NAME:-$BENCH_EXTRA_URL} (load ${load_at[extra]})" ua-extra.json
  for f in ua-castellan.json ua-node-opcua.json ua-extra.json; do
    e=$(j .first_error "$f"); [ -n "$e" ] && echo && echo "${f%.json}: first error: \`$e\`"
  done
  echo
  echo "## AccessTokens (ES256)"
  echo
  echo "| what | rate | CPU per operation |"
  echo "| --- | ---: | ---: |"
  echo "| OpenSSL ECDSA P-256 sign, \`openssl speed\` (one core) | $(fmt "$OPENSSL_SIGNS")/s | $( [ -n "${OPENSSL_SIGNS:-}" ] && fmt "$(awk -v r="$OPENSSL_SIGNS" 'BEGIN {print 1e6 / r}')" 1) µs |"
  echo "| OpenSSL ECDSA P-256 sign, EVP (castellan_bench_authz) | | $(fmt "$sign_floor" 1) µs |"
  echo "| RequestAccessToken, domain only (rules, claims, JWS, audit record) | | $(fmt "$issue_domain" 1) µs |"
  echo "| RequestAccessToken over OPC UA, 2 SignAndEncrypt sessions (p50 $(fmt "$(j .read_us_p50 $tok)") µs, p99 $(fmt "$(j .read_us_p99 $tok)") µs; load ${load_at[token]}) | $(fmt "$(j .reads_per_second $tok)")/s | $(fmt "$(j .server_cpu_us_per_read $tok)" 1) µs server CPU |"
  echo "| UserName login (Argon2id, by design) per connect | $(fmt "$(j .connects_per_second $tok)" 1)/s | $(fmt "$(j .server_cpu_ms_per_connect $tok)" 1) ms server CPU |"
  echo "| OpenSSL ECDSA P-256 verify, \`openssl speed\` / EVP | $(fmt "$OPENSSL_VERIFIES")/s | $( [ -n "${OPENSSL_VERIFIES:-}" ] && fmt "$(awk -v r="$OPENSSL_VERIFIES" 'BEGIN {print 1e6 / r}')" 1) µs / $(fmt "$verify_floor" 1) µs |"
  echo "| \`castellan::token_verifier::verify\` | | $(fmt "$verify_token" 1) µs |"
  e=$(j .first_error $tok); [ -n "$e" ] && echo && echo "tokens: first error: \`$e\`"
  echo
  echo "## Device registry"
  echo
  echo "\`castellan_bench_registry --sizes $SIZES --signups $SIGNUPS\`: 200 real EC P-256 device certificates"
  echo "among N registered rows; admission in-process; \"after a change\" = the device was deactivated and"
  echo "activated just before; a search page = 50 rows under ten filters; sign-up limit lifted."
  echo "SQLite: WAL in a scratch directory. PostgreSQL${PG_VERSION:+ $PG_VERSION}: a throwaway cluster on loopback. $PG_NOTE"
  echo
  echo "| store | registered | admit, cached p50 / p99 (µs) | admit, after a change p50 / p99 (µs) | search page p50 / p99 (ms) | auto-registrations/s |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  reg_rows "SQLite (load ${load_at[sqlite]})" registry-sqlite.dat
  reg_rows "PostgreSQL (load ${load_at[postgresql]:-–})" registry-pg.dat
  echo
  echo "![chart](latest.png)"
} >"$OUT/latest.md"

# ---- Chart ---------------------------------------------------------------------------------------
ua_dat() {  # label cpu/connect µs, cpu/Read µs, KiB/session, connects/s, Reads/s
  local f=$2
  [ -s "$f" ] || return
  echo "\"$1\" $(jq -r '[(.server_cpu_ms_per_connect // 0) * 1000, .server_cpu_us_per_read // 0, .server_rss_kib_per_idle_session // 0, .connects_per_second // 0, .reads_per_second // 0] | map(tostring) | join(" ")' "$f")"
}
{
  ua_dat castellan ua-castellan.json
  ua_dat "node-opcua" ua-node-opcua.json
  [ -n "${BENCH_EXTRA_URL:-}" ] && ua_dat "${BENCH_EXTRA_NAME:-extra}" ua-extra.json
} >ua.dat
# Transposed for clustered bars: a header of server names, then one row per metric.
transpose() {  # transpose FIRST_COLUMN LAST_COLUMN LABELS…
  awk -v a="$1" -v b="$2" -v labels="$3" '
    { name[NR] = $1; for (i = a; i <= b; i++) v[NR, i] = $i; n = NR }
    END { line = "metric"; for (r = 1; r <= n; r++) line = line " " name[r]; print line
          split(labels, m, ",")
          for (i = a; i <= b; i++) { line = "\"" m[i - a + 1] "\""; for (r = 1; r <= n; r++) line = line " " (v[r, i] > 0 ? v[r, i] : 0.001); print line } }' ua.dat
}
transpose 2 4 "CPU/connect (µs),CPU/Read (µs),KiB/idle session" >ua-cost.dat
transpose 5 6 "connects/s,Reads/s" >ua-rate.dat
ua_cols=$(wc -l <ua.dat)
has_pg=$([ -s registry-pg.dat ] && echo 1 || echo 0)
gnuplot <<GNUPLOT 2>gnuplot.err || log "gnuplot failed: $(head -3 gnuplot.err)"
set terminal pngcairo size 1400,1000 font ",11"
set output "$OUT/latest.png"
set multiplot layout 2,2 title "castellan benchmarks — $STARTED — $(nproc) cores, load $LOAD_BEFORE → $LOAD_AFTER"
set logscale xy
set grid
set key below
set format x "10^{%L}"
set xlabel "registered certificates"
set ylabel "µs"
set title "Registry admission (in-process) vs N"
plot "registry-sqlite.dat" u 1:3 w lp lw 2 pt 7 lc 1 t "SQLite cached p99", \
     "registry-sqlite.dat" u 1:4 w lp lw 2 pt 5 lc 2 t "SQLite after a change p50", \
     $( [ "$has_pg" = 1 ] && echo '"registry-pg.dat" u 1:3 w lp lw 2 dt 2 pt 6 lc 1 t "PostgreSQL cached p99", "registry-pg.dat" u 1:4 w lp lw 2 dt 2 pt 4 lc 2 t "PostgreSQL after a change p50"' || echo '1/0 notitle')
set ylabel "ms (search), registrations/s"
set title "Search page p50 (ms) and auto-registrations/s vs N"
plot "registry-sqlite.dat" u 1:6 w lp lw 2 pt 7 lc 3 t "SQLite search p50 (ms)", \
     "registry-sqlite.dat" u 1:8 w lp lw 2 pt 5 lc 4 t "SQLite auto-registrations/s", \
     $( [ "$has_pg" = 1 ] && echo '"registry-pg.dat" u 1:6 w lp lw 2 dt 2 pt 6 lc 3 t "PostgreSQL search p50 (ms)", "registry-pg.dat" u 1:8 w lp lw 2 dt 2 pt 4 lc 4 t "PostgreSQL auto-registrations/s"' || echo '1/0 notitle')
unset logscale x
unset format x
unset xlabel
set logscale y
set yrange [0.5:*]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top right
set ylabel "log scale"
set title "OPC UA server: cost (lower is better)"
plot for [c=2:$((ua_cols + 1))] "ua-cost.dat" u c:xtic(1) t columnheader(c)
set title "OPC UA server: throughput (higher is better)"
plot for [c=2:$((ua_cols + 1))] "ua-rate.dat" u c:xtic(1) t columnheader(c)
unset multiplot
GNUPLOT
# The raw measurements beside the report, for rechecking a number or redrawing the chart.
mkdir -p "$OUT/raw"
cp ua-*.json authz.json openssl-speed.txt registry-*.md registry-*.err registry-*.dat ua.dat "$OUT/raw/" 2>/dev/null
log "done: load average $LOAD_BEFORE → $LOAD_AFTER"
cat "$OUT/latest.md"
