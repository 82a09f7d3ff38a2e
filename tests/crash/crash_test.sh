#!/usr/bin/env bash
# Crash safety: devices register over mTLS and an administrator changes statuses while the
# server is killed with SIGKILL. After the restart every acknowledged registration and status
# change is there, each with its audit record, and the database passes its integrity check.
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

"$C" init --data-dir d >/dev/null
"$C" --data-dir d ca create --cn "Fleet CA" >/dev/null
# Device certificates made with openssl from the built-in CA (faster than one CLI run each).
n=120
for i in $(seq -f "%03g" 1 $n); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "k$i.pem" -subj "/CN=crash$i" -out "r$i.csr" 2>/dev/null
  openssl x509 -req -in "r$i.csr" -CA d/ca/ca.pem -CAkey d/ca/private/ca.key.pem -CAcreateserial -days 30 -out "c$i.pem" \
    -extfile <(printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n") 2>/dev/null
done
# A first half registered by hand: the administrator deactivates them during the burst.
for i in $(seq -f "%03g" 1 20); do "$C" --data-dir d device register "c$i.pem" >/dev/null || bad "register c$i"; done

port=$(free_port)
start_server() {
  "$C" --data-dir d --set registry.signup_rate=0 --set device.mtls_listen=127.0.0.1:$port --set admin.listen=off --set ua.listen=off serve >> castellan.log 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "device mTLS endpoint" castellan.log && return 0; sleep 0.05; done
  return 1
}
start_server && ok || { bad "server did not start"; exit 1; }

mkdir acks
for i in $(seq -f "%03g" 21 $n); do
  ( code=$(curl -s -o "acks/body-$i" -w '%{http_code}' --max-time 10 --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1" \
        --cert "c$i.pem" --key "k$i.pem" "https://localhost:$port/device/v1/whoami")
    [ "$code" = 200 ] && grep -q '"registered":true' "acks/body-$i" && touch "acks/registered-$i" ) &
done
for i in $(seq -f "%03g" 1 20); do
  ( "$C" --data-dir d device deactivate "$(thumb "c$i.pem")" >/dev/null 2>&1 && touch "acks/deactivated-$i" ) &
done
sleep 0.4
kill -9 "$server"
wait "$server" 2>/dev/null
server=""
wait
registered=$(ls acks | grep -c '^registered-' || true)
deactivated=$(ls acks | grep -c '^deactivated-' || true)
echo "acknowledged before the kill: $registered registrations, $deactivated deactivations"

# After the crash: the store is sound and holds everything acknowledged.
"$C" --data-dir d store check >/dev/null && ok || bad "integrity check after kill -9"
missing=0
for f in acks/registered-*; do
  [ -e "$f" ] || continue
  i=${f##*-}
  "$C" --data-dir d device show "$(thumb "c$i.pem")" >/dev/null 2>&1 || missing=$((missing + 1))
done
[ "$missing" = 0 ] && ok || bad "$missing acknowledged registrations are missing"
wrong=0
for f in acks/deactivated-*; do
  [ -e "$f" ] || continue
  i=${f##*-}
  "$C" --data-dir d device show "$(thumb "c$i.pem")" | grep -q "status: not-activated" || wrong=$((wrong + 1))
done
[ "$wrong" = 0 ] && ok || bad "$wrong acknowledged deactivations are missing"
# Nothing half-written: every registration has its audit record, every status change too.
auto_rows=$("$C" --data-dir d device list --json --limit 1000 | grep -c '"registration": "auto"')
auto_audits=$("$C" --data-dir d audit --action registry.device.auto_register --limit 10000 --json | grep -c '"action"')
[ "$auto_rows" = "$auto_audits" ] && ok || bad "$auto_rows automatic registrations but $auto_audits audit records"
inactive_rows=$("$C" --data-dir d device list --status not-activated --json --limit 1000 | grep -c '"id"')
deactivate_audits=$("$C" --data-dir d audit --action registry.device.deactivate --limit 10000 --json | grep -c '"action"')
[ "$inactive_rows" = "$deactivate_audits" ] && ok || bad "$inactive_rows deactivated devices but $deactivate_audits audit records"

# And the server comes back and serves.
: > castellan.log  # the stale admission socket left by the killed server must be taken over
start_server && ok || bad "the server restarts after kill -9 (stale socket handled)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1" \
  --cert "c$n.pem" --key "k$n.pem" "https://localhost:$port/device/v1/whoami")
[ "$code" = 200 ] && ok || bad "a device is admitted after the restart (HTTP $code)"

summary crash
