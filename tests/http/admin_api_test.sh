#!/usr/bin/env bash
# The admin HTTPS API as administrators and scripts meet it: curl against `castellan serve` on a
# loopback port of its own. Covers health, authentication (Basic, Bearer, refused, rate limited),
# the role table (every documented route as every role), the trust round trip with its audit
# records, bad input changing nothing, the PKI archive, the OpenAPI walk, metrics, SIGTERM.
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

# json FILE EXPR: evaluates a JS expression on the parsed file (`j`), prints the result.
json() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); const r=($2); console.log(typeof r==='object'?JSON.stringify(r):r)"; }

"$C" init --data-dir d > init.txt || { bad "init"; exit 1; }
grep -q "administrator: admin (password from CASTELLAN_ADMIN_PASSWORD)" init.txt && ok || bad "init names the first administrator: $(cat init.txt)"

# One user per role (and one with none), each with an API token carrying that role.
roles="Observer Operator Engineer Supervisor ConfigureAdmin SecurityAdmin AuthorizationServiceAdmin"
declare -A TOKEN
for r in $roles; do
  "$C" --data-dir d user add "u-$r" --role "$r" --password "$PW" >/dev/null || bad "user add u-$r"
  "$C" --data-dir d --json user token create "u-$r" --role "$r" --expires 1d > t.json || bad "token for u-$r"
  TOKEN[$r]=$(json t.json j.token)
done
"$C" --data-dir d user add plain --password "$PW" >/dev/null || bad "user add plain"
"$C" --data-dir d --json user token create admin --role SecurityAdmin --role ConfigureAdmin --expires 1d > t.json
ADMIN=$(json t.json j.token)
SEC=${TOKEN[SecurityAdmin]}

port=$(free_port)
"$C" --data-dir d --set admin.listen=127.0.0.1:$port --set admin.timeout_seconds=3 --set ua.listen=off --set device.mtls_listen=off \
  serve > castellan.log 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "admin HTTPS API" castellan.log && break; sleep 0.1; done
grep -q "admin HTTPS API" castellan.log && ok || { bad "the admin API did not start"; exit 1; }
grep -q "not served yet: admin" castellan.log && bad "the 'not served yet' warning for admin HTTPS is gone" || ok
base="https://localhost:$port"
CURL=(curl -s --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1")

# call METHOD PATH [AUTH] [DATA-FILE] [CONTENT-TYPE] → HTTP status; body in body.json, headers in headers.txt.
# AUTH: "bearer:<token>", "basic:<user>:<password>", or "" for none.
call() {
  local args=("${CURL[@]}" -o body.json -D headers.txt -w '%{http_code}' -X "$1")
  case "${3:-}" in
    bearer:*) args+=(-H "Authorization: Bearer ${3#bearer:}") ;;
    basic:*) args+=(-u "${3#basic:}") ;;
  esac
  [ -n "${4:-}" ] && args+=(--data-binary "@$4" -H "Content-Type: ${5:-application/json}")
  "${args[@]}" "$base$2"
}
code() { json body.json 'j.error ? j.error.code : "none"'; }

# --- health ---------------------------------------------------------------------------------
[ "$(call GET /healthz)" = 200 ] && grep -q '"ok"' body.json && ok || bad "healthz"
[ "$(call GET /readyz)" = 200 ] && grep -q '"ready"' body.json && ok || bad "readyz"
n=$("${CURL[@]}" -v "$base/healthz" "$base/readyz" 2>&1 | grep -ci "re-using existing connection")
[ "$n" -ge 1 ] && ok || bad "HTTP/1.1 keep-alive: the second request reuses the connection"

