#!/usr/bin/env bash
# The authorization service's admin routes (/api/v1/authz) as its administrators meet them:
# curl against `castellan serve` with both the admin API and the OPC UA endpoint on loopback.
# Services (list, show with the ServiceCertificate, create with the CLI's validation), identity
# mapping rules (add, list, remove), refresh tokens (list without secrets, revoke), recent token
# requests made by `castellan token request`, the audit record of every change, and the roles
# (Part 12 Table 142): AuthorizationServiceAdmin changes, SecurityAdmin reads and revokes.
# Usage: authz_api_test.sh CASTELLAN
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "${failed:-0}" -ne 0 ] && { echo "--- castellan.log"; tail -30 "$work/castellan.log"; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export CASTELLAN_ADMIN_PASSWORD='admin-pass-0123'
PW='user-pass-0123'
json() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); const r=($2); console.log(typeof r==='object'?JSON.stringify(r):r)"; }

"$C" init --data-dir d >/dev/null || { bad "init"; exit 1; }
declare -A TOKEN
for r in Observer SecurityAdmin AuthorizationServiceAdmin; do
  "$C" --data-dir d user add "u-$r" --role "$r" --password "$PW" >/dev/null || bad "user add u-$r"
  "$C" --data-dir d --json user token create "u-$r" --role "$r" --expires 1d > t.json || bad "token for u-$r"
  TOKEN[$r]=$(json t.json j.token)
done
ASA=${TOKEN[AuthorizationServiceAdmin]}; SEC=${TOKEN[SecurityAdmin]}; OBS=${TOKEN[Observer]}
"$C" --data-dir d user add alice --password 'alice password 1' --role Operator >/dev/null
# The application that asks for tokens: a certificate the trust list holds.
openssl req -x509 -newkey rsa:2048 -nodes -keyout app.key -out app.pem -days 30 -subj "/CN=Line 7 HMI" \
  -addext "subjectAltName=URI:urn:plant:hmi7,DNS:localhost" \
  -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
  -addext "extendedKeyUsage=clientAuth,serverAuth" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
"$C" --data-dir d trust add app.pem >/dev/null || bad "trust the requesting application"

port=$(free_port); ua_port=$(free_port)
url="opc.tcp://127.0.0.1:$ua_port"
"$C" --data-dir d --set admin.listen=127.0.0.1:$port --set ua.listen=127.0.0.1:$ua_port --set ua.allow_anonymous=true --set device.mtls_listen=off \
  serve > castellan.log 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "admin HTTPS API" castellan.log && break; sleep 0.1; done
