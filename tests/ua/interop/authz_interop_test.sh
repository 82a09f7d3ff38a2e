#!/usr/bin/env bash
# castellan's AuthorizationService (OPC UA Part 12 §9) driven by node-opcua's client: the
# service description, AccessTokens for UserName / implicit / X509 identities verified with
# node's own crypto (not castellan's code), refusals with their StatusCodes, RequestId reuse,
# refresh tokens bound to the application certificate, and ActivateSession on castellan with an
# issued token (the session holds the token's roles). Usage: authz_interop_test.sh CASTELLAN
set -u
C=$(realpath "$1")
BUILD_EXAMPLE=$(dirname "$C")/examples/token_verifier_example
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
PEER="node $HERE/authz_peer.mjs"
[ -d "$HERE/node_modules/node-opcua-client" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
server=""
port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
app_uri=$("$C" --json --data-dir d config show | jq -r .server.application_uri)
"$C" --data-dir d user add alice --password 'alice password 1' --role Operator >/dev/null
"$C" --data-dir d user add root --password 'root password 1' --role SecurityAdmin >/dev/null
"$C" --data-dir d authz rule add Operator --criteria UserName:alice >/dev/null && ok || bad "authz rule add"
"$C" --data-dir d authz rule add SecurityAdmin --criteria Role:SecurityAdmin >/dev/null
"$C" --data-dir d authz rule add Observer --criteria AuthenticatedUser >/dev/null
r=$("$C" --data-dir d authz rule add Operator --criteria UserName 2>&1)
[[ "$r" == *BadInvalidArgument* ]] && ok || bad "a UserName rule without a name is refused: $r"

# A user certificate (X509 identity) and a second application certificate, self-signed.
mkcert() {  # NAME URI
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 -subj "/CN=$1" \
    -addext "subjectAltName=URI:$2,DNS:localhost" -addext "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment" \
    -addext "extendedKeyUsage=clientAuth,serverAuth" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
}
mkcert bob urn:users:bob
# An identity provider (the chained use case): its P-256 key signs JWTs castellan accepts as identities.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout idp.key -out idp.pem -days 30 \
  -subj "/CN=identity provider" -addext "subjectAltName=URI:urn:test:idp" 2>/dev/null
"$C" --data-dir d authz rule add Supervisor --criteria GroupId:operators >/dev/null
mkcert other urn:castellan-authz-interop:other
"$C" --data-dir d trust add other.pem >/dev/null && ok || bad "trust the second application"
# User certificates have their own trust list (an OPC UA PKI folder), apart from the applications'.
mkdir -p d/pki/users/trusted/certs && cp bob.pem d/pki/users/trusted/certs/
bob_thumb=$(openssl x509 -in bob.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
"$C" --data-dir d authz rule add Engineer --criteria "Thumbprint:$bob_thumb" >/dev/null

"$C" --data-dir d --set ua.listen=127.0.0.1:$port --set ua.allow_anonymous=true --set device.mtls_listen=off \
  --set admin.listen=off --set "authz.identity_providers=urn:test:idp=$work/idp.pem" serve >>castellan.log 2>&1 &
server=$!
for _ in $(seq 50); do "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && break; sleep 0.2; done
peer() { local cmd=$1; shift; timeout 60 $PEER "$cmd" --url "$url" --pki pki-client "$@" 2>/dev/null | tail -1; }
field() { jq -r "$1" <<<"$2"; }

# The first contact parks node-opcua's certificate as rejected; an administrator approves it.
peer describe >/dev/null
thumb=$("$C" --json --data-dir d trust list --state rejected | jq -r '.[0].thumbprint // empty')
[ -n "$thumb" ] && "$C" --data-dir d trust approve "$thumb" >/dev/null && ok || bad "approve the requesting application"

# --- the service description --------------------------------------------------------------------
r=$(peer describe)
[ "$(field .ok "$r")" = true ] && ok || bad "GetServiceDescription: $r"
[ "$(field '.services | index("default") != null' "$r")" = true ] && ok || bad "Objects/AuthorizationServices lists the service: $r"
[ "$(field .service_uri "$r")" = "$app_uri:authz:default" ] && ok || bad "ServiceUri: $r"
[ "$(field '[.policies[].type] | sort | join(",")' "$r")" = "Anonymous,Certificate,IssuedToken,UserName" ] && ok || bad "UserTokenPolicies (IssuedToken: the identity provider is configured): $r"
[ "$(field '.supported_roles | index("Operator") != null and index("Engineer") != null' "$r")" = true ] && ok || bad "SupportedRoles: $r"

# --- AccessTokens: UserName identity over SignAndEncrypt, verified by node's crypto ------------------
r=$(peer request --resource "$app_uri" --as-user alice --as-password 'alice password 1')
[ "$(field .ok "$r")" = true ] && ok || bad "RequestAccessToken with a UserName identity: $r"
[ "$(field .verified "$r")" = true ] && [ "$(field .header.alg "$r")" = ES256 ] && ok || bad "the JWT verifies (ES256) with the ServiceCertificate: $r"
[ "$(field '.claims.roles | join(",")' "$r")" = "Observer,Operator" ] && ok || bad "roles from the mapping rules: $r"
[ "$(field '.claims.iss' "$r")" = "$app_uri:authz:default" ] && [ "$(field '.claims.aud[0]' "$r")" = "$app_uri" ] \
  && [ "$(field '.claims.sub' "$r")" = alice ] && ok || bad "iss, aud and sub: $r"
[ $(( $(field .claims.exp "$r") - $(field .claims.iat "$r") )) = 3600 ] && ok || bad "lifetime one hour: $r"
[[ "$(field .claims.client_id "$r")" == urn:*:castellan-authz-interop ]] && [ -n "$(field '.claims["ua:client_thumbprint"]' "$r")" ] \
  && ok || bad "the client's ApplicationUri and certificate thumbprint: $r"
r=$(peer request --resource "$app_uri")
[ "$(field .ok "$r")" = true ] && [ "$(field '.claims.roles | length' "$r")" = 0 ] && ok || bad "implicit use, anonymous session: no roles: $r"
r=$(peer request --resource "$app_uri" --user root --password 'root password 1')
[ "$(field '.claims.roles | join(",")' "$r")" = "Observer,SecurityAdmin" ] && ok || bad "implicit use with the session's user: $r"

# --- refusals ---------------------------------------------------------------------------------------
r=$(peer request --resource "$app_uri" --as-user alice --as-password 'alice password 1' --mode Sign)
[ "$(field .status "$r")" = BadSecurityModeInsufficient ] && ok || bad "a Sign-only channel is refused: $r"
r=$(peer request --resource "$app_uri" --as-user alice --as-password 'wrong')
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "a wrong password: $r"
r=$(peer request --resource urn:nowhere --as-user alice --as-password 'alice password 1')
[ "$(field .status "$r")" = BadNotFound ] && ok || bad "an unknown ResourceId: $r"

# --- Start / Finish -----------------------------------------------------------------------------------
r=$(peer finish --resource "$app_uri" --as-user alice --as-password 'alice password 1' --reuse 1)
[ "$(field .ok "$r")" = true ] && [ "$(field .verified "$r")" = true ] && ok || bad "Start/FinishRequestToken: $r"
[ "$(field .reuse_status "$r")" = BadNotFound ] && ok || bad "a RequestId is used once: $r"
refresh=$(field .refresh_token "$r")
r=$(peer finish --resource "$app_uri" --as-user alice --as-password 'alice password 1' --roles SecurityAdmin)
[ "$(field .status "$r")" = BadUserAccessDenied ] && ok || bad "a requested role not held is not granted: $r"
r=$(peer x509 --resource "$app_uri" --user-cert bob.pem --user-key bob.key)
[ "$(field .ok "$r")" = true ] && [ "$(field '.claims.roles | join(",")' "$r")" = "Engineer,Observer" ] && ok || bad "X509 identity: $r"
r=$(peer x509 --resource "$app_uri" --user-cert bob.pem --user-key bob.key --forge 1)
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "a forged UserTokenSignature: $r"
r=$(peer x509 --resource "$app_uri" --user-cert bob.pem --user-key bob.key --nonce-bytes 8)
[ "$(field .status "$r")" = BadNonceInvalid ] && ok || bad "RequestorData too short: $r"

# The chained use case: an identity provider's JWT as the identity; its groups map to roles.
idp_jwt() {  # SUBJECT AUDIENCE EXP_OFFSET
  node -e '
    const c = require("node:crypto"); const fs = require("node:fs"); const now = Math.floor(Date.now() / 1000);
    const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const h = b({ alg: "ES256", typ: "JWT" });
    const p = b({ iss: "urn:test:idp", sub: process.argv[1], aud: process.argv[2], iat: now, exp: now + Number(process.argv[3]), groups: ["operators"] });
    const s = c.sign("sha256", Buffer.from(h + "." + p), { key: fs.readFileSync("idp.key"), dsaEncoding: "ieee-p1363" });
    console.log(h + "." + p + "." + s.toString("base64url"));' "$@"
}
r=$(peer finish --resource "$app_uri" --as-jwt "$(idp_jwt dave "$app_uri" 600)")
[ "$(field .ok "$r")" = true ] && [ "$(field '.claims.roles | join(",")' "$r")" = "Observer,Supervisor" ] && [ "$(field .claims.sub "$r")" = dave ] \
  && ok || bad "an identity provider's JWT (chained use case): $r"
r=$(peer finish --resource "$app_uri" --as-jwt "$(idp_jwt dave "$app_uri" -300)")
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "an expired identity provider token: $r"
r=$(peer finish --resource "$app_uri" --as-jwt "$(idp_jwt dave urn:someone-else 600)")
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "an identity provider token for another audience: $r"

# castellan's own client asks too (with the second application's certificate).
r=$("$C" --json --data-dir d token request --url "$url" --cert other.pem --key other.key --as-user alice --as-password 'alice password 1' 2>&1)
cli_token=$(jq -r '.access_token // empty' <<<"$r")
[ -n "$cli_token" ] && [ -n "$(jq -r '.refresh_token // empty' <<<"$r")" ] && ok || bad "castellan token request: $r"
r=$("$C" --json --data-dir d token verify "$cli_token" --certificate d/authz/default/cert.pem 2>&1)
[ "$(jq -r '.roles | join(",")' <<<"$r")" = "Observer,Operator" ] && [ "$(jq -r .client_id <<<"$r")" = urn:castellan-authz-interop:other ] \
  && ok || bad "castellan token verify: $r"
r=$("$C" --json --data-dir d token request --url "$url" --cert other.pem --key other.key --mode Sign 2>&1)
[[ "$r" == *BadSecurityModeInsufficient* ]] && ok || bad "castellan token request over Sign: $r"
echo "$cli_token" | "$BUILD_EXAMPLE" d/authz/default/cert.pem "$app_uri:authz:default" "$app_uri" >example.out 2>&1 \
  && grep -q "subject alice, roles: Observer Operator" example.out && ok || bad "the token_verifier example accepts it: $(cat example.out)"

# X509 user logins on castellan's own endpoint: the user trust list decides, the rules give roles.
UAPEER="node $HERE/ua_peer.mjs"
r=$(timeout 60 $UAPEER client connect --url "$url" --pki pki-client --policy Basic256Sha256 --mode SignAndEncrypt \
  --user-cert bob.pem --user-key bob.key 2>/dev/null | tail -1)
[ "$(field .ok "$r")" = true ] && ok || bad "an X509 user from the user trust list logs in: $r"
r=$(timeout 60 $UAPEER client connect --url "$url" --pki pki-client --policy Basic256Sha256 --mode SignAndEncrypt \
  --user-cert other.pem --user-key other.key 2>/dev/null | tail -1)
[ "$(field .ok "$r")" = false ] && ok || bad "an application certificate is not a user certificate: $r"

# --- refresh tokens --------------------------------------------------------------------------------------
peer describe --cert other.pem --key other.key --app-uri urn:castellan-authz-interop:other --pki pki-other >/dev/null
r=$(peer refresh --resource "$app_uri" --refresh-token "$refresh" --cert other.pem --key other.key \
  --app-uri urn:castellan-authz-interop:other --pki pki-other)
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "a refresh token from another application certificate: $r"
r=$(peer refresh --resource "$app_uri" --refresh-token "$refresh")
[ "$(field .ok "$r")" = true ] && [ "$(field .refresh_token "$r")" != "$refresh" ] && ok || bad "refresh rotates the token: $r"
r=$(peer refresh --resource "$app_uri" --refresh-token "$refresh")
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "a rotated refresh token is spent: $r"

# --- castellan as the target server: ActivateSession with the AccessToken ----------------------------------
admin_token=$(field .token "$(peer request --resource "$app_uri" --as-user root --as-password 'root password 1')")
r=$(peer activate --token "$admin_token")
[ "$(field .ok "$r")" = true ] && [ "$(field .get_rejected_list "$r")" = Good ] && ok || bad "a SecurityAdmin token opens a SecurityAdmin session: $r"
op_token=$(field .token "$(peer request --resource "$app_uri" --as-user alice --as-password 'alice password 1')")
r=$(peer activate --token "$op_token")
[ "$(field .ok "$r")" = true ] && [ "$(field .get_rejected_list "$r")" = BadUserAccessDenied ] && ok || bad "an Operator token does not: $r"
# Re-signed by another key: the payload of the admin token under a signature castellan never made.
forged=$(node -e '
  const c = require("node:crypto"); const [h, p] = process.argv[1].split(".");
  const { privateKey } = c.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const s = c.sign("sha256", Buffer.from(h + "." + p), { key: privateKey, dsaEncoding: "ieee-p1363" });
  console.log(h + "." + p + "." + s.toString("base64url"));' "$admin_token")
r=$(peer activate --token "$forged")
[ "$(field .status "$r")" = BadIdentityTokenRejected ] && ok || bad "a re-signed token is refused at ActivateSession: $r"
sig=${admin_token##*.}
flip=$([ "${sig:10:1}" = A ] && echo B || echo A)
r=$(peer activate --token "${admin_token%.*}.${sig:0:10}$flip${sig:11}")
[ "$(field .ok "$r")" = false ] && ok || bad "a token with a changed signature byte is refused: $r"
"$C" --json --data-dir d token verify "$admin_token" --certificate d/authz/default/cert.pem >tv.json && \
  [ "$(jq -r '.roles | join(",")' tv.json)" = "Observer,SecurityAdmin" ] && ok || bad "castellan token verify: $(cat tv.json)"

# --- audit -------------------------------------------------------------------------------------------------
sleep 0.2
audit=$("$C" --json --data-dir d audit --limit 500)
[ "$(jq '[.[] | select(.action == "authz.access_token_issued")] | length' <<<"$audit")" -ge 6 ] && ok || bad "issued tokens are audited"
[ "$(jq '[.[] | select(.action == "authz.access_token_requested" and .result == "BadSecurityModeInsufficient")] | length' <<<"$audit")" -ge 1 ] \
  && ok || bad "refusals are audited with their StatusCode"
[ "$(jq '[.[] | select(.action == "ua.issued_token_login" and .result == "Good")] | length' <<<"$audit")" -ge 2 ] && ok || bad "token logins are audited"

summary authz_interop