# A slow client (headers never finished) is dropped after admin.timeout_seconds.
took=$(node -e "
const s=require('tls').connect({port:$port,host:'127.0.0.1',rejectUnauthorized:false},()=>s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
const t=Date.now(); s.on('close',()=>{console.log(Math.round((Date.now()-t)/1000));process.exit()}); s.on('error',()=>{}); setTimeout(()=>{console.log('open');process.exit()},10000)")
[ "$took" != open ] && [ "$took" -ge 2 ] && [ "$took" -le 5 ] && ok || bad "a slow client is dropped after the timeout (took: $took)"

# --- authentication -------------------------------------------------------------------------
[ "$(call GET /api/v1/users)" = 401 ] && [ "$(code)" = BadIdentityTokenInvalid ] && ok || bad "no credentials: $(cat body.json)"
grep -qi "^www-authenticate: Bearer" headers.txt && ok || bad "401 names the schemes"
[ "$(call GET /api/v1/users basic:admin:wrong-password)" = 401 ] && [ "$(code)" = BadUserAccessDenied ] && ok || bad "wrong password: $(cat body.json)"
[ "$(call GET /api/v1/users basic:nobody:wrong-password)" = 401 ] && grep -q "wrong user name or password" body.json && ok || bad "unknown user, same answer"
[ "$(call GET /api/v1/users bearer:garbage)" = 401 ] && [ "$(code)" = BadIdentityTokenInvalid ] && ok || bad "malformed token"
[ "$(call GET /api/v1/users "bearer:${SEC%?}x")" = 401 ] && [ "$(code)" = BadIdentityTokenRejected ] && ok || bad "tampered token"
[ "$(call GET /api/v1/users "basic:admin:$CASTELLAN_ADMIN_PASSWORD")" = 200 ] && ok || bad "Basic as admin: $(cat body.json)"
[ "$(call GET /api/v1/users "bearer:$SEC")" = 200 ] && ok || bad "Bearer as SecurityAdmin"
[ "$(call GET /api/v1/users "bearer:${TOKEN[Observer]}")" = 403 ] && [ "$(code)" = BadUserAccessDenied ] && ok || bad "Observer on users: $(cat body.json)"
grep -q "needs the role SecurityAdmin" body.json && ok || bad "403 names the role needed"
[ "$(call GET /api/v1/me "bearer:${TOKEN[Observer]}")" = 200 ] && [ "$(json body.json j.name)" = u-Observer ] && [ "$(json body.json j.method)" = token ] && ok || bad "me"
"$C" --data-dir d --json user token create u-Observer --role Observer --expires 1s > t.json
short=$(json t.json j.token)
sleep 2
[ "$(call GET /api/v1/me "bearer:$short")" = 401 ] && grep -q expired body.json && ok || bad "expired token: $(cat body.json)"
"$C" --data-dir d --json user token create u-Observer --role Observer --expires 1h > t.json
doomed=$(json t.json j.token); doomed_id=$(json t.json j.id)
[ "$(call GET /api/v1/me "bearer:$doomed")" = 200 ] && ok || bad "fresh token works"
"$C" --data-dir d user token revoke "$doomed_id" >/dev/null
[ "$(call GET /api/v1/me "bearer:$doomed")" = 401 ] && grep -q revoked body.json && ok || bad "revoked (by the CLI) refused at once: $(cat body.json)"

# Failed logins are rate limited per user and source, then refused without a password check.
"$C" --data-dir d user add victim --role Observer --password "$PW" >/dev/null
for i in 1 2 3 4 5; do call GET /api/v1/me basic:victim:wrong-$i >/dev/null; done
[ "$(call GET /api/v1/me "basic:victim:$PW")" = 429 ] && [ "$(code)" = BadTooManyOperations ] && ok || bad "rate limited: $(cat body.json)"
[ "$(call GET "/api/v1/audit?target=victim&result=BadTooManyOperations" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.items.length)" -ge 1 ] && ok || bad "rate-limited login audited"
[ "$(call GET "/api/v1/audit?target=victim&action=user.login&result=BadUserAccessDenied" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.items.length)" = 5 ] && ok || bad "each failed login audited: $(cat body.json | head -c 300)"

# --- the role table: every documented route as every role -------------------------------------
[ "$(call GET /api/v1/openapi.json)" = 200 ] && ok || bad "openapi.json without authentication"
cp body.json openapi.json
# Placeholders that name nothing: allowed calls answer 400/404 and change nothing.
json openapi.json "Object.entries(j.paths).flatMap(([p,ops])=>Object.entries(ops).map(([m,o])=>[m.toUpperCase(),
  p.replace('{thumbprint}','0000000000000000000000000000000000000000').replace('{name}','nobody-here').replace('{id}','0000000000000000').replace('{key}','no.such_key'),
  o['x-castellan-role'], o.requestBody ? (o.requestBody.content['application/json'] ? 'json' : 'pem') : 'none'].join(' '))).join('\n')" > routes.txt
