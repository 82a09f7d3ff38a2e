#!/usr/bin/env bash
# The interop harness checked against node-opcua itself: server.mjs on loopback ports, and every
# client.mjs command with every security policy and mode, asserting the JSON each one prints.
# It proves the tools before castellan's own OPC UA server is there to be driven by them.
#   self_test.sh            (no argument: castellan's binary is not needed)
# Exit 77 (ctest SKIP_RETURN_CODE) only when node is absent.
set -uo pipefail
HERE=$(dirname "$(realpath "$0")")
source "$HERE/../../support/harness.sh"

if ! command -v node >/dev/null; then
  echo "SKIP: node is not installed"
  exit 77
fi
if [ ! -d "$HERE/node_modules/node-opcua" ]; then
  echo "FAIL: $HERE/node_modules is missing: run make deps (npm ci --no-audit --no-fund in tests/ua/node)" >&2
  echo "node_opcua_harness: 0 passed, 1 failed"
  exit 1
fi
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }

work=$(mktemp -d)
pids=()
started=$(date +%s)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${failed:-0}" -ne 0 ]; then
    echo "--- server.log"; tail -30 "$work/server.log" 2>/dev/null
    echo "--- strict.log"; tail -30 "$work/strict.log" 2>/dev/null
  fi
  [ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# start_server NAME ARGS... : server.mjs in the background, waits for READY; sets $port
start_server() {
  local name=$1
  shift
  port=$(free_port)
  timeout 600 node "$HERE/server.mjs" --port "$port" --pki "$work/pki-$name" "$@" >"$name.log" 2>"$name.err" &
  pids+=($!)
  for _ in $(seq 300); do
    grep -q "^READY $port" "$name.log" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  bad "server.mjs $name did not print READY $port"
  cat "$name.log" "$name.err" >&2
  return 1
}

# uac NAME WANT_RC CLIENT_ARGS... : one client.mjs run; stdout must be exactly one JSON line
# (saved as NAME.json), and its exit code WANT_RC
uac() {
  local name=$1 want=$2
  shift 2
  timeout 60 node "$HERE/client.mjs" "$@" --pki "$work/pki-client" >"$name.json" 2>"$name.err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$name: exit $got, wanted $want: $(head -c 600 "$name.json")"
    tail -5 "$name.err" >&2
    return 1
  fi
  if [ "$(wc -l <"$name.json")" -ne 1 ] || ! jq -e . "$name.json" >/dev/null 2>&1; then
    bad "$name: stdout is not one JSON line"
    head -c 600 "$name.json" >&2
    return 1
  fi
  ok
}
# js NAME DESCRIPTION JQ_EXPRESSION : the expression holds on NAME.json
js() {
  if jq -e "$3" "$1.json" >/dev/null 2>&1; then ok; else bad "$1: $2 ($3) in $(head -c 800 "$1.json")"; fi
}

# ------------------------------------------------------------------ certificates (openssl)
ext_app="subjectAltName=URI:urn:castellan:test:client,DNS:localhost"
openssl req -x509 -newkey rsa:2048 -nodes -keyout client.key -out client.pem -days 30 \
  -subj "/CN=castellan harness client/O=castellan tests" -addext "$ext_app" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
  -addext "extendedKeyUsage=clientAuth,serverAuth" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout alice.key -out alice.pem -days 30 -subj "/CN=alice" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
  -addext "extendedKeyUsage=clientAuth" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
[ -s client.pem ] && [ -s alice.pem ] && ok || { bad "openssl made no certificates"; summary node_opcua_harness; exit 1; }

# ------------------------------------------------------------------ the permissive server
start_server server --user alice --password 's3cret pw' || { summary node_opcua_harness; exit 1; }
P=$port
U="opc.tcp://127.0.0.1:$P"
server_thumb=$(tail -1 server.log | jq -r .thumbprint)
[ "$server_thumb" = "$(thumb "$work/pki-server/server/own/certs/certificate.pem")" ] && ok ||
  bad "server.mjs prints its certificate's SHA-1 thumbprint ($server_thumb)"

# usage errors: exit 2, still one JSON line
uac usage-none 2 || true
uac usage-nourl 2 connect && js usage-nourl "status usage" '.status == "usage" and .ok == false'
uac usage-policy 2 connect --url "$U" --policy Basic999 && js usage-policy "status usage" '.status == "usage"'
uac usage-mismatch 2 connect --url "$U" --policy None --mode Sign
uac usage-cmd 2 frobnicate --url "$U"
uac usage-user 2 connect --url "$U" --user alice
uac usage-json 2 write --url "$U" --node i=2258 --value '{nope'
uac usage-node 2 read --url "$U" --node 'not a node id'

# discovery on the None channel
uac endpoints 0 endpoints --url "$U"
js endpoints "seven endpoints" '.count == 7 and (.endpoints | length) == 7'
for pol in None Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
  js endpoints "lists $pol" "[.endpoints[] | select(.policy == \"http://opcfoundation.org/UA/SecurityPolicy#$pol\")] | length > 0"
done
js endpoints "Sign and SignAndEncrypt" '([.endpoints[].mode] | index("Sign")) != null and ([.endpoints[].mode] | index("SignAndEncrypt")) != null'
js endpoints "server certificate thumbprint" "all(.endpoints[]; .serverCertificate == \"$server_thumb\")"
js endpoints "user token types" '[.endpoints[0].userTokens[].type] | (index("Anonymous") != null and index("UserName") != null and index("Certificate") != null)'
js endpoints "endpoint url" "all(.endpoints[]; .url == \"$U\")"
uac findservers 0 findservers --url "$U"
js findservers "the server's ApplicationDescription" '.servers[0].applicationUri == "urn:castellan:harness:node-opcua-server" and .servers[0].applicationType == "Server"'

# ------------------------------------------------------------------ every command, every policy and mode
# Queued per policy/mode and run through `client.mjs batch` (node-opcua loads once per batch,
# the same code as the single commands), two batches at a time; then every answer is checked.
# q NAME WANT_EXIT CLIENT_ARGS... : queue one command line in the current batch
q() {
  local name=$1 want=$2
  shift 2
  echo "$name $want" >>"$batch.names"
  jq -cn '$ARGS.positional' --args -- "$@" --pki "$work/pki-client" >>"$batch.txt"
}
# start_batch BATCH : run it in the background (pid in bpids)
bpids=()
start_batch() {
  timeout 590 node "$HERE/client.mjs" batch --file "$1.txt" >"$1.out" 2>"$1.err" &
  bpids+=($!)
}
# collect_batch BATCH PID : wait for it; line i of its output becomes NAME_i.json, "exit" checked
collect_batch() {
  local b=$1 rc i=0 name want
  wait "$2"
  rc=$?
  [ $rc -eq 0 ] && ok || bad "batch $b: exit $rc"
  while read -r name want; do
    i=$((i + 1))
    sed -n "${i}p" "$b.out" >"$name.json"
    if [ ! -s "$name.json" ] || ! jq -e . "$name.json" >/dev/null 2>&1; then
      bad "$name: no JSON answer in batch $b"
    elif [ "$(jq -r .exit "$name.json")" = "$want" ]; then
      ok
    else
      bad "$name: exit $(jq -r .exit "$name.json"), wanted $want: $(head -c 600 "$name.json")"
    fi
  done <"$b.names"
}

combos="None:None Basic256Sha256:Sign Basic256Sha256:SignAndEncrypt Aes128_Sha256_RsaOaep:Sign
Aes128_Sha256_RsaOaep:SignAndEncrypt Aes256_Sha256_RsaPss:Sign Aes256_Sha256_RsaPss:SignAndEncrypt"
n=0
for combo in $combos; do
  pol=${combo%:*} mode=${combo#*:}
  s=(--url "$U" --policy "$pol" --mode "$mode")
  t="$pol-$mode"
  batch="$work/batch$((n++ % 2))"
  q "endpoints-$t" 0 endpoints "${s[@]}"
  q "findservers-$t" 0 findservers "${s[@]}"
  q "connect-$t" 0 connect "${s[@]}"
  q "user-$t" 0 connect "${s[@]}" --user alice --password 's3cret pw'
  q "wrongpw-$t" 1 connect "${s[@]}" --user alice --password wrong
  q "nouser-$t" 1 connect "${s[@]}" --user mallory --password 's3cret pw'
  q "usercert-$t" 0 connect "${s[@]}" --user-cert alice.pem --user-key alice.key
  q "appcert-$t" 0 connect "${s[@]}" --cert client.pem --key client.key
  q "status-$t" 0 read-status "${s[@]}"
  q "browse-$t" 0 browse "${s[@]}"
  q "translate-$t" 0 translate "${s[@]}"
  q "translate-bad-$t" 1 translate "${s[@]}" --path /Objects/Server/NoSuchThing
  q "call-$t" 1 call "${s[@]}"
  q "add-$t" 0 call "${s[@]}" --object 'ns=1;s=Harness' --method 'ns=1;s=Harness.Add' --args '[40, 2]'
  q "add-typed-$t" 0 call "${s[@]}" --object 'ns=1;s=Harness' --method 'ns=1;s=Harness.Add' --args '[{"type":"Int32","value":-5},{"type":"Int32","value":3}]'
  q "fail-$t" 1 call "${s[@]}" --object 'ns=1;s=Harness' --method 'ns=1;s=Harness.Fail'
  q "read-$t" 0 read "${s[@]}" --node i=2255
  q "readname-$t" 0 read "${s[@]}" --node i=2253 --attribute BrowseName
  q "readclass-$t" 0 read "${s[@]}" --node i=2253 --attribute NodeClass
  q "readbad-$t" 1 read "${s[@]}" --node 'ns=1;s=NoSuchNode'
  q "write-$t" 0 write "${s[@]}" --node "ns=1;s=Harness.Item0$((n % 10))" --value 7
  q "writestr-$t" 0 write "${s[@]}" --node 'ns=1;s=Harness.Message' --value "\"$t\""
  q "writero-$t" 1 write "${s[@]}" --node 'ns=1;s=Harness.ReadOnly' --value 1.5
  q "writetype-$t" 1 write "${s[@]}" --node 'ns=1;s=Harness.Counter' --value '{"type":"String","value":"x"}'
  q "register-$t" 0 register "${s[@]}"
  q "timeout-$t" 0 session-timeout "${s[@]}" --session-timeout 1000
  q "concurrent-$t" 0 concurrent "${s[@]}" --clients 4
done
start_batch "$work/batch0"
start_batch "$work/batch1"
collect_batch "$work/batch0" "${bpids[0]}"
collect_batch "$work/batch1" "${bpids[1]}"

for combo in $combos; do
  pol=${combo%:*} mode=${combo#*:}
  t="$pol-$mode"
  js "endpoints-$t" "endpoints over $t" '.count == 7'
  js "findservers-$t" "FindServers over $t" '.count == 1'
  js "connect-$t" "session on $t" ".ok and .policy == \"$pol\" and .mode == \"$mode\" and .endpoint.policy == \"$pol\" and .endpoint.mode == \"$mode\""
  js "connect-$t" "session facts" '.identity == "Anonymous" and (.sessionId | length > 0) and .revisedSessionTimeout > 0 and .serverNonceLength >= 32'
  js "connect-$t" "server certificate" ".serverCertificate == \"$server_thumb\""
  js "user-$t" "UserName identity" '.identity == "UserName"'
  js "wrongpw-$t" "wrong password refused by the server" '.status == "BadUserAccessDenied" and .stage == "session" and (.clientSide | not)'
  js "nouser-$t" "unknown user" '.status == "BadUserAccessDenied"'
  js "usercert-$t" "X509 identity" '.identity == "Certificate"'
  js "appcert-$t" "applicationUri from the certificate's SAN" '.applicationUri == "urn:castellan:test:client"'
  js "status-$t" "ServerStatus Running" '.serverStatus.state == "Running" and .serverStatus.buildInfo.productName == "castellan-harness-node-opcua"'
  js "status-$t" "CurrentTime ticks" '.ticks == true and .deltaMs >= 1000 and .deltaMs < 5000 and .currentTimeType == "DateTime"'
  js "status-$t" "NamespaceArray" '.namespaceArray[0] == "http://opcfoundation.org/UA/" and (.namespaceArray | index("urn:castellan:harness:node-opcua-server")) != null'
  js "browse-$t" "Root → Objects → Server" '[.path[].browseName] == ["Root","Objects","Server"] and .reachedServer and .path[2].nodeId == "ns=0;i=2253"'
  js "browse-$t" "Server's children" '[.serverChildren[].browseName] | (index("ServerStatus") != null and index("NamespaceArray") != null and index("ServerCapabilities") != null)'
  js "browse-$t" "BrowseNext paging" '.browseNext.maxReferencesPerNode == 1 and .browseNext.pages == (.serverChildren | length) and .browseNext.matchesFullBrowse and .browseNext.releaseStatus == "Good"'
  js "translate-$t" "/Objects/Server/ServerStatus" '.targets[0].targetId == "ns=0;i=2256"'
  js "translate-bad-$t" "no match" '.status == "BadNoMatch"'
  js "call-$t" "GetMonitoredItems(1) answers BadSubscriptionIdInvalid" '.status == "BadSubscriptionIdInvalid" and .stage == "call" and .inputArguments[0].type == "UInt32"'
  js "add-$t" "Add(40,2) = 42" '.status == "Good" and .outputArguments[0].value == 42 and .outputArguments[0].type == "Int32"'
  js "add-typed-$t" "Add(-5,3) = -2" '.outputArguments[0].value == -2'
  js "fail-$t" "a method's Bad result" '.status == "BadInvalidState"'
  js "read-$t" "NamespaceArray value" '.value.type == "String" and .value.arrayType == "Array"'
  js "readname-$t" "BrowseName" '.value.value == "Server"'
  js "readclass-$t" "NodeClass" '.nodeClass == "Object"'
  js "readbad-$t" "unknown node" '.status == "BadNodeIdUnknown"'
  js "write-$t" "Item := 7, read back" '.status == "Good" and .readBack.value.value == 7 and .written.type == "Int32"'
  js "writestr-$t" "Message := string" ".written.type == \"String\" and .status == \"Good\""
  js "writero-$t" "read-only" '.status == "BadNotWritable"'
  js "writetype-$t" "type mismatch" '.status == "BadTypeMismatch"'
  js "register-$t" "registered and read" '(.registered | length) == 2 and all(.reads[]; .status == "Good") and .unregistered'
  js "timeout-$t" "expired session" '.expired and .readStatus == "BadSessionIdInvalid" and .revisedSessionTimeout == 1000 and .idleMs >= 1500'
  js "concurrent-$t" "4 of 4" '.clients == 4 and .succeeded == 4 and .failed == 0 and .statuses.Good == 4'
done

# ------------------------------------------------------------------ single cases
# the application instance certificate given on the command line, with its URI spelled out
uac appcert-uri 0 connect --url "$U" --policy Aes256_Sha256_RsaPss --cert client.pem --key client.key --application-uri urn:castellan:test:client
js appcert-uri "mode defaults to SignAndEncrypt" '.mode == "SignAndEncrypt"'
[ -n "$(ls "$work/pki-server/server/trusted/certs/" 2>/dev/null)" ] && ok || bad "the permissive server trusted the client certificates"
uac nofile 2 connect --url "$U" --cert /nonexistent.pem --key client.key
js nofile "an unreadable certificate is a usage error" '.status == "usage"'
# session timeout with a longer idle while the session would still live: a failure with the facts
uac alive 1 session-timeout --url "$U" --session-timeout 8000 --idle 200
js alive "a live session is reported" '.expired == false and .readStatus == "Good" and .stage == "read after idle"'
# nobody listens
closed=$(free_port)
uac refused 1 connect --url "opc.tcp://127.0.0.1:$closed" --timeout 3000
js refused "connection refused" '.status == "BadNotConnected" and .stage == "connect"'
# a policy the server does not offer: node-opcua refuses by itself
uac nopolicy 1 connect --url "$U" --policy Basic256 --mode SignAndEncrypt
js nopolicy "no such endpoint" '.status == "BadSecurityPolicyRejected" and .clientSide == true'
uac concurrent-many 0 concurrent --url "$U" --clients 20
js concurrent-many "20 parallel sessions" '.succeeded == 20'

# ------------------------------------------------------------------ the strict server: rejections
# client.pem is trusted before it starts; stranger.pem is not
mkdir -p "$work/pki-strict/server/trusted/certs"
cp client.pem "$work/pki-strict/server/trusted/certs/castellan-client.pem"
openssl req -x509 -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.pem -days 30 \
  -subj "/CN=stranger" -addext "subjectAltName=URI:urn:castellan:test:stranger" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
  -addext "extendedKeyUsage=clientAuth" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
start_server strict --strict --no-anonymous --user alice --password 's3cret pw' || { summary node_opcua_harness; exit 1; }
S="opc.tcp://127.0.0.1:$port"
uac strict-untrusted 1 connect --url "$S" --policy Basic256Sha256 --cert stranger.pem --key stranger.key --user alice --password 's3cret pw'
js strict-untrusted "untrusted client certificate refused" '.status == "BadSecurityChecksFailed" and .stage == "connect"'
[ -n "$(ls "$work/pki-strict/server/rejected/" 2>/dev/null)" ] && ok || bad "the strict server filed the rejected certificate"
uac strict-trusted 0 connect --url "$S" --policy Basic256Sha256 --cert client.pem --key client.key --user alice --password 's3cret pw'
js strict-trusted "trusted client certificate accepted" '.identity == "UserName"'
uac strict-anon 1 connect --url "$S"
js strict-anon "anonymous not offered" '.status == "BadIdentityTokenInvalid" and .clientSide == true'
uac strict-usercert 1 connect --url "$S" --user-cert alice.pem --user-key alice.key
js strict-usercert "untrusted user certificate" '.status == "BadIdentityTokenRejected" and .stage == "session"'
uac strict-wrongpw 1 connect --url "$S" --user alice --password nope
js strict-wrongpw "wrong password" '.status == "BadUserAccessDenied"'

# ------------------------------------------------------------------ SIGTERM stops server.mjs cleanly
kill -TERM "${pids[-1]}"
rc=0
for _ in $(seq 100); do kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.1; done
if kill -0 "${pids[-1]}" 2>/dev/null; then
  bad "server.mjs still runs 10 s after SIGTERM"
else
  wait "${pids[-1]}"
  rc=$?
  [ $rc -eq 0 ] && grep -q "^STOPPED SIGTERM" strict.log && ok || bad "server.mjs exit $rc after SIGTERM"
fi

echo "node_opcua_harness: $(($(date +%s) - started)) s"
summary node_opcua_harness
