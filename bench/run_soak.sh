#!/usr/bin/env bash
# `make soak`: castellan under churn for a bounded time, its memory and file descriptors watched.
# Not part of `make test` or CI. On loopback, in a scratch directory, everything stopped on exit:
#   - OPC UA: a standing population of SOAK_STANDING sessions (Basic256Sha256 SignAndEncrypt, each
#     on its own channel, a Read every 10 s keeps them alive) held for the whole run, and
#     `castellan bench opcua` rounds churning beside it: full connects closed again, then Reads
#     over sessions closed at the end of each round (a fresh client certificate per round).
#   - MQTT: a real Mosquitto with the castellan plugin (TLS, client certificates, as tests/mqtt),
#     SOAK_SUBSCRIBERS mosquitto_sub clients held open and SOAK_MQTT_LOOPS loops of mosquitto_pub
#     connections over SOAK_DEVICES device certificates (the first connect of each registers it).
#   - Every SOAK_SAMPLE_SECONDS: castellan's RSS, open fds and threads (/proc/PID) → soak.csv.
# Fails (exit 1) when castellan dies, when after the warm-up its RSS grows by more than
# max(SOAK_RSS_TOLERANCE_PCT %, SOAK_RSS_TOLERANCE_MIB) or its fds by more than
# max(10 %, SOAK_FD_TOLERANCE) (mean of the last quarter of the samples against the first
# quarter), or when the fds do not fall back to within SOAK_FD_TOLERANCE of the count before the
# load once every client is gone. Writes bench/results/soak.md and soak.csv.
set -uo pipefail
ROOT=$(cd "$(dirname "$(realpath "$0")")/.." && pwd)
BUILD=$(realpath "${BUILD_DIR:-$ROOT/build}")
C=$BUILD/castellan
PLUGIN=$BUILD/castellan_mosquitto.so
OUT=${BENCH_OUT:-$ROOT/bench/results}
source "$ROOT/tests/support/harness.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE_SECONDS:-5}
WARMUP=${SOAK_WARMUP_SECONDS:-$(( SECONDS_TOTAL / 4 < 150 ? SECONDS_TOTAL / 4 : 150 ))}
STANDING=${SOAK_STANDING:-1000}
UA_CLIENTS=${SOAK_UA_CLIENTS:-4}
ROUND_SECONDS=${SOAK_ROUND_SECONDS:-10}
SUBSCRIBERS=${SOAK_SUBSCRIBERS:-20}
MQTT_LOOPS=${SOAK_MQTT_LOOPS:-3}
DEVICES=${SOAK_DEVICES:-60}
RSS_TOL_PCT=${SOAK_RSS_TOLERANCE_PCT:-15}
RSS_TOL_MIB=${SOAK_RSS_TOLERANCE_MIB:-32}
FD_TOL=${SOAK_FD_TOLERANCE:-32}