echo '{}' > empty.json; echo 'not a certificate' > junk.pem
routes_n=$(wc -l < routes.txt)
[ "$routes_n" -ge 47 ] && ok || bad "the document lists $routes_n operations"
allowed() {  # allowed ROLE-OF-CALLER REQUIRED
  case "$2" in
    Anonymous) return 0 ;;
    AuthenticatedUser) [ "$1" != anonymous ] ;;
    Observer) [ "$1" != anonymous ] && [ "$1" != plain ] ;;
    *) [ "$1" = "$2" ] ;;
  esac
}
table_bad=0
while read -r method path required body; do
  for who in anonymous plain $roles; do
    case $who in
      anonymous) auth="" ;;
      plain) auth="basic:plain:$PW" ;;
      *) auth="bearer:${TOKEN[$who]}" ;;
    esac
    data=""; [ "$body" = json ] && data=empty.json; [ "$body" = pem ] && data=junk.pem
    got=$(call "$method" "$path" "$auth" "$data" "$([ "$body" = pem ] && echo application/x-pem-file || echo application/json)")
    if allowed "$who" "$required"; then
      case $got in 401|403|405) echo "role table: $who $method $path → $got (should be allowed): $(head -c 200 body.json)" >&2; table_bad=$((table_bad + 1)) ;; esac
    else
      want=403; [ "$who" = anonymous ] && want=401
      [ "$got" = "$want" ] || { echo "role table: $who $method $path → $got (want $want)" >&2; table_bad=$((table_bad + 1)); }
    fi
  done
done < routes.txt
[ "$table_bad" = 0 ] && ok || bad "role table: $table_bad of $((routes_n * 9)) calls wrong"
echo "role table: $routes_n routes × 9 callers"

# --- OpenAPI: every documented route is served, every served route documented -------------------
walk_bad=0
while read -r method path required body; do
  data=""; [ "$body" = json ] && data=empty.json; [ "$body" = pem ] && data=junk.pem
  got=$(call "$method" "$path" "bearer:$ADMIN" "$data")
  if [ "$got" = 405 ] || { [ "$got" = 404 ] && grep -q "no such route" body.json; }; then
    echo "openapi walk: $method $path → $got" >&2; walk_bad=$((walk_bad + 1))
  fi
