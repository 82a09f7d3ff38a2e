#!/usr/bin/env bash
# Two castellan nodes on one PostgreSQL server, as an operator runs them: a throwaway cluster
# (Debian's binaries; own port, socket and data directory, all removed at exit), two
# `castellan serve` processes with their own data directories and loopback ports.
#   1. A change made through node A's admin API is enforced at node B's edges within 100 ms:
#      approving a rejected certificate (B's /api/v1/trust/verify), activating a device that
#      waited for approval and revoking one (B's device mTLS endpoint).
#   2. Node B keeps enforcing after the PostgreSQL server restarts (its listener reconnects).
#   3. kill -9 of node A in the middle of a burst of registrations on it: every acknowledged
#      registration is there, each with its audit record naming node A.
#   4. `castellan store copy` from a populated SQLite data directory: the same listings
#      through the API of a node serving the copy.
# Skips (exit 77) only when the PostgreSQL binaries are absent.
set -uo pipefail
here="$(dirname "$(realpath "$0")")"
source "$here/../support/harness.sh"
source "$here/../support/pg_cluster.sh"
C=$(realpath "$1")
if ! pg_available; then
  echo "SKIP: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (make deps installs the postgresql package)"
  exit 77
fi
work=$(mktemp -d)
node_a="" node_b="" node_c=""
cleanup() {
  for p in $node_a $node_b $node_c; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${failed:-0}" -ne 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
  fi
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
pg_start || { bad "could not start a PostgreSQL cluster"; exit 1; }

export CASTELLAN_ADMIN_PASSWORD="admin-pw-$$"
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Node A is initialised with --store; node B takes the URL from the environment.
"$C" init --data-dir a --store "$PG_URL" > init-a.txt || { bad "init node A"; exit 1; }
CASTELLAN_STORE_LOCATION="$PG_URL" "$C" init --data-dir b > init-b.txt || { bad "init node B"; exit 1; }
grep -q "$PG_PASSWORD" init-a.txt init-b.txt && bad "init printed the store password" || ok
"$C" --data-dir a --store "$PG_URL" ca create --cn "Fleet CA" > /dev/null || bad "ca create"

start_node() {  # start_node NAME DATA_DIR → sets the pid variable node_NAME, ports in NAME_admin / NAME_mtls
  local name=$1 dir=$2 admin mtls ua
  admin=$(free_port); mtls=$(free_port); ua=$(free_port)
  "$C" --data-dir "$dir" --store "$PG_URL" --set server.node_name="node-$name" --set admin.listen=127.0.0.1:$admin \
    --set device.mtls_listen=127.0.0.1:$mtls --set ua.listen=127.0.0.1:$ua --set ua.allow_anonymous=true \
    --set registry.signup_rate=0 serve >> "$name.log" 2>&1 &
  eval "node_$name=$!"
  eval "${name}_admin=$admin; ${name}_mtls=$mtls; ${name}_ua=$ua"
  for _ in $(seq 200); do
    grep -q "admin HTTPS API" "$name.log" && grep -q "device mTLS endpoint" "$name.log" && grep -q "OPC UA server" "$name.log" && return 0
    sleep 0.05
  done
  return 1
}
start_node a a && ok || { bad "node A did not start"; exit 1; }
# The AuthorizationService's signing key and certificate are files of the data directory of the
# node that created them (A, on its first start); every node that issues tokens needs them.
[ -d a/authz ] && cp -a a/authz b/
start_node b b && ok || { bad "node B did not start"; exit 1; }
grep -q "$PG_PASSWORD" a.log b.log && bad "a node logged the store password" || ok
grep -q "castellan:\*\*\*@" a.log && ok || bad "the log names the store, password redacted"

# api NODE METHOD PATH [curl args…] → HTTP status; body in api.json
api() {
  local node=$1 method=$2 path=$3 port
  shift 3
  port=$(eval echo "\$${node}_admin")
  curl -s -o api.json -w '%{http_code}' --max-time 10 -k -u "admin:$CASTELLAN_ADMIN_PASSWORD" -X "$method" "$@" \
    "https://127.0.0.1:$port$path"
}
# device NODE CERT_PREFIX → HTTP status of whoami on the node's mTLS endpoint; body in dev.json
device() {
  local port
  port=$(eval echo "\$${1}_mtls")
  curl -s -o dev.json -w '%{http_code}' --max-time 10 -k --cert "$2.pem" --key "$2.key.pem" "https://127.0.0.1:$port/device/v1/whoami"
}
verify_on() { api "$1" POST "/api/v1/trust/verify" --data-binary @app.pem > /dev/null; grep -o '"status": *"[A-Za-z]*"' api.json | head -1 | grep -o '[A-Z][A-Za-z]*'; }

# until_enforced DESCRIPTION CHECK… : runs CHECK in a tight loop until it succeeds (2 s at most);
# prints and records the time from the acknowledgement (t0) to the start of the first request
# that saw the change.
latencies=()
until_enforced() {
  local what=$1 started tries=0
  shift
  while :; do
    started=$(ms)
    if "$@"; then break; fi
    tries=$((tries + 1))
    if [ $((started - t0)) -gt 2000 ]; then bad "$what: not enforced on node B after 2 s"; return; fi
  done
  local took=$((started - t0))
  latencies+=("$took")
  echo "cross-node: $what enforced on node B by a request started ${took} ms after node A acknowledged ($tries earlier requests to B did not see it yet)"
  [ "$took" -le 100 ] && ok || bad "$what took ${took} ms on node B (limit 100 ms)"
}

# 1a. Trust: a rejected certificate approved on A is trusted on B.
openssl req -x509 -newkey rsa:2048 -nodes -keyout app.key -out app.pem -days 30 -subj "/CN=line-7 HMI" \
  -addext "subjectAltName=URI:urn:plant:line7:hmi" -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
  -addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
app=$(thumb app.pem)
[ "$(api a POST /api/v1/trust/certificates --data-binary @app.pem)" = 201 ] || [ "$(api a GET /api/v1/trust/certificates/$app)" = 200 ] && ok || bad "add on A: $(cat api.json)"
[ "$(api a POST /api/v1/trust/certificates/$app/reject)" = 200 ] && ok || bad "reject on A: $(cat api.json)"
sleep 0.2
[ "$(verify_on b)" = BadCertificateUntrusted ] && ok || bad "node B still trusts a rejected certificate: $(cat api.json)"
code=$(api a POST /api/v1/trust/certificates/$app/approve); t0=$(ms)
[ "$code" = 200 ] && ok || bad "approve on A: $code $(cat api.json)"
is_good_on_b() { [ "$(verify_on b)" = Good ]; }
until_enforced "approval of a rejected certificate" is_good_on_b

# 1b. OPC UA, the classic workflow across nodes: a node-opcua client refused by node B is parked
# in the shared rejected list; approved through node A's admin API, it connects to node B.
peer="$here/../ua/interop/ua_peer.mjs"
if [ -d "$here/../ua/interop/node_modules/node-opcua-client" ]; then
  ua_b() { timeout 60 node "$peer" client connect --url "opc.tcp://127.0.0.1:$b_ua" --pki pki-client \
             --policy Basic256Sha256 --mode SignAndEncrypt 2>/dev/null | tail -1; }
  r=$(ua_b)
  [ "$(jq -r .ok <<<"$r")" = false ] && ok || bad "an unknown OPC UA client is refused by B: $r"
  [ "$(api a GET "/api/v1/trust/certificates?state=rejected")" = 200 ] && ok || bad "rejected list on A"
  ua_client=$(jq -r '[.[] | select(.thumbprint != "'"$app"'")][0].thumbprint // empty' api.json 2>/dev/null)
  [ -z "$ua_client" ] && ua_client=$(jq -r '[.items[]? | select(.thumbprint != "'"$app"'")][0].thumbprint // empty' api.json)
  [ -n "$ua_client" ] && ok || bad "node A lists the certificate node B parked: $(head -c 300 api.json)"
  [ "$(api a POST "/api/v1/trust/certificates/$ua_client/approve")" = 200 ] && ok || bad "approve the OPC UA client on A: $(cat api.json)"
  r=$(ua_b)
  [ "$(jq -r .ok <<<"$r")" = true ] && ok || bad "approved on A, the OPC UA client connects to B: $r"
else
  echo "SKIP (OPC UA part): node-opcua is not installed in tests/ua/interop (make deps)"
fi

# 1c. Registry: a device of a CA that needs approval waits; activation on A admits it on B.
"$C" --data-dir a --store "$PG_URL" cert issue --cn pump-1 --out pump1 > /dev/null || bad "cert issue"
"$C" --data-dir a --store "$PG_URL" cert issue --cn pump-2 --out pump2 > /dev/null || bad "cert issue"
[ "$(device b pump1)" = 200 ] && ok || bad "pump-1 admitted on B: $(cat dev.json)"
[ "$(device b pump2)" = 200 ] && ok || bad "pump-2 admitted on B: $(cat dev.json)"
pump1=$(thumb pump1.pem); pump2=$(thumb pump2.pem)
[ "$(api a POST /api/v1/devices/$pump2/deactivate)" = 200 ] && ok || bad "deactivate on A: $(cat api.json)"
refused_on_b() { [ "$(device b "$1")" = 403 ]; }
admitted_on_b() { [ "$(device b "$1")" = 200 ]; }
sleep 0.2
refused_on_b pump2 && ok || bad "deactivated pump-2 still admitted on B"
code=$(api a POST /api/v1/devices/$pump2/activate); t0=$(ms)
[ "$code" = 200 ] && ok || bad "activate on A: $(cat api.json)"
until_enforced "activation of a device" admitted_on_b pump2
code=$(api a POST /api/v1/devices/$pump1/revoke); t0=$(ms)
[ "$code" = 200 ] && ok || bad "revoke on A: $(cat api.json)"
until_enforced "revocation of a device" refused_on_b pump1
grep -q BadCertificateRevoked dev.json && ok || bad "B names the revocation: $(cat dev.json)"

# 1d. Users: an API token issued on A works on B; revoked on A, B refuses it.
[ "$(api a POST /api/v1/tokens -H 'Content-Type: application/json' --data '{"roles":["SecurityAdmin"],"description":"cross-node"}')" = 201 ] \
  && ok || bad "token on A: $(cat api.json)"
tok=$(jq -r .token api.json); tok_id=$(jq -r .id api.json)
me_on_b() { curl -s -o me.json -w '%{http_code}' --max-time 10 -k -H "Authorization: Bearer $tok" "https://127.0.0.1:$b_admin/api/v1/me"; }
[ "$(me_on_b)" = 200 ] && ok || bad "A's token accepted on B: $(cat me.json)"
code=$(api a DELETE "/api/v1/tokens/$tok_id"); t0=$(ms)
[ "$code" = 200 ] && ok || bad "revoke the token on A: $(cat api.json)"
token_refused_on_b() { [ "$(me_on_b)" = 401 ]; }
until_enforced "revocation of an API token" token_refused_on_b

# The store as an operator checks it, with the same URL the nodes use.
"$C" --store "$PG_URL" store check > check.txt 2>&1 && grep -q ": ok" check.txt && ok || bad "store check: $(cat check.txt)"
"$C" --store "$PG_URL" store migrate > migrate.txt 2>&1 && grep -q "schema version [0-9]" migrate.txt && ok || bad "store migrate: $(cat migrate.txt)"
grep -q "$PG_PASSWORD" check.txt migrate.txt && bad "store check/migrate printed the password" || ok

# 2. PostgreSQL restarts: node B's listener reconnects, then enforces changes again.
pg_restart && ok || bad "PostgreSQL restart"
for _ in $(seq 100); do grep -q "listening again" b.log && break; sleep 0.05; done
grep -q "listening again" b.log && ok || bad "node B's change feed did not reconnect"
code=$(api a POST /api/v1/devices/$pump2/deactivate); t0=$(ms)
[ "$code" = 200 ] && ok || bad "deactivate on A after the restart: $(cat api.json)"
until_enforced "deactivation after a PostgreSQL restart" refused_on_b pump2

# 3. kill -9 of node A in the middle of a burst of registrations on it.
n=60
for i in $(seq -f "%03g" 1 $n); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "burst$i.key.pem" -subj "/CN=burst$i" -out "r$i.csr" 2>/dev/null
  openssl x509 -req -in "r$i.csr" -CA a/ca/ca.pem -CAkey a/ca/private/ca.key.pem -CAcreateserial -days 30 -out "burst$i.pem" \
    -extfile <(printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n") 2>/dev/null
done
mkdir acks
burst_start=$(ms)
burst=()
for i in $(seq -f "%03g" 1 $n); do
  ( [ "$(device a "burst$i" 2>/dev/null)" = 200 ] && touch "acks/$i" ) &
  burst+=($!)
done
# Killed mid-burst: once a quarter of the registrations are acknowledged (10 s at most).
for _ in $(seq 200); do [ "$(ls acks | wc -l)" -ge $((n / 4)) ] && break; sleep 0.05; done
kill -9 "$node_a"; wait "$node_a" 2>/dev/null; node_a=""
wait "${burst[@]}" 2>/dev/null
acked=$(ls acks | wc -l)
echo "kill -9: node A acknowledged $acked of $n registrations in the $(( $(ms) - burst_start )) ms before it died"
missing=0
for f in acks/*; do
  [ -e "$f" ] || continue
  i=${f##*/}
  [ "$(api b GET "/api/v1/devices/$(thumb "burst$i.pem")")" = 200 ] || missing=$((missing + 1))
done
[ "$missing" = 0 ] && ok || bad "$missing acknowledged registrations are missing after kill -9"
# Nothing half-written: every registered burst device has its audit record, written by node A.
rows=$(PG_DB=castellan pg_sql "SELECT count(*) FROM registry_devices WHERE common_name LIKE 'burst%'")
audits=$(PG_DB=castellan pg_sql "SELECT count(*) FROM audit WHERE action = 'registry.device.auto_register' AND detail LIKE '%burst%' AND node = 'node-a'")
[ "$acked" -gt 0 ] && [ "$rows" -ge "$acked" ] && [ "$rows" = "$audits" ] && ok || bad "$rows burst devices, $audits audit records by node-a, $acked acknowledged"
[ "$(device b burst001)" = 200 ] && ok || bad "node B serves on after node A died"

# 4. store copy: a populated SQLite data directory into a fresh database, then served.
"$C" init --data-dir lite > /dev/null || bad "init SQLite"
"$C" --data-dir lite ca create --cn "Lite CA" > /dev/null
for i in 1 2 3; do "$C" --data-dir lite cert issue --cn "lite-$i" --out "lite$i" > /dev/null; "$C" --data-dir lite device register "lite$i.pem" > /dev/null; done
"$C" --data-dir lite device revoke "$(thumb lite2.pem)" > /dev/null
"$C" --data-dir lite trust add app.pem > /dev/null
pg_sql "CREATE DATABASE copied OWNER castellan" > /dev/null
COPY_URL="${PG_URL%/castellan}/copied"
"$C" --data-dir lite store copy --to "$COPY_URL" > copy.txt 2>&1 && ok || bad "store copy: $(cat copy.txt)"
grep -q "counts verified" copy.txt && ok || bad "copy reports verified counts: $(cat copy.txt)"
grep -q "$PG_PASSWORD" copy.txt && bad "store copy printed the password" || ok
"$C" --data-dir lite store copy --to "$COPY_URL" > copy2.txt 2>&1 && bad "a second copy into a non-empty database was not refused" || ok
grep -q "BadInvalidState" copy2.txt && grep -q -- "--force" copy2.txt && ok || bad "refusal names --force: $(cat copy2.txt)"
"$C" store copy --from sqlite:lite/castellan.db --to "$COPY_URL" --force > /dev/null 2>&1 && ok || bad "store copy --from sqlite:PATH --force"
# The same data directory served from SQLite, then from the copy: the API answers alike.
paths=("/api/v1/devices?limit=100" "/api/v1/cas" "/api/v1/trust/certificates" "/api/v1/users" "/api/v1/tokens")
serve_lite() {  # serve_lite LOG [--store URL] → node_c, ready
  local log=$1
  shift
  "$C" --data-dir lite "$@" --set admin.listen=127.0.0.1:$lite_admin --set device.mtls_listen=off --set ua.listen=off serve > "$log" 2>&1 &
  node_c=$!
  for _ in $(seq 200); do grep -q "admin HTTPS API" "$log" && return 0; sleep 0.05; done
  return 1
}
listings() {  # listings PREFIX: one JSON file per path
  local i=0
  for path in "${paths[@]}"; do
    # The listing request itself logs the admin in: last_login is the time of asking.
    curl -s --max-time 10 -k -u "admin:$CASTELLAN_ADMIN_PASSWORD" "https://127.0.0.1:$lite_admin$path" \
      | sed 's/"last_login":"[^"]*"/"last_login":"-"/g' > "$1-$i.json"
    i=$((i + 1))
  done
}
lite_admin=$(free_port)
serve_lite lite.log && listings lite || bad "the SQLite node did not start"
kill "$node_c"; wait "$node_c" 2>/dev/null; node_c=""
serve_lite copy.log --store "$COPY_URL" && listings copy || bad "the node on the copy did not start"
kill "$node_c"; wait "$node_c" 2>/dev/null; node_c=""
for i in "${!paths[@]}"; do
  [ -s "lite-$i.json" ] && grep -q '^[[{]' "lite-$i.json" || { bad "${paths[$i]}: no listing from SQLite: $(head -c 200 "lite-$i.json")"; continue; }
  if [ "$i" = 0 ]; then
    # Devices registered in the same second tie on the sort key; SQLite breaks ties by insertion
    # order, PostgreSQL by id. Both must list newest first and hold the same devices.
    for node in lite copy; do
      jq -e '[.items[].registered_at] as $t | $t == ($t | sort | reverse)' "$node-$i.json" > /dev/null && ok || bad "$node: devices not newest first"
      jq -S '.items |= sort_by(.id)' "$node-$i.json" > "$node-$i.json.canon"
      mv "$node-$i.json.canon" "$node-$i.json"
    done
  fi
  cmp -s "lite-$i.json" "copy-$i.json" && ok || { bad "${paths[$i]} differs between SQLite and its PostgreSQL copy"; diff <(tr ',' '\n' < "lite-$i.json") <(tr ',' '\n' < "copy-$i.json") | head -10; }
done
grep -q '"total": *3\|"total":3' lite-0.json && ok || bad "the SQLite listing holds the 3 devices: $(head -c 300 lite-0.json)"

if [ ${#latencies[@]} -gt 0 ]; then
  echo "cross-node enforcement latencies (ms, request start after acknowledgement): ${latencies[*]}"
fi
summary pg_two_nodes