grep -q "admin HTTPS API" castellan.log && ok || { bad "the admin API did not start"; exit 1; }
base="https://localhost:$port"
CURL=(curl -s --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1")
call() {  # METHOD PATH TOKEN [JSON-BODY] → HTTP status; body in body.json
  local args=("${CURL[@]}" -o body.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(--data-binary "$4" -H "Content-Type: application/json")
  "${args[@]}" "$base$2"
}
code() { json body.json 'j.error ? j.error.code : "none"'; }
audit_count() {  # ACTION TARGET → how many records (read as SecurityAdmin)
  call GET "/api/v1/audit?action=$1&target=$2" "$SEC" >/dev/null
  json body.json "j.items.filter(a=>a.actor.startsWith('u-')).length"
}

# --- services -------------------------------------------------------------------------------------
[ "$(call GET /api/v1/authz/services "$SEC")" = 200 ] && [ "$(json body.json 'j.map(s=>s.name).join()')" = default ] && ok \
  || bad "SecurityAdmin lists the services: $(cat body.json)"
[ "$(call GET /api/v1/authz/services "$OBS")" = 403 ] && grep -q "AuthorizationServiceAdmin or SecurityAdmin" body.json && ok \
  || bad "Observer may not read the services, and the 403 names both roles: $(cat body.json)"
call GET /api/v1/authz/services "$ASA" >/dev/null
listed_thumb=$(json body.json 'j[0].certificate_thumbprint')
[ "$(call GET /api/v1/authz/services/default "$ASA")" = 200 ] && ok || bad "show default: $(cat body.json)"
json body.json j.certificate_pem > service.pem
[ "$(thumb service.pem)" = "$listed_thumb" ] && [ "$(thumb service.pem)" = "$(thumb d/authz/default/cert.pem)" ] && ok \
  || bad "the ServiceCertificate PEM and its thumbprint ($listed_thumb)"
[ "$(call GET /api/v1/authz/services/nobody "$ASA")" = 404 ] && [ "$(code)" = BadNotFound ] && ok || bad "unknown service: $(cat body.json)"
[ "$(call POST /api/v1/authz/services "$SEC" '{"name":"line7"}')" = 403 ] && ok || bad "SecurityAdmin may not create a service"
[ "$(call POST /api/v1/authz/services "$ASA" '{"name":"line7","algorithm":"HS256"}')" = 400 ] && [ "$(code)" = BadInvalidArgument ] \
  && grep -q "ES256, RS256 or PS256" body.json && ok || bad "an unknown algorithm is refused: $(cat body.json)"
[ "$(call POST /api/v1/authz/services "$ASA" '{"name":"line 7"}')" = 400 ] && ok || bad "a bad name is refused"
[ "$(call POST /api/v1/authz/services "$ASA" '{"name":"line7","token_lifetime_s":10}')" = 400 ] && grep -q "60 s to 24 h" body.json \
  && ok || bad "a too short lifetime is refused: $(cat body.json)"
[ ! -e d/authz/line7 ] && ok || bad "refused requests leave no key behind"
[ "$(call POST /api/v1/authz/services "$ASA" '{"name":"line7","algorithm":"PS256","resources":["urn:plant:plc7"],"token_lifetime_s":600}')" = 201 ] \
  && [ "$(json body.json j.algorithm)" = PS256 ] && [ "$(json body.json 'j.resources.join()')" = urn:plant:plc7 ] \
  && [ "$(json body.json j.token_lifetime_s)" = 600 ] && [[ "$(json body.json j.service_uri)" == *:authz:line7 ]] && ok \
  || bad "create a service: $(head -c 400 body.json)"
[ "$(stat -c %a d/authz/line7/private/key.pem)" = 600 ] && ok || bad "the new signing key is 0600"
[ "$(call POST /api/v1/authz/services "$ASA" '{"name":"line7"}')" != 201 ] && [ "$(code)" = BadBrowseNameDuplicated ] && ok \
  || bad "a duplicate service is refused: $(cat body.json)"
[ "$("$C" --json --data-dir d authz service list | jq -r 'map(.name) | sort | join(",")')" = "default,line7" ] && ok || bad "the CLI sees the new service"
[ "$(audit_count authz.service_add line7)" = 1 ] && ok || bad "audit record for authz.service_add"

# --- identity mapping rules ------------------------------------------------------------------------
[ "$(call POST /api/v1/authz/rules "$SEC" '{"role":"Operator","criteria_type":"UserName","criteria":"alice"}')" = 403 ] && ok \
  || bad "SecurityAdmin may not add rules"
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Operator","criteria_type":"Nickname","criteria":"alice"}')" = 400 ] \
  && grep -q "TrustedApplication" body.json && ok || bad "an unknown criteria type is refused: $(cat body.json)"
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Operator","criteria_type":"UserName"}')" = 400 ] && grep -q "needs a criteria value" body.json \
  && ok || bad "UserName needs a value: $(cat body.json)"
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Observer","criteria_type":"AuthenticatedUser","criteria":"x"}')" = 400 ] && ok \
  || bad "AuthenticatedUser takes no value"
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Operator","criteria_type":"UserName","criteria":"alice","extra":1}')" = 400 ] && ok \
  || bad "unknown fields are refused"
