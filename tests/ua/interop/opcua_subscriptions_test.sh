#!/usr/bin/env bash
# castellan's subscriptions and audit events driven by node-opcua's client: data changes of
# Server_ServerStatus_CurrentTime, keep-alives, GetMonitoredItems, DeleteSubscriptions stops
# notifications, and audit events on the Server object — a SecurityAdmin sees an
# AuditCertificate event when another client is refused, a trust-list change when it is
# approved, a device revocation and an AccessToken issued; an Operator sees none. Usage: opcua_subscriptions_test.sh CASTELLAN
set -u
C=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
PEER="node $HERE/ua_peer.mjs"
[ -d "$HERE/node_modules/node-opcua-client" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
server=""

port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
extra=()
"$C" config keys 2>/dev/null | grep -q '`admin.listen`' && extra+=(--set admin.listen=off)
"$C" --data-dir d --set ua.listen=127.0.0.1:$port --set device.mtls_listen=off "${extra[@]}" serve >>castellan.log 2>&1 &
server=$!
for _ in $(seq 50); do
  "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && break
  sleep 0.2
done
client() { local cmd=$1; shift; timeout 60 $PEER client "$cmd" --url "$url" --pki pki-client "$@" 2>/dev/null | tail -1; }
field() { jq -r "$1" <<<"$2"; }
S="--policy Basic256Sha256 --mode SignAndEncrypt"
"$C" --data-dir d user add root --password 'root password 1' --role SecurityAdmin >/dev/null
"$C" --data-dir d user add alice --password 'correct horse battery' --role Operator >/dev/null
ADMIN=(--user root --password 'root password 1')
OPERATOR=(--user alice --password 'correct horse battery')

# The interop client is refused once, then approved (its certificate is new to castellan).
client connect $S >/dev/null
"$C" --data-dir d trust approve "$("$C" --json --data-dir d trust list --state rejected | jq -r '.[0].thumbprint')" >/dev/null

# --- data changes --------------------------------------------------------------------------------
r=$(client subscribe-time $S "${OPERATOR[@]}" --seconds 1.5)
[ "$(field .ok "$r")" = true ] && ok || bad "subscribe to CurrentTime: $r"
[ "$(field .revised_interval "$r")" = 100 ] && ok || bad "publishing interval 100 ms kept: $r"
# 1.5 s sampled every 100 ms: about 15 changes (at least 8 on a loaded machine), all distinct, in order.
[ "$(field .changes "$r")" -ge 8 ] && [ "$(field .distinct "$r")" = "$(field .changes "$r")" ] && ok || bad "CurrentTime changes arrive: $r"
[ "$(field .increasing "$r")" = true ] && ok || bad "CurrentTime only moves forward: $r"
[ "$(field .get_monitored_items "$r")" = Good ] && [ "$(field .server_handles "$r")" = 1 ] && ok || bad "GetMonitoredItems: $r"
[ "$(field .first_server_handle "$r")" = "$(field .monitored_item_id "$r")" ] && [ "$(field .client_handle_matches "$r")" = true ] \
  && ok || bad "GetMonitoredItems returns the item's server and client handles: $r"
[ "$(field .after_delete "$r")" = 0 ] && ok || bad "no notification after DeleteSubscriptions: $r"
[ "$(field .get_monitored_items_after_delete "$r")" = BadSubscriptionIdInvalid ] && ok || bad "the deleted subscription is gone: $r"

# --- keep-alives ---------------------------------------------------------------------------------
r=$(client keepalive $S "${OPERATOR[@]}" --seconds 2)
# 100 ms × 3 = one keep-alive every 300 ms: about 6 in 2 s.
[ "$(field .keepalives "$r")" -ge 3 ] && [ "$(field .revised_keep_alive_count "$r")" = 3 ] && ok || bad "keep-alives: $r"

# --- audit events: only for security administrators ------------------------------------------------
# An application that will ask the AuthorizationService for an AccessToken while the
# administrator watches (refused once, then approved, like any new client).
AUTHZ="node $HERE/authz_peer.mjs"
app_uri=$("$C" --json --data-dir d config show | jq -r .server.application_uri)
"$C" --data-dir d authz rule add Operator --criteria UserName:alice >/dev/null
timeout 60 $AUTHZ describe --url "$url" --pki pki-authz $S >/dev/null 2>&1
"$C" --data-dir d trust approve "$("$C" --json --data-dir d trust list --state rejected | jq -r '.[0].thumbprint')" >/dev/null
# A registered device, revoked while the administrator watches.
"$C" --data-dir d ca create --cn "Plant CA" >/dev/null
"$C" --data-dir d cert issue --cn sn0001 --out sn0001 >/dev/null
"$C" --data-dir d device register sn0001.pem >/dev/null
device=$(thumb sn0001.pem)
# The stranger's certificate is made (and refused) once before, so its second attempt is quick.
timeout 60 $PEER client connect --url "$url" --pki pki-stranger $S >/dev/null 2>&1
stranger=$("$C" --json --data-dir d trust list --state rejected | jq -r '.[0].thumbprint')
# watch NAME ARGS…: watches in the background into NAME.out; its pid is in watchers.
watchers=()
watch() {
  local name=$1
  shift
  timeout 60 $PEER client watch-events --url "$url" --pki pki-client $S "$@" --seconds 20 --until-file done.flag >"$name.out" 2>/dev/null &
  watchers+=($!)
}
rm -f done.flag
watch admin "${ADMIN[@]}"
for _ in $(seq 100); do grep -q READY admin.out && break; sleep 0.2; done
# The operator's session starts once the administrator watches: its CreateSession and
# ActivateSession are audited too.
watch operator "${OPERATOR[@]}"
for _ in $(seq 100); do grep -q READY operator.out && break; sleep 0.2; done
grep -q READY admin.out && grep -q READY operator.out && ok || bad "both watchers subscribed to the Server object's events"
r=$(timeout 60 $PEER client connect --url "$url" --pki pki-stranger $S 2>/dev/null | tail -1)
[ "$(field .ok "$r")" = false ] && ok || bad "the stranger is refused: $r"
"$C" --data-dir d trust approve "$stranger" >/dev/null
"$C" --data-dir d device revoke "$device" >/dev/null
r=$(timeout 60 $AUTHZ request --url "$url" --pki pki-authz $S --resource "$app_uri" "${OPERATOR[@]}" 2>/dev/null | tail -1)
[ "$(field .ok "$r")" = true ] && ok || bad "alice gets an AccessToken: $r"
# The audit log is followed once a second; events arrive with the next publishing cycle.
seen_event() { for _ in $(seq 150); do grep -q "^EVENT .*$1" admin.out && return 0; sleep 0.1; done; return 1; }
seen_event 'ns=0;i=2087' && seen_event 'ns=0;i=12561' && seen_event 'ns=2;i=27' && seen_event 'ns=2;i=975'
touch done.flag
wait "${watchers[@]}" 2>/dev/null
watchers=()
admin=$(tail -1 admin.out)
operator=$(tail -1 operator.out)
untrusted=$(jq -c '[.events[] | select(.EventType == "ns=0;i=2087")]' <<<"$admin")
[ "$(jq length <<<"$untrusted")" -ge 1 ] && ok || bad "the SecurityAdmin receives AuditCertificateUntrustedEventType: $admin"
jq -r '.[0].StatusCodeId' <<<"$untrusted" | grep -q BadCertificateUntrusted && ok || bad "with the real reason: $untrusted"
[ "$(jq -r '.[0].Certificate' <<<"$untrusted")" -gt 500 ] && [ "$(jq -r '.[0].Status' <<<"$untrusted")" = false ] && ok \
  || bad "with the refused certificate and Status false: $untrusted"
jq -r '.[0].Message' <<<"$untrusted" | grep -q "$stranger" && ok || bad "the message names the certificate: $untrusted"
approved=$(jq -c '[.events[] | select(.EventType == "ns=0;i=12561")]' <<<"$admin")
jq -r '.[0].Message' <<<"$approved" | grep -q "trust.approve $stranger" && ok || bad "the approval is a TrustListUpdatedAuditEvent: $admin"
revoked=$(jq -c '[.events[] | select(.EventType == "ns=2;i=27")]' <<<"$admin")
jq -r '.[0].Message' <<<"$revoked" | grep -q "registry.device.revoke $device" && [ "$(jq -r '.[0].Certificate' <<<"$revoked")" -gt 300 ] \
  && ok || bad "the device revocation is a GDS CertificateRevokedAuditEvent with the certificate: $admin"
issued=$(jq -c '[.events[] | select(.EventType == "ns=2;i=975")]' <<<"$admin")
jq -r '.[0].Message' <<<"$issued" | grep -q "authz.access_token_issued" && [ "$(jq -r '.[0].ClientUserId' <<<"$issued")" = alice ] \
  && ok || bad "the AccessToken issued to alice is an AccessTokenIssuedAuditEvent: $admin"
[ "$(jq '[.events[] | select(.EventType == "ns=0;i=2071" or .EventType == "ns=0;i=2075")] | length' <<<"$admin")" -ge 2 ] && ok \
  || bad "CreateSession and ActivateSession audit events: $admin"
[ "$(field .ok "$operator")" = true ] && [ "$(jq '.events | length' <<<"$operator")" = 0 ] && ok || bad "an Operator receives no audit event: $operator"

# A where clause: OfType(AuditCertificateEventType) lets only certificate events through.
rm -f done.flag
watch filtered "${ADMIN[@]}" --of-type i=2080
for _ in $(seq 100); do grep -q READY filtered.out && break; sleep 0.2; done
timeout 60 $PEER client connect --url "$url" --pki pki-other $S >/dev/null 2>&1
for _ in $(seq 100); do grep -q '^EVENT .*ns=0;i=2087' filtered.out && break; sleep 0.1; done
touch done.flag
wait "${watchers[@]}" 2>/dev/null
filtered=$(tail -1 filtered.out)
[ "$(jq '[.events[] | select(.EventType == "ns=0;i=2087")] | length' <<<"$filtered")" -ge 1 ] && \
  [ "$(jq '[.events[] | select(.EventType != "ns=0;i=2087")] | length' <<<"$filtered")" = 0 ] && ok \
  || bad "OfType keeps certificate events only: $filtered"

kill -TERM $server
wait $server
[ $? = 0 ] && ok || bad "SIGTERM stops castellan cleanly"
server=""
[ "$failed" -eq 0 ] || { echo "--- castellan.log"; tail -30 castellan.log; }
summary "opcua subscriptions"
