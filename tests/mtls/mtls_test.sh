#!/usr/bin/env bash
# The device mTLS endpoint as devices meet it: curl with client certificates made here, against
# `castellan serve` on a loopback port of its own.
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "${failed:-0}" -ne 0 ] && { echo "--- castellan.log"; tail -20 "$work/castellan.log"; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

"$C" init --data-dir d >/dev/null
"$C" --data-dir d ca create --cn "Fleet CA" >/dev/null
issue() { "$C" --data-dir d cert issue --cn "$1" --out "$2" >/dev/null; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -out other-ca.pem -days 30 \
  -subj "/CN=Unknown CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key.pem -subj "/CN=stranger" -out s.csr 2>/dev/null
openssl x509 -req -in s.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 30 -out stranger.pem 2>/dev/null

# Part 18 identity mapping for devices: a Thumbprint rule for one device certificate (made
# before serving: rules are re-read once a second).
issue pump p1; issue pump p2
"$C" --data-dir d authz rule add Operator --criteria "Thumbprint:$(thumb p1.pem)" >/dev/null && ok || bad "rule added"

port=$(free_port)
"$C" --data-dir d --set device.mtls_listen=127.0.0.1:$port --set admin.listen=off --set ua.listen=off serve > castellan.log 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "device mTLS endpoint" castellan.log && break; sleep 0.1; done
grep -q "device mTLS endpoint" castellan.log && ok || { bad "the mTLS endpoint did not start"; exit 1; }

# call CERT_PREFIX [client id] [path] [method] [form body] → prints the HTTP status, body in body.json
call() {
  local args=(-s -o body.json -w '%{http_code}' --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1"
              --cert "$1.pem" --key "$1.key.pem" -X "${4:-GET}")
  [ -n "${2:-}" ] && args+=(-H "X-Client-Id: $2")
  [ -n "${5:-}" ] && args+=(--data "$5")
  curl "${args[@]}" "https://localhost:$port${3:-/device/v1/whoami}"
}
registered_total() { "$C" --data-dir d device list --json | grep -o '"total": [0-9]*' | grep -o '[0-9]*$'; }

issue SN0001 dev1
[ "$(call dev1)" = 200 ] && ok || bad "a device of a registered CA is admitted"
grep -q '"registered":true' body.json && grep -q '"client_id":"SN0001"' body.json && ok || bad "registered on first contact, CN as client ID: $(cat body.json)"
[ "$(call dev1)" = 200 ] && grep -q '"registered":false' body.json && ok || bad "second request: known device"
[ "$(registered_total)" = 1 ] && ok || bad "registered once"

# no client certificate: the TLS handshake itself fails
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/device/v1/whoami")
[ "$code" = 000 ] && ok || bad "a client without certificate got HTTP $code"

[ "$(call stranger)" = 403 ] && grep -q BadCertificateUntrusted body.json && ok || bad "unknown CA refused: $(cat body.json)"

[ "$(call p1)" = 200 ] && ok || bad "pump admitted"
[ "$(call p2)" = 409 ] && grep -q BadEntryExists body.json && ok || bad "duplicate client ID refused: $(cat body.json)"
[ "$(call p2 pump-2)" = 200 ] && ok || bad "the same certificate presenting its own client ID"
[ "$(call dev1 pump-2)" = 409 ] && ok || bad "presenting another device's client ID"

"$C" --data-dir d device revoke "$(thumb dev1.pem)" >/dev/null
[ "$(call dev1)" = 403 ] && grep -q BadCertificateRevoked body.json && ok || bad "revoked refused on the next request: $(cat body.json)"
"$C" --data-dir d device deactivate "$(thumb p1.pem)" >/dev/null
[ "$(call p1)" = 403 ] && ok || bad "deactivated refused"
"$C" --data-dir d device activate "$(thumb p1.pem)" >/dev/null
[ "$(call p1)" = 200 ] && ok || bad "activated again"

# Token exchange (RFC 8705): the mTLS identity for an AccessToken bound to the certificate.
x5t_s256() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n'; }
verify() { "$C" --data-dir d token verify "$1" --certificate d/authz/default/cert.pem --json ${2:+--audience "$2"}; }
[ "$(call p1 '' /device/v1/token POST)" = 200 ] && ok || bad "token for an admitted device: $(cat body.json)"
[ "$(jq -r .token_type body.json)" = Bearer ] && [ "$(jq -r .expires_in body.json)" -gt 3500 ] && ok || bad "Bearer, about an hour: $(cat body.json)"
token=$(jq -r .access_token body.json)
verify "$token" > claims.json && ok || bad "castellan token verify accepts it: $(cat claims.json)"
[ "$(jq -r .certificate_binding claims.json)" = "$(x5t_s256 p1.pem)" ] && ok || bad "cnf x5t#S256 is the client certificate's: $(cat claims.json)"
[ "$(jq -c .roles claims.json)" = '["Operator"]' ] && ok || bad "roles from the Thumbprint rule: $(jq -c .roles claims.json)"
[ "$(jq -r .client_id claims.json)" = pump ] && [ "$(jq -r .subject claims.json)" = "CN=pump" ] && ok || bad "client ID and subject: $(cat claims.json)"
app_uri=$(jq -r '.audience[0]' claims.json)
[ "$(call p2 pump-2 /device/v1/token POST "grant_type=client_credentials&audience=$app_uri")" = 200 ] && ok || bad "audience as a form parameter: $(cat body.json)"
verify "$(jq -r .access_token body.json)" > claims2.json && [ "$(jq -c .roles claims2.json)" = '[]' ] \
  && [ "$(jq -r .certificate_binding claims2.json)" = "$(x5t_s256 p2.pem)" ] && [ "$(jq -r .client_id claims2.json)" = pump-2 ] \
  && ok || bad "another device: no rule, no roles, its own binding and client ID: $(cat claims2.json)"
[ "$(call p1 '' "/device/v1/token?audience=urn:nobody" POST)" = 400 ] && grep -q BadInvalidArgument body.json && ok || bad "unknown audience: $(cat body.json)"
[ "$(call p1 '' /device/v1/token POST 'grant_type=password')" = 400 ] && ok || bad "unsupported grant type: $(cat body.json)"
[ "$(call p1 '' /device/v1/token POST 'audience=%zz')" = 400 ] && ok || bad "bad escape: $(cat body.json)"
[ "$(call dev1 '' /device/v1/token POST)" = 403 ] && grep -q BadCertificateRevoked body.json && ok || bad "revoked: no token: $(cat body.json)"
[ "$(call stranger '' /device/v1/token POST)" = 403 ] && ok || bad "unknown CA: no token: $(cat body.json)"
[ "$(call p1 '' /device/v1/token GET)" = 501 ] && ok || bad "GET on the token route"
"$C" --data-dir d audit --action authz.access_token --json > audit.json
[ "$(jq '[.[] | select(.action == "authz.access_token_issued")] | length' audit.json)" = 2 ] \
  && [ "$(jq '[.[] | select(.action == "authz.access_token_requested" and .result == "BadNotFound")] | length' audit.json)" = 1 ] \
  && ok || bad "issued and refused tokens are audited: $(head -c 600 audit.json)"
[ "$(call p1 '' /device/v1/nope)" = 404 ] && ok || bad "unknown route"
[ "$(call p1 '' /device/v1/whoami DELETE)" = 501 ] && ok || bad "wrong method"
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1" --cert p1.pem --key p1.key.pem \
  -H "X-Big: $big" "https://localhost:$port/device/v1/whoami")
[ "$code" = 413 ] && ok || bad "oversized headers got HTTP $code"

# a burst of 50 sign-ups: 15 admitted in the first second, 429 for the rest, all in on retry
for i in $(seq -w 1 50); do issue "burst$i" "b$i"; done
before=$(registered_total)
for i in $(seq -w 1 50); do (c=$(call "b$i" "" /device/v1/whoami GET 2>/dev/null); echo "$c" > "code-$i") & done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null
first=$(grep -l '^200$' code-* | wc -l)
limited=$(grep -l '^429$' code-* | wc -l)
echo "burst: $first admitted, $limited answered 429 in the first wave"
[ "$first" -ge 10 ] && [ "$first" -le 35 ] && [ $((first + limited)) = 50 ] && ok || bad "first wave: $first admitted, $limited limited"
for round in $(seq 10); do
  left=0
  for i in $(seq -w 1 50); do
    grep -q '^200$' "code-$i" && continue
    call "b$i" > "code-$i" || true
    grep -q '^200$' "code-$i" || left=$((left + 1))
  done
  [ "$left" = 0 ] && break
  sleep 1
done
[ "$(registered_total)" = $((before + 50)) ] && ok || bad "all 50 registered after retries, none lost"

"$C" --data-dir d device show "$(thumb p1.pem)" --json | grep -q '"edge": "mtls"' && ok || bad "associated clients record the mTLS edge"

summary mtls