[ "$("$C" --json --data-dir d authz rule list | jq length)" = 0 ] && ok || bad "refused rules add nothing"
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Operator","criteria_type":"UserName","criteria":"alice"}')" = 201 ] \
  && [ "$(json body.json j.criteria_type)" = UserName ] && ok || bad "add a rule: $(cat body.json)"
rule_id=$(json body.json j.id)
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Observer","criteria_type":"authenticateduser"}')" = 201 ] && ok || bad "criteria types are case-insensitive"
observer_rule=$(json body.json j.id)
[ "$(call POST /api/v1/authz/rules "$ASA" '{"role":"Engineer","criteria_type":"Application","criteria":"urn:plant:plc9"}')" = 201 ] && ok || bad "Application rule"
[ "$(call GET /api/v1/authz/rules "$SEC")" = 200 ] && [ "$(json body.json 'j.map(r=>r.role+":"+r.criteria_type+":"+r.criteria).join()')" \
  = "Operator:UserName:alice,Observer:AuthenticatedUser:,Engineer:Application:urn:plant:plc9" ] && ok || bad "list rules: $(cat body.json)"
[ "$("$C" --json --data-dir d authz rule list | jq -r '.[0].criteria')" = alice ] && ok || bad "the CLI sees the rule"
[ "$(audit_count authz.rule_add "$rule_id")" = 1 ] && ok || bad "audit record for authz.rule_add"
[ "$(call DELETE "/api/v1/authz/rules/$observer_rule" "$SEC")" = 403 ] && ok || bad "SecurityAdmin may not remove rules"
[ "$(call DELETE "/api/v1/authz/rules/$observer_rule" "$ASA")" = 200 ] && ok || bad "remove a rule: $(cat body.json)"
[ "$(call DELETE "/api/v1/authz/rules/$observer_rule" "$ASA")" = 404 ] && [ "$(code)" = BadNotFound ] && ok || bad "remove it again"
[ "$(call DELETE /api/v1/authz/rules/abc "$ASA")" = 404 ] && ok || bad "a rule id that is no number"
[ "$(audit_count authz.rule_remove "$observer_rule")" = 1 ] && ok || bad "audit record for authz.rule_remove"

# --- a token request, seen in the API --------------------------------------------------------------
for _ in $(seq 50); do "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && break; sleep 0.2; done
r=$("$C" --json --data-dir d token request --url "$url" --cert app.pem --key app.key --as-user alice --as-password 'alice password 1' 2>&1)
[ -n "$(jq -r '.refresh_token // empty' <<<"$r" 2>/dev/null)" ] && ok || bad "castellan token request: $r"
r=$("$C" --json --data-dir d token request --url "$url" --cert app.pem --key app.key --as-user alice --as-password 'wrong password' 2>&1)
[ "$(call GET /api/v1/authz/token-requests "$OBS")" = 403 ] && ok || bad "Observer may not read token requests"
# Decisions reach the audit log through its writer queue: give them a moment.
for _ in $(seq 30); do
  call GET "/api/v1/authz/token-requests?action=authz.access_token" "$SEC" >/dev/null
  [ "$(json body.json "j.items.filter(t=>t.result!=='Good').length")" -ge 1 ] && break
  sleep 0.1
done
[ "$(json body.json "j.items.filter(t=>t.actor==='alice' && t.result==='Good' && t.application==='urn:plant:hmi7' && t.roles_granted.join()==='Operator').length")" = 1 ] \
  && ok || bad "the issued token: who, application, roles granted: $(head -c 600 body.json)"
[ "$(json body.json "j.items.filter(t=>t.result==='BadIdentityTokenRejected').length")" -ge 1 ] && ok || bad "the refused request (wrong password) is listed too: $r $(head -c 600 body.json)"
[ "$(call GET "/api/v1/authz/token-requests?limit=1" "$ASA")" = 200 ] && [ "$(json body.json j.items.length)" = 1 ] && [ "$(json body.json 'j.next !== null')" = true ] \
  && ok || bad "paged: $(head -c 300 body.json)"
