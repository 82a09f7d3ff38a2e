#!/usr/bin/env bash
# Rebuilds the seed corpus of rest_api_fuzz: one HTTP/1.1 request per admin API route, with the
# paths, queries and bodies tests/http/admin_api_test.sh and authz_api_test.sh send with curl,
# certificates and CRLs from the pki_import_fuzz seeds. The first byte of a seed picks the
# credentials the harness adds (0 none, 1 SecurityAdmin token, 2 Observer token, 3 Basic).
# Usage: tests/fuzz/make_rest_api_corpus.sh
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out="$ROOT/tests/fuzz/corpus/rest_api_fuzz"
pki="$ROOT/tests/fuzz/corpus/pki_import_fuzz"
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
# seed CREDENTIALS METHOD TARGET [CONTENT_TYPE BODY_FILE]
seed() {
  local cred=$1 method=$2 target=$3 type=${4:-} body=${5:-/dev/null}
  local file
  n=$((n + 1))
  file=$(printf "%s/%03d" "$out" "$n")
  {
    printf "\\x0$cred"
    printf '%s %s HTTP/1.1\r\nHost: castellan.example:8443\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n' "$method" "$target"
    if [ -n "$type" ]; then printf 'Content-Type: %s\r\nContent-Length: %d\r\n' "$type" "$(wc -c <"$body")"; fi
    printf '\r\n'
    cat "$body"
  } >"$file"
}
json() { local f="$work/body$n.json"; printf '%s' "$1" >"$f"; echo "$f"; }
J=application/json

seed 0 GET /healthz
seed 0 GET /readyz
seed 2 GET /metrics
seed 0 GET /api/v1/openapi.json
seed 2 GET /api/v1/me
seed 2 GET /api/v1/roles
seed 3 GET /api/v1/me
seed 0 GET /api/v1/me
seed 1 GET /api/v1/users
seed 1 POST /api/v1/users $J "$(json '{"name":"alice","password":"alice-pass-123","roles":["Operator","Observer"]}')"
seed 1 GET /api/v1/users/alice
seed 1 PUT /api/v1/users/alice/password $J "$(json '{"password":"alice-pass-456"}')"
seed 1 PUT /api/v1/users/ada/roles $J "$(json '{"roles":["SecurityAdmin","Observer"]}')"
seed 1 DELETE /api/v1/users/olga
seed 1 GET /api/v1/users/%2e%2e
seed 1 GET /api/v1/trust/../users
seed 1 GET '/api/v1/tokens?user=olga'
seed 1 POST /api/v1/tokens $J "$(json '{"user":"olga","roles":["Observer"],"expires_in":"90m","description":"script"}')"
seed 1 DELETE /api/v1/tokens/0123456789abcdef
seed 3 POST /api/v1/session
seed 2 DELETE /api/v1/session
seed 2 GET '/api/v1/changes?after=0'
seed 2 GET /api/v1/dashboard
seed 2 GET /api/v1/trust/settings
seed 1 GET '/api/v1/audit?limit=2&after=1'
seed 1 GET '/api/v1/audit?action=user.&limit=1000'
seed 1 GET '/api/v1/audit?since=yesterday'
seed 1 GET '/api/v1/audit?target=victim&action=user.login&result=BadUserAccessDenied'
seed 1 GET '/api/v1/audit/export?action=trust.'
seed 2 GET '/api/v1/trust/certificates?state=trusted&q=hmi'
seed 2 GET '/api/v1/trust/certificates?state=bogus'
seed 1 POST /api/v1/trust/certificates application/x-pem-file "$pki/app.pem"
seed 1 POST '/api/v1/trust/certificates?state=issuer' application/pkix-cert "$pki/app.der"
seed 1 POST /api/v1/trust/certificates application/x-pem-file "$pki/bundle.pem"
seed 2 GET /api/v1/trust/certificates/0123456789ABCDEF0123456789ABCDEF01234567
seed 1 POST /api/v1/trust/certificates/0123456789ABCDEF0123456789ABCDEF01234567/approve
seed 1 POST /api/v1/trust/certificates/0123456789ABCDEF0123456789ABCDEF01234567/reject
seed 1 DELETE /api/v1/trust/certificates/not-a-thumbprint
seed 2 GET /api/v1/trust/crls
seed 1 POST /api/v1/trust/crls application/x-pem-file "$pki/crl.pem"
seed 1 POST /api/v1/trust/crls application/pkix-crl "$pki/crl.der"
seed 2 GET /api/v1/trust/export
seed 2 POST '/api/v1/trust/verify?policy=None&mode=trusted-list' application/x-pem-file "$pki/app.pem"
seed 2 GET /api/v1/cas
seed 1 POST '/api/v1/cas?require_approval=false' application/x-pem-file "$pki/self_sha384.der"
seed 1 POST /api/v1/ca-registration-codes
seed 2 GET /api/v1/cas/0123456789ABCDEF0123456789ABCDEF01234567
seed 1 POST /api/v1/cas/0123456789ABCDEF0123456789ABCDEF01234567/deactivate
seed 1 DELETE /api/v1/cas/0123456789ABCDEF0123456789ABCDEF01234567
seed 2 GET '/api/v1/devices?ou=line-1&status=activated'
seed 2 GET '/api/v1/devices?sort=sideways'
seed 2 GET '/api/v1/devices?client_id=pump-1'
seed 1 POST /api/v1/devices application/x-pem-file "$pki/app.pem"
seed 2 GET /api/v1/devices/0123456789ABCDEF0123456789ABCDEF01234567
seed 1 POST /api/v1/devices/0123456789ABCDEF0123456789ABCDEF01234567/revoke
seed 1 POST /api/v1/devices/0123456789ABCDEF0123456789ABCDEF01234567/activate
seed 1 DELETE /api/v1/devices/0123456789ABCDEF0123456789ABCDEF01234567
seed 1 GET /api/v1/config
seed 1 PATCH /api/v1/config $J "$(json '{"log.level":"debug","registry.signup_rate":20}')"
seed 1 PUT /api/v1/config/ua.allow_anonymous $J "$(json '{"value":true}')"
seed 2 GET /api/v1/sessions
seed 1 DELETE '/api/v1/sessions/ns=1;g=not-a-guid'
seed 2 GET /api/v1/connections
seed 1 GET /api/v1/authz/services
seed 1 GET /api/v1/authz/services/default
seed 1 POST /api/v1/authz/services $J "$(json '{"name":"line2","algorithm":"PS256","resources":["urn:plant:line2-server"],"token_lifetime_s":600}')"
seed 1 GET /api/v1/authz/rules
seed 1 POST /api/v1/authz/rules $J "$(json '{"role":"Operator","criteria_type":"UserName","criteria":"alice"}')"
seed 1 DELETE /api/v1/authz/rules/abc
seed 1 GET '/api/v1/authz/refresh-tokens?subject=alice'
seed 1 POST /api/v1/authz/refresh-tokens/revoke $J "$(json '{"subject":"alice"}')"
seed 1 GET '/api/v1/authz/token-requests?limit=0'
# Hostile shapes the handlers must refuse cleanly.
seed 1 POST /api/v1/users $J "$(json '{"name":"a","password":"p","roles":"Operator","extra":1}')"
seed 1 POST /api/v1/users $J "$(json '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')"
seed 1 POST /api/v1/tokens $J "$(json '{"roles":["Observer"],"expires_in":"99999999999999999999y"}')"
seed 1 GET '/api/v1/audit?limit=-1&after=%zz'
echo "seeds: $(ls "$out" | wc -l)"