done < routes.txt
[ "$walk_bad" = 0 ] && ok || bad "openapi walk: $walk_bad documented routes not served"
for expected in "GET /healthz" "GET /readyz" "GET /metrics" "GET /api/v1/openapi.json" \
  "GET /api/v1/trust/certificates" "POST /api/v1/trust/certificates" "GET /api/v1/trust/certificates/{thumbprint}" \
  "POST /api/v1/trust/certificates/{thumbprint}/approve" "POST /api/v1/trust/certificates/{thumbprint}/reject" \
  "DELETE /api/v1/trust/certificates/{thumbprint}" "GET /api/v1/trust/crls" "POST /api/v1/trust/crls" "GET /api/v1/trust/export" \
  "POST /api/v1/trust/verify" "GET /api/v1/users" "POST /api/v1/users" "DELETE /api/v1/users/{name}" \
  "PUT /api/v1/users/{name}/password" "PUT /api/v1/users/{name}/roles" "GET /api/v1/roles" "GET /api/v1/tokens" \
  "POST /api/v1/tokens" "DELETE /api/v1/tokens/{id}" "GET /api/v1/audit" "GET /api/v1/audit/export" "GET /api/v1/config" \
  "GET /api/v1/cas" "POST /api/v1/cas" "GET /api/v1/cas/{id}" "POST /api/v1/cas/{id}/activate" "POST /api/v1/cas/{id}/deactivate" \
  "DELETE /api/v1/cas/{id}" "GET /api/v1/devices" "POST /api/v1/devices" "GET /api/v1/devices/{id}" \
  "POST /api/v1/devices/{id}/activate" "POST /api/v1/devices/{id}/deactivate" "POST /api/v1/devices/{id}/revoke" \
  "DELETE /api/v1/devices/{id}" "PATCH /api/v1/config" "PUT /api/v1/config/{key}" "GET /api/v1/sessions" \
  "DELETE /api/v1/sessions/{id}" "GET /api/v1/connections"; do
  m=${expected%% *}; p=${expected#* }
  [ "$(json openapi.json "j.paths['$p'] && j.paths['$p']['${m,,}'] ? 'yes' : 'no'")" = yes ] || bad "served route $expected missing from the document"
done
ok
[ "$(call GET /api/v1/nope "bearer:$ADMIN")" = 404 ] && [ "$(code)" = BadNotFound ] && ok || bad "an undocumented path is not served"
[ "$(call PATCH /api/v1/users "bearer:$ADMIN")" = 405 ] && grep -qi "^allow: GET, POST" headers.txt && ok || bad "wrong method: 405 with Allow"

# --- trust round trip, with an audit record for each change --------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout app.key -out app.pem -days 30 -subj "/CN=Line 7 HMI/O=Plant" \
  -addext "subjectAltName=URI:urn:plant:hmi7" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout app2.key -out app2.pem -days 30 -subj "/CN=Historian" 2>/dev/null
long_cn=$(printf 'Long%.0s' $(seq 16))  # 64 characters: the archive needs a pax record for the name
openssl req -x509 -newkey rsa:2048 -nodes -keyout app4.key -out app4.pem -days 30 -subj "/CN=$long_cn" 2>/dev/null
cat app.pem app2.pem app4.pem > bundle.pem
openssl x509 -in app2.pem -outform DER -out app2.der
openssl req -x509 -newkey rsa:2048 -nodes -keyout app3.key -out app3.pem -days 30 -subj "/CN=Stranger" 2>/dev/null
tp=$(thumb app.pem); tp2=$(thumb app2.pem)
[ "$(call POST /api/v1/trust/certificates "bearer:$SEC" app.pem application/x-pem-file)" = 201 ] && [ "$(json body.json j.changed[0].thumbprint)" = "$tp" ] && ok || bad "import PEM: $(cat body.json)"
[ "$(call POST /api/v1/trust/certificates "bearer:$SEC" app.pem application/x-pem-file)" = 409 ] && [ "$(code)" = BadEntryExists ] && ok || bad "import twice: $(cat body.json)"
[ "$(call POST "/api/v1/trust/certificates?state=issuer" "bearer:$SEC" app2.der application/pkix-cert)" = 201 ] && [ "$(json body.json j.changed[0].state)" = issuer ] && ok || bad "import DER to issuers: $(cat body.json)"
[ "$(call GET "/api/v1/trust/certificates?state=trusted&q=hmi" "bearer:${TOKEN[Observer]}")" = 200 ] && [ "$(json body.json j.length)" = 1 ] && ok || bad "list with filters: $(cat body.json)"
[ "$(call GET "/api/v1/trust/certificates/$(echo "$tp" | tr A-F a-f)" "bearer:${TOKEN[Observer]}")" = 200 ] && grep -q "BEGIN CERTIFICATE" body.json && [ "$(json body.json j.certificate.san_uris[0])" = urn:plant:hmi7 ] && ok || bad "show: $(head -c 300 body.json)"
[ "$(call POST "/api/v1/trust/certificates/$tp/reject" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.state)" = rejected ] && ok || bad "reject: $(cat body.json)"
[ -n "$(ls d/pki/rejected/certs | grep "$tp")" ] && ok || bad "the pki/ folder follows an API change"
[ "$(call POST "/api/v1/trust/certificates/$tp/approve" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.state)" = trusted ] && ok || bad "approve: $(cat body.json)"
[ "$(call POST "/api/v1/trust/certificates/$tp/approve" "bearer:$SEC")" != 200 ] && ok || bad "approving a trusted certificate is refused"
[ "$(call DELETE "/api/v1/trust/certificates/$tp" "bearer:$SEC")" = 200 ] && ok || bad "remove: $(cat body.json)"
[ "$(call GET "/api/v1/trust/certificates/$tp" "bearer:$SEC")" = 404 ] && [ "$(code)" = BadNotFound ] && ok || bad "removed is gone"
actor="u-SecurityAdmin (token $(json <("$C" --data-dir d --json user token list --user u-SecurityAdmin) 'j[0].id'))"
for action in trust.add trust.reject trust.approve trust.remove; do
  [ "$(call GET "/api/v1/audit?action=$action&target=$tp" "bearer:$SEC")" = 200 ] || bad "audit query"
  [ "$(json body.json "j.items.filter(a=>a.actor==='$actor' && a.source==='127.0.0.1' && a.result==='Good').length")" -ge 1 ] && ok || bad "audit record for $action by '$actor': $(head -c 400 body.json)"
done
[ "$(call POST "/api/v1/trust/certificates" "bearer:$SEC" bundle.pem application/x-pem-file)" = 201 ] && [ "$(json body.json j.changed.length)" = 3 ] && ok || bad "a bundle imports many (and moves the issuer to trusted): $(cat body.json)"
"$C" --data-dir d ca create --cn "Plant CA" --no-register >/dev/null
[ "$(call POST "/api/v1/trust/certificates?state=issuer" "bearer:$SEC" d/ca/ca.pem application/x-pem-file)" = 201 ] && ok || bad "import the CA"
mkdir -p ca/newcerts && touch ca/index.txt && echo 01 > ca/crlnumber
printf '[ca]\ndefault_ca=c\n[c]\ndatabase=ca/index.txt\nnew_certs_dir=ca/newcerts\ncrlnumber=ca/crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n' > ca.cnf
openssl ca -config ca.cnf -cert d/ca/ca.pem -keyfile d/ca/private/ca.key.pem -gencrl -out ca.crl >/dev/null 2>&1
[ "$(call POST /api/v1/trust/crls "bearer:$SEC" ca.crl application/x-pem-file)" = 201 ] && ok || bad "import a CRL: $(cat body.json)"
[ "$(call GET /api/v1/trust/crls "bearer:${TOKEN[Operator]}")" = 200 ] && [ "$(json body.json j.length)" = 1 ] && ok || bad "list CRLs"
[ "$(call POST "/api/v1/trust/verify?policy=None&mode=trusted-list" "bearer:${TOKEN[Observer]}" app3.pem application/x-pem-file)" = 200 ] && [ "$(json body.json j.status)" = BadCertificateUntrusted ] && ok || bad "verify (dry run): $(cat body.json)"

# --- the device registry ---------------------------------------------------------------------
ca_tp=$(thumb d/ca/ca.pem)
[ "$(call POST "/api/v1/cas?require_approval=false" "bearer:$SEC" d/ca/ca.pem application/x-pem-file)" = 201 ] && [ "$(json body.json j.id)" = "$ca_tp" ] && ok || bad "register CA: $(cat body.json)"
"$C" --data-dir d cert issue --cn SN0001 --ou line-1 --out dev1 >/dev/null
dev_tp=$(thumb dev1.pem)
[ "$(call POST "/api/v1/devices?client_id=pump-1" "bearer:$SEC" dev1.pem application/x-pem-file)" = 201 ] && [ "$(json body.json j.status)" = activated ] && ok || bad "register device: $(cat body.json)"
[ "$(call GET "/api/v1/devices?ou=line-1&status=activated" "bearer:${TOKEN[Observer]}")" = 200 ] && [ "$(json body.json j.total)" = 1 ] && ok || bad "search devices: $(cat body.json)"
[ "$(call GET "/api/v1/devices?sort=sideways" "bearer:${TOKEN[Observer]}")" = 400 ] && ok || bad "bad sort refused"
[ "$(call POST "/api/v1/devices/$dev_tp/revoke" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.status)" = revoked ] && ok || bad "revoke device"
[ "$(call POST "/api/v1/devices/$dev_tp/activate" "bearer:$SEC")" = 409 ] && ok || bad "revoked is final: $(cat body.json)"
[ "$(call GET "/api/v1/devices/$dev_tp" "bearer:${TOKEN[Observer]}")" = 200 ] && [ "$(json body.json j.client_id)" = pump-1 ] && ok || bad "show device"
[ "$(call POST "/api/v1/cas/$ca_tp/deactivate" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.active)" = false ] && ok || bad "deactivate CA"
[ "$(call GET "/api/v1/audit?action=registry.&actor=$(node -e "console.log(encodeURIComponent('$actor'))")" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.items.length)" -ge 4 ] && ok || bad "registry changes audited: $(head -c 300 body.json)"

# --- the archive in the OPC UA PKI layout ------------------------------------------------------
"${CURL[@]}" -H "Authorization: Bearer ${TOKEN[Observer]}" -o pki.tar "$base/api/v1/trust/export"
tar tf pki.tar > listing.txt 2>&1 && ok || bad "tar reads the archive: $(cat listing.txt)"
for dir in pki/trusted/certs/ pki/trusted/crl/ pki/issuers/certs/ pki/issuers/crl/ pki/rejected/certs/; do
  grep -qx "$dir" listing.txt || bad "archive lacks $dir"
done
grep -q "^pki/trusted/certs/Historian \[$tp2\]\.der$" listing.txt && grep -q "^pki/issuers/certs/Plant_CA .*\.der$" listing.txt && grep -q "^pki/issuers/crl/.*\.crl$" listing.txt && ok || bad "archive entries: $(cat listing.txt)"
grep -q "^pki/trusted/certs/$long_cn \[$(thumb app4.pem)\]\.der$" listing.txt && ok || bad "a long name survives (pax)"
grep -q '\.\.' listing.txt && bad "no '..' in archive names" || ok
mkdir x && tar xf pki.tar -C x && diff -r x/pki d/pki >/dev/null && ok || bad "the archive equals the pki/ folder castellan writes"
openssl x509 -inform DER -in "x/pki/trusted/certs/Historian [$tp2].der" -noout 2>/dev/null && ok || bad "archive files are DER certificates"

# --- bad input: a clear JSON error, nothing changed -------------------------------------------
users_before=$(call GET /api/v1/users "bearer:$SEC" >/dev/null; json body.json j.length)
audit_before=$(call GET "/api/v1/audit?action=user.&limit=1000" "bearer:$SEC" >/dev/null; json body.json j.items.length)
certs_before=$(call GET /api/v1/trust/certificates "bearer:$SEC" >/dev/null; json body.json j.length)
printf '{"name": "eve", "password": ' > malformed.json
[ "$(call POST /api/v1/users "bearer:$SEC" malformed.json)" = 400 ] && [ "$(code)" = BadDecodingError ] && ok || bad "malformed JSON: $(cat body.json)"
echo '{"name": "eve", "password": 12345678}' > wrongtype.json
[ "$(call POST /api/v1/users "bearer:$SEC" wrongtype.json)" = 400 ] && [ "$(code)" = BadTypeMismatch ] && grep -q "'password' must be a string" body.json && ok || bad "wrong type: $(cat body.json)"
echo '{"name": "eve", "password": "long-enough-1", "admin": true}' > unknown.json
[ "$(call POST /api/v1/users "bearer:$SEC" unknown.json)" = 400 ] && grep -q "unknown field 'admin'" body.json && ok || bad "unknown field: $(cat body.json)"
echo '[1, 2]' > array.json
[ "$(call POST /api/v1/users "bearer:$SEC" array.json)" = 400 ] && [ "$(code)" = BadTypeMismatch ] && ok || bad "not an object"
echo '{"name": "eve", "password": "short"}' > short.json
[ "$(call POST /api/v1/users "bearer:$SEC" short.json)" = 400 ] && grep -q "shorter than 8" body.json && ok || bad "password rule: $(cat body.json)"
echo '{"name": "eve", "password": "long-enough-1", "roles": ["Root"]}' > badrole.json
[ "$(call POST /api/v1/users "bearer:$SEC" badrole.json)" = 400 ] && grep -q "unknown role 'Root'" body.json && ok || bad "unknown role"
printf '%.0s[' $(seq 100) > deep.json
[ "$(call POST /api/v1/users "bearer:$SEC" deep.json)" = 400 ] && grep -q "nested deeper" body.json && ok || bad "deep nesting: $(cat body.json)"
head -c 5000000 /dev/zero | tr '\0' 'a' > huge.json
[ "$(call POST /api/v1/users "bearer:$SEC" huge.json)" = 413 ] && [ "$(code)" = BadRequestTooLarge ] && ok || bad "huge body: $(head -c 300 body.json)"
[ "$("${CURL[@]}" -o body.json -w '%{http_code}' -H "Authorization: Bearer $SEC" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$base/api/v1/users")" = 413 ] && ok || bad "huge headers"
[ "$(call POST /api/v1/trust/certificates "bearer:$SEC" junk.pem application/x-pem-file)" = 400 ] && ok || bad "junk certificate: $(cat body.json)"
[ "$(call GET "/api/v1/trust/certificates?state=bogus" "bearer:$SEC")" = 400 ] && ok || bad "bad filter value"
[ "$(call GET "/api/v1/trust/certificates?color=red" "bearer:$SEC")" = 400 ] && grep -q "unknown query parameter 'color'" body.json && ok || bad "unknown query parameter"
[ "$(call GET "/api/v1/trust/certificates/not-a-thumbprint" "bearer:$SEC")" = 400 ] && ok || bad "bad thumbprint"
[ "$("${CURL[@]}" --path-as-is -o body.json -w '%{http_code}' -H "Authorization: Bearer $SEC" "$base/api/v1/trust/../users")" = 400 ] && ok || bad "dot segments refused"
[ "$(call GET "/api/v1/users/%2e%2e" "bearer:$SEC")" = 400 ] && ok || bad "encoded dot segments refused"
[ "$(call GET "/api/v1/audit?limit=0" "bearer:$SEC")" = 400 ] && [ "$(call GET "/api/v1/audit?since=yesterday" "bearer:$SEC")" = 400 ] && ok || bad "bad audit query values"
[ "$(call GET /api/v1/users "bearer:$SEC" >/dev/null; json body.json j.length)" = "$users_before" ] && ok || bad "bad input added users"
[ "$(call GET "/api/v1/audit?action=user.&limit=1000" "bearer:$SEC" >/dev/null; json body.json j.items.length)" = "$audit_before" ] && ok || bad "bad input wrote audit records"
[ "$(call GET /api/v1/trust/certificates "bearer:$SEC" >/dev/null; json body.json j.length)" = "$certs_before" ] && ok || bad "bad input changed the trust lists"

# --- users, roles and tokens over the API ------------------------------------------------------
echo '{"name": "alice", "password": "alice-pass-1", "roles": ["Observer"]}' > alice.json
[ "$(call POST /api/v1/users "bearer:$SEC" alice.json)" = 201 ] && [ "$(json body.json j.name)" = alice ] && ok || bad "add user: $(cat body.json)"
grep -q "argon2\|password_hash" body.json && bad "the hash never leaves castellan" || ok
[ "$(call POST /api/v1/users "bearer:$SEC" alice.json)" = 409 ] && ok || bad "add twice"
[ "$(call GET /api/v1/me basic:alice:alice-pass-1)" = 200 ] && ok || bad "alice logs in"
echo '{"roles": ["Observer", "SecurityAdmin"]}' > roles.json
[ "$(call PUT /api/v1/users/alice/roles "bearer:$SEC" roles.json)" = 200 ] && [ "$(json body.json j.roles.length)" = 2 ] && ok || bad "set roles"
echo '{"password": "alice-pass-2"}' > pw.json
[ "$(call PUT /api/v1/users/alice/password "bearer:$SEC" pw.json)" = 200 ] && ok || bad "set password"
[ "$(call GET /api/v1/me basic:alice:alice-pass-1)" = 401 ] && [ "$(call GET /api/v1/me basic:alice:alice-pass-2)" = 200 ] && ok || bad "the new password replaces the old"
echo '{"user": "alice", "roles": ["SecurityAdmin"], "expires_in": "2h", "description": "ci"}' > tok.json
[ "$(call POST /api/v1/tokens "bearer:$SEC" tok.json)" = 201 ] && ok || bad "create token: $(cat body.json)"
alice_token=$(json body.json j.token); alice_token_id=$(json body.json j.id)
[ "$(call GET /api/v1/tokens?user=alice "bearer:$SEC")" = 200 ] && ! grep -q "$alice_token" body.json && ! grep -q sha256 body.json && ok || bad "token list shows no secrets"
[ "$(call GET /api/v1/users "bearer:$alice_token")" = 200 ] && ok || bad "alice's token works"
echo '{"user": "alice", "roles": ["ConfigureAdmin"]}' > tok2.json
[ "$(call POST /api/v1/tokens "bearer:$SEC" tok2.json)" = 403 ] && ok || bad "no token with a role the owner lacks: $(cat body.json)"
[ "$(call DELETE "/api/v1/tokens/$alice_token_id" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.state)" = revoked ] && ok || bad "revoke"
[ "$(call GET /api/v1/users "bearer:$alice_token")" = 401 ] && ok || bad "revoked token refused"
[ "$(call DELETE /api/v1/users/alice "bearer:$SEC")" = 200 ] && [ "$(call GET /api/v1/me basic:alice:alice-pass-2)" = 401 ] && ok || bad "remove user"
echo '{"roles": []}' > none.json
[ "$(call PUT /api/v1/users/admin/roles "bearer:$SEC" none.json)" = 200 ] && ok || bad "demote admin (another SecurityAdmin exists)"
[ "$(call GET /api/v1/roles "basic:plain:$PW")" = 200 ] && [ "$(json body.json "j.map(r=>r.name).join(',')")" = "Anonymous,AuthenticatedUser,Observer,Operator,Engineer,Supervisor,ConfigureAdmin,SecurityAdmin,AuthorizationServiceAdmin" ] && ok || bad "roles: $(cat body.json)"
for action in user.add user.roles user.passwd user.token.create user.token.revoke user.remove; do
  [ "$(call GET "/api/v1/audit?action=$action" "bearer:$SEC")" = 200 ] && [ "$(json body.json "j.items.filter(a=>a.actor.startsWith('u-SecurityAdmin')).length")" -ge 1 ] && ok || bad "audit record for $action"
done

# --- audit paging and export, configuration -------------------------------------------------
[ "$(call GET "/api/v1/audit?limit=2" "bearer:$SEC")" = 200 ] && [ "$(json body.json j.items.length)" = 2 ] && ok || bad "audit page"
first=$(json body.json j.items[1].id); next=$(json body.json j.next)
[ "$(call GET "/api/v1/audit?limit=2&after=$next" "bearer:$SEC")" = 200 ] && [ "$(json body.json "j.items[0].id < $first")" = true ] && ok || bad "the next page is older"
[ "$(call GET "/api/v1/audit/export?action=trust." "bearer:$SEC")" = 200 ] && ok || bad "audit export"
node -e "const l=require('fs').readFileSync('body.json','utf8').trim().split('\n'); if(l.length<5) throw 1; l.forEach(x=>JSON.parse(x))" && ok || bad "export is JSON lines"
[ "$(call GET /api/v1/config "bearer:${TOKEN[ConfigureAdmin]}")" = 200 ] && [ "$(json body.json j.admin.listen)" = "127.0.0.1:$port" ] && ok || bad "config: $(head -c 300 body.json)"

# --- metrics --------------------------------------------------------------------------------
[ "$(call GET /metrics "bearer:${TOKEN[Observer]}")" = 200 ] && ok || bad "metrics"
grep -q '^# TYPE castellan_http_requests_total counter' body.json && grep -q 'castellan_http_requests_total{route="GET /api/v1/users",status="403"}' body.json && ok || bad "requests by route and status"
grep -q 'castellan_http_request_duration_seconds_bucket{route="GET /healthz",le="+Inf"}' body.json && ok || bad "latency histogram"
grep -q 'castellan_logins_total{method="password",result="BadUserAccessDenied"}' body.json && grep -q 'castellan_logins_total{method="password",result="BadTooManyOperations"}' body.json && ok || bad "failed logins"
grep -q 'castellan_trust_certificates{list="issuer"} 1' body.json && grep -q 'castellan_trust_certificates{list="trusted"} 3' body.json && ok || bad "trust list sizes: $(grep trust_certificates body.json)"

# --- SIGTERM: stop cleanly --------------------------------------------------------------------
kill -TERM "$server"
for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server" 2>/dev/null; then bad "still running 5 s after SIGTERM"; else wait "$server"; rc=$?; [ $rc = 0 ] && ok || bad "exit status $rc after SIGTERM"; fi
server=""
grep -q "castellan stopped" castellan.log && ok || bad "stopped cleanly"

summary http
