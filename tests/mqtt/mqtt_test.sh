#!/usr/bin/env bash
# A real Mosquitto broker (TLS, require_certificate) with castellan's plugin, and real
# mosquitto_pub / mosquitto_sub clients with certificates made here. Everything runs on
# loopback in a scratch directory and is stopped on exit.
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
PLUGIN=$(realpath "$2")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${failed:-0}" -ne 0 ]; then
    echo "--- mosquitto.log"; tail -40 "$work/mosquitto.log" 2>/dev/null
    echo "--- castellan.log"; tail -20 "$work/castellan.log" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# castellan: data directory, built-in CA (registered in the device registry by ca create)
"$C" init --data-dir d >/dev/null || { echo "init failed"; exit 1; }
"$C" --data-dir d ca create --cn "Fleet CA" >/dev/null
issue() { "$C" --data-dir d cert issue --cn "$1" --out "$2" >/dev/null; }
# a second CA the broker's TLS accepts but castellan does not know
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -out other-ca.pem -days 30 \
  -subj "/CN=Unknown CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key.pem -subj "/CN=stranger" -out stranger.csr 2>/dev/null
openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 30 -out stranger.pem 2>/dev/null
# the broker's own server certificate
openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.pem -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
cat d/ca/ca.pem other-ca.pem > client-cas.pem

"$C" --data-dir d --set device.mtls_listen=off --set admin.listen=off --set ua.listen=off serve > castellan.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S d/run/device-admission.sock ] && break; sleep 0.1; done
[ -S d/run/device-admission.sock ] && ok || { bad "castellan's admission socket did not appear"; exit 1; }

port=$(free_port)
cat > mosquitto.conf <<CONF
per_listener_settings false
user $(id -un)
allow_anonymous false
listener $port 127.0.0.1
cafile $work/client-cas.pem
certfile $work/server.pem
keyfile $work/server.key
require_certificate true
use_identity_as_username false
plugin $PLUGIN
plugin_opt_socket $work/d/run/device-admission.sock
plugin_opt_check_ms 300
log_dest file $work/mosquitto.log
log_type all
persistence false
CONF
# Under tests/sanitizers/run_integration.sh the plugin is sanitized: the broker loads the runtime first.
env ${CASTELLAN_TEST_PRELOAD:+LD_PRELOAD=$CASTELLAN_TEST_PRELOAD} mosquitto -c mosquitto.conf &
pids+=($!)
for _ in $(seq 50); do grep -q "castellan: admission by" mosquitto.log 2>/dev/null && nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.1; done
grep -q "castellan: admission by" mosquitto.log && ok || bad "mosquitto did not load the plugin"

pub() {  # pub CERT_PREFIX [client id] → exit status of one publish
  local id=${2:-}
  local args=(-h localhost -p "$port" --cafile server.pem --cert "$1.pem" --key "$1.key.pem" -t fleet/test -m hello -q 1)
  [ -n "$id" ] && args+=(-i "$id")
  timeout 10 mosquitto_pub "${args[@]}" 2>>pub-errors.log
}
registered_total() { "$C" --data-dir d device list --json | grep -o '"total": [0-9]*' | grep -o '[0-9]*$'; }

# 1. registered CA → registered on first connect and admitted
issue SN0001 dev1
pub dev1 dev1 && ok || bad "a device of a registered CA is admitted"
[ "$(registered_total)" = 1 ] && ok || bad "and registered automatically"
"$C" --data-dir d device show "$(thumb dev1.pem)" | grep -q "registration: auto" && ok || bad "registration is marked auto"
pub dev1 dev1 && ok || bad "the same device again"
[ "$(registered_total)" = 1 ] && ok || bad "never registered twice"

# 2. unknown CA → refused at the broker
cp stranger.key.pem stranger.key.pem.bak
pub stranger stranger && bad "a device of an unknown CA was admitted" || ok
grep -q "refused stranger.*its CA is not registered" mosquitto.log && ok || bad "the broker log says why"

# 3. client ID falls back to the CN; a duplicate client ID is refused
issue pump dev-pump
pub dev-pump "" && ok || bad "no client ID presented: admitted under its CN"
"$C" --data-dir d device list --client-id pump --json | grep -q '"total": 1' && ok || bad "the CN is the client ID"
issue pump dev-pump-twin
pub dev-pump-twin "" && bad "a second certificate claiming client ID 'pump' was admitted" || ok
pub dev-pump-twin dev1 && bad "a certificate presenting another device's client ID was admitted" || ok

# 4. revoke → the live subscriber is dropped, the next connection refused
issue SN0002 dev2
timeout 30 mosquitto_sub -h localhost -p "$port" --cafile server.pem --cert dev2.pem --key dev2.key.pem -t fleet/# -i sub2 \
  > sub2.out 2> sub2.err &
sub=$!
pids+=($sub)
for _ in $(seq 50); do grep -q "admitted sub2" mosquitto.log && break; sleep 0.1; done
grep -q "admitted sub2" mosquitto.log && ok || bad "the subscriber connected"
revoked_at=$(date +%s%N)
"$C" --data-dir d device revoke "$(thumb dev2.pem)" >/dev/null
for _ in $(seq 100); do kill -0 "$sub" 2>/dev/null || break; grep -q "closing sub2" mosquitto.log && break; sleep 0.05; done
closed_at=$(date +%s%N)
grep -q "closing sub2: BadCertificateRevoked" mosquitto.log && ok || bad "the live subscriber was closed"
echo "revocation enforced on the live connection after $(( (closed_at - revoked_at) / 1000000 )) ms"
[ $(( (closed_at - revoked_at) / 1000000 )) -lt 3000 ] && ok || bad "closed within a few seconds"
pub dev2 sub2 && bad "a revoked certificate connected again" || ok
grep -q "refused sub2.*BadCertificateRevoked" mosquitto.log && ok || bad "the refusal names BadCertificateRevoked"

# 5. a burst of 50 sign-ups: about 15 in the first second, the rest later on retry, none lost
for i in $(seq -w 1 50); do issue "burst$i" "b$i"; done
before=$(registered_total)
start=$(date +%s%N)
for i in $(seq -w 1 50); do (pub "b$i" "burst$i" && touch "in-$i") & done
wait_pids=$(jobs -p); for p in $wait_pids; do case " ${pids[*]} " in *" $p "*) ;; *) wait "$p" 2>/dev/null;; esac; done
first=$(ls in-* 2>/dev/null | wc -l)
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "burst: $first of 50 admitted in the first wave (${elapsed} ms)"
[ "$first" -ge 10 ] && [ "$first" -le 35 ] && ok || bad "first wave admitted $first, expected about 15 per second"
grep -q "sign-up rate limit" mosquitto.log && ok || bad "the excess was refused as quota exceeded"
for round in $(seq 10); do
  missing=0
  for i in $(seq -w 1 50); do
    [ -f "in-$i" ] && continue
    if pub "b$i" "burst$i"; then touch "in-$i"; else missing=$((missing + 1)); fi
  done
  [ "$missing" -eq 0 ] && break
  sleep 1
done
[ "$(ls in-* | wc -l)" = 50 ] && ok || bad "every device got in on retry"
[ "$(registered_total)" = $((before + 50)) ] && ok || bad "all 50 registered, none lost, none twice"

# 6. castellan unreachable → new connections refused (fail closed)
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
sleep 1
pub dev1 dev1 && bad "admitted while castellan was down" || ok
grep -q "fail closed" mosquitto.log && ok || bad "the broker log says it failed closed"

summary mqtt