next=$(json body.json j.next); first=$(json body.json j.items[0].id)
[ "$(call GET "/api/v1/authz/token-requests?limit=1&after=$next" "$ASA")" = 200 ] && [ "$(json body.json "j.items[0].id < $first")" = true ] && ok || bad "the next page is older"
[ "$(call GET "/api/v1/authz/token-requests?action=trust." "$ASA")" = 400 ] && ok || bad "token requests stay inside authz."
[ "$(call GET "/api/v1/authz/token-requests?limit=0" "$ASA")" = 400 ] && ok || bad "limit 0 is refused"

# --- refresh tokens ---------------------------------------------------------------------------------
[ "$(call GET /api/v1/authz/refresh-tokens "$SEC")" = 200 ] && [ "$(json body.json "j.filter(t=>t.subject==='alice' && t.state==='active').length")" = 1 ] \
  && ok || bad "list refresh tokens: $(head -c 400 body.json)"
grep -qi "secret" body.json && bad "a refresh token list never carries a secret: $(head -c 400 body.json)" || ok
token_id=$(json body.json "j.find(t=>t.subject==='alice').id")
[ "$(call GET "/api/v1/authz/refresh-tokens?subject=nobody" "$ASA")" = 200 ] && [ "$(json body.json j.length)" = 0 ] && ok || bad "filter by subject"
[ "$(call POST /api/v1/authz/refresh-tokens/revoke "$OBS" "{\"id\":\"$token_id\"}")" = 403 ] && ok || bad "Observer may not revoke"
[ "$(call POST /api/v1/authz/refresh-tokens/revoke "$SEC" '{}')" = 400 ] && ok || bad "revoke needs id or subject"
[ "$(call POST /api/v1/authz/refresh-tokens/revoke "$SEC" "{\"id\":\"$token_id\",\"subject\":\"alice\"}")" = 400 ] && ok || bad "not both"
[ "$(call POST /api/v1/authz/refresh-tokens/revoke "$SEC" "{\"id\":\"$token_id\"}")" = 200 ] && [ "$(json body.json j.revoked)" = 1 ] && ok \
  || bad "SecurityAdmin revokes: $(cat body.json)"
[ "$(call POST /api/v1/authz/refresh-tokens/revoke "$ASA" '{"subject":"alice"}')" = 404 ] && ok || bad "nothing live is left: $(cat body.json)"
[ "$(call GET "/api/v1/authz/refresh-tokens?subject=alice" "$ASA")" = 200 ] && [ "$(json body.json 'j[0].state')" = revoked ] && ok || bad "revoked state"
[ "$(audit_count authz.refresh_token_revoked "$token_id")" = 1 ] && ok || bad "audit record for the revocation"

# --- the audit log: AuthorizationServiceAdmin reads authz.* only ----------------------------------------
[ "$(call GET /api/v1/audit "$ASA")" = 200 ] && [ "$(json body.json 'j.items.length > 0 && j.items.every(a=>a.action.startsWith("authz."))')" = true ] \
  && ok || bad "AuthorizationServiceAdmin reads the authz.* records: $(head -c 300 body.json)"
[ "$(call GET "/api/v1/audit?action=trust." "$ASA")" = 403 ] && ok || bad "but not the rest"
[ "$(call GET "/api/v1/audit/export" "$ASA")" = 200 ] && ! grep -v '"action":"authz\.' body.json | grep -q . && ok || bad "export: authz.* only"
[ "$(call GET /api/v1/audit "$SEC")" = 200 ] && [ "$(json body.json 'j.items.some(a=>!a.action.startsWith("authz."))')" = true ] && ok \
  || bad "SecurityAdmin reads everything"

kill -TERM "$server"; wait "$server"; server=""
summary http_authz_api
