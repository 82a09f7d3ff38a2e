#!/usr/bin/env bash
# castellan's OPC UA server driven by node-opcua's client (and castellan's client against
# node-opcua's server): endpoints, every policy and mode, the reject → approve → connect
# workflow, URI mismatch, expired certificates, browse / read / translate / call / write,
# session timeout, concurrent clients. Usage: opcua_interop_test.sh CASTELLAN
set -u
C=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
PEER="node $HERE/ua_peer.mjs"
[ -d "$HERE/node_modules/node-opcua-client" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server $node_server $gate 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
server=""
node_server=""
gate=""

port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
extra=()
# The admin HTTPS endpoint, where it exists, is not part of this test.
"$C" config keys 2>/dev/null | grep -q '`admin.listen`' && extra+=(--set admin.listen=off)
serve() {
  "$C" --data-dir d --set ua.listen=127.0.0.1:$port --set ua.allow_anonymous=true --set device.mtls_listen=off \
    "${extra[@]}" "$@" serve >>castellan.log 2>&1 &
  server=$!
  for _ in $(seq 50); do
    "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "castellan did not start" >&2
  cat castellan.log >&2
  exit 1
}
serve
client() { local cmd=$1; shift; timeout 60 $PEER client "$cmd" --url "$url" --pki pki-client "$@" 2>/dev/null | tail -1; }
field() { jq -r "$1" <<<"$2"; }

# --- discovery --------------------------------------------------------------------------------
r=$(client endpoints)
[ "$(field '.endpoints | length' "$r")" = 6 ] && ok || bad "six endpoints: $r"
[ "$(field '[.endpoints[] | select(.policy == "None")] | length' "$r")" = 0 ] && ok || bad "None is not offered for sessions"
[ "$(field '[.endpoints[] | select(.mode == "SignAndEncrypt") | .level] | min' "$r")" -gt \
  "$(field '[.endpoints[] | select(.mode == "Sign") | .level] | max' "$r")" ] && ok || bad "SignAndEncrypt ranks above Sign"
[ "$(field '.endpoints[0].tokens | index("UserName") != null' "$r")" = true ] && ok || bad "UserName tokens offered"
[ "$("$C" --json --data-dir d ua endpoints --url "$url" | jq length)" = 6 ] && ok || bad "castellan's client sees the same endpoints"

# --- untrusted → rejected → approve → connected --------------------------------------------------
r=$(client connect --policy Basic256Sha256 --mode SignAndEncrypt)
[ "$(field .ok "$r")" = false ] && ok || bad "an unknown client is refused: $r"
rejected=$("$C" --json --data-dir d trust list --state rejected)
[ "$(jq length <<<"$rejected")" = 1 ] && ok || bad "its certificate is parked in the rejected list: $rejected"
thumbprint=$(jq -r '.[0].thumbprint' <<<"$rejected")
grep -q "BadSecurityChecksFailed" castellan.log && ok || bad "the refusal is logged with its StatusCode"
"$C" --json --data-dir d audit --limit 50 2>/dev/null | grep -q "$thumbprint" && ok || bad "the refusal is audited"
"$C" --data-dir d trust approve "$thumbprint" >/dev/null && ok || bad "approve"
r=$(client connect --policy Basic256Sha256 --mode SignAndEncrypt)
[ "$(field .ok "$r")" = true ] && ok || bad "after approval the same client connects without a restart: $r"

# --- every policy and mode ------------------------------------------------------------------------
for policy in Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
  for mode in Sign SignAndEncrypt; do
    r=$(client connect --policy $policy --mode $mode)
    [ "$(field .ok "$r")" = true ] && ok || bad "$policy/$mode: $r"
  done
done
r=$(client connect --policy None --mode None)
[ "$(field .ok "$r")" = false ] && ok || bad "no session over None unless enabled: $r"

# --- services ---------------------------------------------------------------------------------------
S="--policy Basic256Sha256 --mode SignAndEncrypt"
r=$(client read-status $S)
ticks=$(field .ticks_ms "$r")
[ "$ticks" -ge 900 ] && [ "$ticks" -le 3000 ] && ok || bad "CurrentTime ticks: $r"
[ "$(field '.namespaces[0]' "$r")" = "http://opcfoundation.org/UA/" ] && ok || bad "NamespaceArray: $r"
[ "$(field .state "$r")" = 0 ] && ok || bad "ServerStatus.State is Running: $r"
[ "$(field .server_status_type "$r")" = ServerStatusDataType ] && ok || bad "ServerStatus decodes as ServerStatusDataType: $r"
r=$(client browse $S)
[ "$(field '.path | join("/")' "$r")" = "Objects/Server" ] && ok || bad "browse Root → Objects → Server: $r"
[ "$(field '.children | index("ServerStatus") != null and index("NamespaceArray") != null' "$r")" = true ] && ok || bad "Server's children: $r"
[ "$(field .paged_count "$r")" = "$(field '.children | length' "$r")" ] && ok || bad "BrowseNext one reference at a time gives the same list: $r"
r=$(client translate $S)
[ "$(field '.targets[0]' "$r")" = "ns=0;i=2256" ] && ok || bad "TranslateBrowsePaths /Objects/Server.ServerStatus: $r"
r=$(client call $S)
[ "$(field .status "$r")" = BadSubscriptionIdInvalid ] && ok || bad "Server.GetMonitoredItems: no such subscription: $r"
r=$(client write $S)
[ "$(field .status "$r")" = BadNotWritable ] && ok || bad "CurrentTime is not writable: $r"
r=$(client concurrent $S --clients 20)
[ "$(field .good "$r")" = 20 ] && ok || bad "20 concurrent clients: $r"

# --- UserName logins: the same users as the admin API -------------------------------------------
"$C" --data-dir d user add alice --password 'correct horse battery' --role Operator >/dev/null && ok || bad "user add"
r=$(client connect $S --user alice --password 'correct horse battery')
[ "$(field .ok "$r")" = true ] && ok || bad "UserName login with the right password: $r"
r=$(client connect $S --user alice --password 'wrong')
[ "$(field .ok "$r")" = false ] && [ "$(field .status "$r")" = BadUserAccessDenied ] && ok || bad "wrong password refused: $r"
r=$(client connect $S --user mallory --password 'x')
[ "$(field .ok "$r")" = false ] && ok || bad "unknown user refused: $r"
"$C" --json --data-dir d audit --limit 100 2>/dev/null | grep -q "alice" && ok || bad "logins are audited"
# ServerConfiguration.GetRejectedList (Part 12): SecurityAdmins only.
GRL="--object i=12637 --method i=12777 --arg none"
r=$(client call $S $GRL --user alice --password 'correct horse battery')
[ "$(field .status "$r")" = BadUserAccessDenied ] && ok || bad "GetRejectedList refused to an Operator: $r"
"$C" --data-dir d user add root --password 'root password 1' --role SecurityAdmin >/dev/null
r=$(client call $S $GRL --user root --password 'root password 1')
[ "$(field .status "$r")" = Good ] && [ "$(field '.output_lengths[0]' "$r")" = "$("$C" --json --data-dir d trust list --state rejected | jq length)" ] \
  && ok || bad "GetRejectedList lists the rejected certificates to a SecurityAdmin: $r"

# --- refusals -------------------------------------------------------------------------------------
# (node-opcua's client will not send an ApplicationUri that differs from its certificate; the
# BadCertificateUriInvalid refusal is tested with castellan's own client in tests/ua/end_to_end.)

# An expired application certificate (valid 2020 only), signed by itself.
cat > ca.cnf <<CNF
[ca]
default_ca = own
[own]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = expired client
[ext]
subjectAltName = URI:urn:castellan:expired,DNS:localhost
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage = clientAuth
basicConstraints = critical,CA:FALSE
CNF
touch index.txt; echo 01 > serial
openssl req -new -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -config ca.cnf 2>/dev/null
openssl ca -batch -selfsign -config ca.cnf -keyfile expired.key -in expired.csr -out expired.pem -extensions ext \
  -startdate 20200101000000Z -enddate 20210101000000Z >/dev/null 2>&1
"$C" --data-dir d trust add expired.pem >/dev/null 2>&1
r=$(client connect $S --cert expired.pem --key expired.key --app-uri urn:castellan:expired --pki pki-expired)
[ "$(field .ok "$r")" = false ] && ok || bad "an expired certificate is refused even when trusted: $r"

# --- session timeout (the server's minimum is 2 s) -------------------------------------------------
r=$(client session-timeout $S --session-timeout 2000)
[ "$(field .revised_timeout_ms "$r")" = 2000 ] && ok || bad "session timeout revised: $r"
# node-opcua either reports the expiry or quietly recreates the session: both prove it was gone.
[[ "$(field .status_after_idle "$r")" == Bad* || "$(field .recreated "$r")" == true ]] && ok || bad "an idle session expires: $r"

# --- ua.registry_gate: one device, one certificate for OPC UA clients too ---------------------------
gate_port=$(free_port)
"$C" --data-dir g init >/dev/null
"$C" --data-dir g ca create --cn "Plant CA" --key rsa4096 >/dev/null
"$C" --data-dir g cert issue --cn plc-7 --uri urn:plant:plc-7 --key rsa2048 --out plc7 >/dev/null
"$C" --data-dir g --set ua.listen=127.0.0.1:$gate_port --set ua.registry_gate=true --set trust.mode=trusted-ca \
  --set ua.allow_anonymous=true --set ua.detailed_errors=true --set device.mtls_listen=off "${extra[@]}" serve >gate.log 2>&1 &
gate=$!
for _ in $(seq 50); do "$C" --data-dir g ua endpoints --url "opc.tcp://127.0.0.1:$gate_port" >/dev/null 2>&1 && break; sleep 0.2; done
gate_client() { timeout 60 $PEER client connect --url "opc.tcp://127.0.0.1:$gate_port" --pki pki-gate $S --cert plc7.pem \
  --key plc7.key.pem --app-uri urn:plant:plc-7 2>/dev/null | tail -1; }
r=$(gate_client)
[ "$(field .ok "$r")" = true ] && ok || bad "a client certificate from a registered CA registers itself and connects: $r"
device=$("$C" --json --data-dir g device list | jq -r '.items[0].id // empty')
[ -n "$device" ] && ok || bad "the OPC UA client is now a registered device"
"$C" --data-dir g device revoke "$device" >/dev/null
r=$(gate_client)
[ "$(field .ok "$r")" = false ] && grep -q BadCertificateRevoked gate.log && ok || bad "a revoked device is refused at OpenSecureChannel: $r"
kill -TERM $gate; wait $gate 2>/dev/null

# --- castellan's client against node-opcua's server -----------------------------------------------
node_port=$(free_port)
$PEER server --port "$node_port" --pki pki-node-server >node-server.log 2>&1 &
node_server=$!
for _ in $(seq 100); do grep -q READY node-server.log && break; sleep 0.2; done
grep -q READY node-server.log && ok || { bad "node-opcua server did not start"; cat node-server.log >&2; }
n=$("$C" --json --data-dir d ua endpoints --url "opc.tcp://127.0.0.1:$node_port" | jq length)
[ "${n:-0}" -ge 4 ] && ok || bad "castellan's client reads node-opcua's endpoints: $n"
for policy in Basic256Sha256 Aes256_Sha256_RsaPss; do
  b=$("$C" --json --data-dir d bench opcua --url "opc.tcp://127.0.0.1:$node_port" --clients 1 --seconds 2 --policy $policy --no-trust 2>&1)
  [ "$(jq -r '.reads > 0 and .connects > 0' <<<"$b" 2>/dev/null)" = true ] && ok || bad "castellan's client: session and Read on node-opcua ($policy): $b"
done

# --- clean stop ------------------------------------------------------------------------------------
kill -TERM $server
wait $server
[ $? = 0 ] && ok || bad "SIGTERM stops castellan cleanly"
server=""
grep -q "castellan stopped" castellan.log && ok || bad "stop logged"

[ "$failed" -eq 0 ] || { echo "--- castellan.log"; tail -30 castellan.log; }
summary "opcua interop"