[ -x "$C" ] || { echo "soak: $C is missing (make build)" >&2; exit 1; }
[ -f "$PLUGIN" ] || { echo "soak: $PLUGIN is missing (cmake --build build --target castellan_mosquitto)" >&2; exit 1; }
for cmd in mosquitto mosquitto_pub mosquitto_sub openssl jq node nc; do
  command -v $cmd >/dev/null || { echo "soak: $cmd is missing (make deps)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/castellan-soak.XXXXXX)
pids=()
held=()
loops=()
cleanup() {
  for p in "${loops[@]}" "${held[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"
mkdir -p "$OUT"
log() { echo "soak: $(date -u +%H:%M:%S) $*" >&2; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---- castellan, certificates, Mosquitto -----------------------------------------------------------
"$C" init --data-dir d >/dev/null || { echo "soak: castellan init failed" >&2; exit 1; }
"$C" --data-dir d ca create --cn "Soak CA" >/dev/null || exit 1
log "issuing $DEVICES device certificates"
for i in $(seq 1 "$DEVICES"); do
  "$C" --data-dir d cert issue --cn "soak-$i" --out "dev$i" >/dev/null || { echo "soak: cert issue failed" >&2; exit 1; }
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.pem -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

ua_port=$(free_port)
ua_url="opc.tcp://127.0.0.1:$ua_port"
"$C" --data-dir d --set ua.listen=127.0.0.1:$ua_port --set ua.allow_anonymous=true --set admin.listen=off \
  --set device.mtls_listen=off --set log.level=warn serve >castellan.log 2>&1 &
cpid=$!
pids+=($cpid)
for _ in $(seq 100); do
  [ -S d/run/device-admission.sock ] && "$C" --data-dir d ua endpoints --url "$ua_url" >/dev/null 2>&1 && break
  sleep 0.2
done
[ -S d/run/device-admission.sock ] || { echo "soak: castellan did not start" >&2; cat castellan.log >&2; exit 1; }

mqtt_port=$(free_port)
cat >mosquitto.conf <<CONF
per_listener_settings false
user $(id -un)
allow_anonymous false
listener $mqtt_port 127.0.0.1
cafile d/ca/ca.pem
certfile server.pem
keyfile server.key
require_certificate true
use_identity_as_username false
plugin $PLUGIN
plugin_opt_socket $work/d/run/device-admission.sock
plugin_opt_check_ms 1000
log_dest file $work/mosquitto.log
log_type error
log_type warning
persistence false
max_connections -1
CONF
mosquitto -c mosquitto.conf &
pids+=($!)
for _ in $(seq 50); do nc -z 127.0.0.1 "$mqtt_port" 2>/dev/null && break; sleep 0.1; done
nc -z 127.0.0.1 "$mqtt_port" || { echo "soak: mosquitto did not start" >&2; cat mosquitto.log >&2; exit 1; }

sample() {  # rss_kib fds threads of castellan, or nothing when it is gone
  [ -r /proc/$cpid/status ] || return 1
  local rss threads fds
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$cpid/status)
  threads=$(awk '/^Threads:/ {print $2}' /proc/$cpid/status)
  fds=$(ls /proc/$cpid/fd 2>/dev/null | wc -l)
  echo "$rss $fds $threads"
}
read -r RSS0 FD0 THREADS0 < <(sample)
log "castellan $cpid up: RSS $RSS0 KiB, $FD0 fds, $THREADS0 threads; load for ${SECONDS_TOTAL}s (warm-up ${WARMUP}s)"

# ---- the load -----------------------------------------------------------------------------------------
echo "seconds,rss_kib,fds,threads,mqtt_connects,opcua_churn_rounds" >soak.csv
t0=$(date +%s)
record() {  # one sample → soak.csv; fails when castellan is gone
  local s mqtt rounds
  s=$(sample) || return 1
  mqtt=$(cat pub-*.log 2>/dev/null | grep -c ok)
  rounds=$(ls churn-*.json 2>/dev/null | wc -l)
  echo "$(( $(date +%s) - t0 )),${s// /,},$mqtt,$rounds" >>soak.csv
}
# The standing OPC UA population first: each session has its own channel, so castellan's fd count
# says when it is up. It is held SOAK_SECONDS (+5 s) from then, and the churn runs beside it.
"$C" --json --data-dir d bench opcua --url "$ua_url" --clients 1 --seconds 2 --idle-sessions "$STANDING" \
  --hold-seconds $(( SECONDS_TOTAL + 5 )) >standing.json 2>standing.err &
held=($!)
died=""
for _ in $(seq 600); do
  sleep 1
  read -r _ fds _ < <(sample) || { died="castellan (pid $cpid) died while the standing population opened"; break; }
  [ "$fds" -ge $(( FD0 + STANDING * 95 / 100 )) ] && break
  kill -0 "${held[0]}" 2>/dev/null || break
  [ $(( ($(date +%s) - t0) % SAMPLE )) -eq 0 ] && record
done
log "standing population up after $(( $(date +%s) - t0 )) s ($(sample | cut -d' ' -f2) fds)"
UP_AT=$(( $(date +%s) - t0 ))
deadline=$(( $(date +%s) + SECONDS_TOTAL ))
# OPC UA churn: rounds of connects closed again, then Reads over sessions closed after the round.
(
  n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$((n + 1))
    left=$(( deadline - $(date +%s) ))
    [ "$left" -lt 2 ] && break
    "$C" --json --data-dir d bench opcua --url "$ua_url" --clients "$UA_CLIENTS" \
      --seconds $(( left < ROUND_SECONDS ? left : ROUND_SECONDS )) >"churn-$n.json" 2>>churn.err
  done
) &
loops=($!)
# MQTT: subscribers held open, publishers connecting in loops (each loop its own devices).
for s in $(seq 1 "$SUBSCRIBERS"); do
  i=$(( (s - 1) % DEVICES + 1 ))
  mosquitto_sub -h localhost -p "$mqtt_port" --cafile server.pem --cert "dev$i.pem" --key "dev$i.key.pem" \
    -i "soak-$i" -t "soak/$s/#" -q 1 >/dev/null 2>>sub.err &
  held+=($!)
  sleep 0.1  # 10 first connects a second: under the sign-up limit (15/s), so none is refused
done
for l in $(seq 1 "$MQTT_LOOPS"); do
  (
    k=0
    while [ "$(date +%s)" -lt "$deadline" ]; do
      # the devices above the subscribers' ones, a separate share for each loop
      per=$(( (DEVICES - SUBSCRIBERS) / MQTT_LOOPS ))
      i=$(( SUBSCRIBERS + 1 + (l - 1) * per + k % per ))
      k=$((k + 1))
      if timeout 10 mosquitto_pub -h localhost -p "$mqtt_port" --cafile server.pem --cert "dev$i.pem" --key "dev$i.key.pem" \
        -i "soak-$i" -t "soak/pub/$i" -m "round $k" -q 1 2>>"pub-$l.err"; then
        echo ok
      else
        echo refused
      fi
    done >"pub-$l.log"
  ) &
  loops+=($!)
done

# ---- sampling -------------------------------------------------------------------------------------------
while [ -z "$died" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep "$SAMPLE"
  [ "$(date +%s)" -lt "$deadline" ] || break  # samples are taken under load only
  record || died="castellan (pid $cpid) died at $(( $(date +%s) - t0 )) s"
done
log "load over; stopping the clients"
subscribers_left=0
for p in "${held[@]:1}"; do kill -0 "$p" 2>/dev/null && subscribers_left=$((subscribers_left + 1)); done
# The loops end by themselves at the deadline (a publish gives up after 10 s), the standing
# population 5 s later with its report; the subscribers are stopped here.
for p in "${held[@]:1}"; do kill "$p" 2>/dev/null; done
for p in "${loops[@]}" "${held[@]:1}"; do wait "$p" 2>/dev/null; done
for _ in $(seq 60); do kill -0 "${held[0]}" 2>/dev/null || break; sleep 1; done
kill "${held[0]}" 2>/dev/null
wait "${held[0]}" 2>/dev/null
sleep 10
final=$(sample) || died=${died:-"castellan (pid $cpid) died after the load"}
read -r RSS_END FD_END THREADS_END <<<"${final:-0 0 0}"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- verdict ----------------------------------------------------------------------------------------------
mqtt_ok=$(cat pub-*.log 2>/dev/null | grep -c ok)
mqtt_refused=$(cat pub-*.log 2>/dev/null | grep -c refused)
churn_connects=$(cat churn-*.json 2>/dev/null | jq -s '[.[].connects // 0] | add // 0')
churn_reads=$(cat churn-*.json 2>/dev/null | jq -s '[.[].reads // 0] | add // 0')
churn_errors=$(cat churn-*.json 2>/dev/null | jq -s '[.[] | (.connect_errors // 0) + (.read_errors // 0)] | add // 0')
rounds=$(ls churn-*.json 2>/dev/null | wc -l)
standing_opened=$(jq -r '.idle_sessions_opened // "?"' standing.json 2>/dev/null)
standing_errors=$(jq -r '.idle_read_errors // "?"' standing.json 2>/dev/null)
[ -s standing.json ] || standing_opened="(held until stopped; $(grep -c . standing.err 2>/dev/null) error lines)"
registered=$("$C" --data-dir d device list --json 2>/dev/null | jq -r '.total // "?"')

# Mean RSS and fds over the first and last quarter of the samples after the warm-up.
read -r n_after rss_first rss_last fd_first fd_last < <(awk -F, -v w="$(( UP_AT + WARMUP ))" 'NR > 1 && $1 >= w { r[++n] = $2; f[n] = $3 }
  END { q = int(n / 4); if (q < 1) { print n, 0, 0, 0, 0; exit }
        for (i = 1; i <= q; i++) { ra += r[i]; fa += f[i]; rb += r[n - q + i]; fb += f[n - q + i] }
        printf "%d %.0f %.0f %.1f %.1f\n", n, ra / q, rb / q, fa / q, fb / q }' soak.csv)
verdict=PASS
reasons=()
[ -n "$died" ] && { verdict=FAIL; reasons+=("$died"); }
if [ "${n_after:-0}" -lt 4 ]; then
  verdict=FAIL; reasons+=("too few samples after the warm-up ($n_after): run longer or sample more often")
else
  rss_allow=$(awk -v a="$rss_first" -v p="$RSS_TOL_PCT" -v m="$RSS_TOL_MIB" 'BEGIN { x = a * p / 100; y = m * 1024; printf "%.0f", (x > y ? x : y) }')
  fd_allow=$(awk -v a="$fd_first" -v t="$FD_TOL" 'BEGIN { x = a / 10; printf "%.0f", (x > t ? x : t) }')
  awk -v a="$rss_first" -v b="$rss_last" -v d="$rss_allow" 'BEGIN { exit !(b - a > d) }' && { verdict=FAIL; reasons+=("RSS grew from $rss_first to $rss_last KiB (allowed +$rss_allow KiB)"); }
  awk -v a="$fd_first" -v b="$fd_last" -v d="$fd_allow" 'BEGIN { exit !(b - a > d) }' && { verdict=FAIL; reasons+=("fds grew from $fd_first to $fd_last (allowed +$fd_allow)"); }
fi
[ "$subscribers_left" -lt "$SUBSCRIBERS" ] && { verdict=FAIL; reasons+=("$(( SUBSCRIBERS - subscribers_left )) MQTT subscribers were dropped"); }
[ -n "$final" ] && [ "$FD_END" -gt $(( FD0 + FD_TOL )) ] && { verdict=FAIL; reasons+=("$FD_END fds open once every client was gone, $FD0 before the load (allowed +$FD_TOL)"); }

{
  echo "# castellan soak — latest run"
  echo
  echo "Written by \`make soak\` (bench/run_soak.sh). **$verdict**${reasons:+: ${reasons[*]}}"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $STARTED, ${SECONDS_TOTAL} s of load once the standing population was up (${UP_AT} s to open it; warm-up: the first ${WARMUP} s of load), a sample every ${SAMPLE} s |"
  echo "| machine | $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB, kernel $(uname -r) |"
  echo "| load average before / after | $LOAD_BEFORE / $LOAD_AFTER (the machine is shared with other work) |"
  echo "| OPC UA standing population | $STANDING sessions asked, $standing_opened opened and held, $standing_errors keep-alive Read errors |"
  echo "| OPC UA churn | $rounds rounds of $UA_CLIENTS clients: $churn_connects full connects closed again, $churn_reads Reads, $churn_errors errors |"
  echo "| MQTT | $SUBSCRIBERS subscribers ($subscribers_left still connected at the end), $MQTT_LOOPS publisher loops: $mqtt_ok connections admitted, $mqtt_refused refused; $registered devices registered |"
  echo "| castellan before the load | RSS $RSS0 KiB, $FD0 fds, $THREADS0 threads |"
  echo "| after the warm-up, first → last quarter (means) | RSS $rss_first → $rss_last KiB (allowed +${rss_allow:-?} KiB), fds $fd_first → $fd_last (allowed +${fd_allow:-?}) |"
  echo "| 10 s after every client stopped | RSS $RSS_END KiB, $FD_END fds (allowed ≤ $(( FD0 + FD_TOL ))), $THREADS_END threads |"
  echo
  echo "Series (every sample in soak.csv):"
  echo
  echo "| s | RSS (KiB) | fds | threads | MQTT connects | churn rounds |"
  echo "|---:|---:|---:|---:|---:|---:|"
  total=$(( $(wc -l <soak.csv) - 1 ))
  step=$(( total > 30 ? (total + 29) / 30 : 1 ))
  awk -F, -v s="$step" -v n="$total" 'NR > 1 && ((NR - 2) % s == 0 || NR - 1 == n) { printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' soak.csv
} >"$OUT/soak.md"
cp soak.csv "$OUT/soak.csv"
[ -s churn.err ] && log "churn errors (first lines): $(head -c 300 churn.err)"
cat "$OUT/soak.md"
[ "$verdict" = PASS ]
