#!/usr/bin/env bash
# Reverse connect (OPC UA Part 6 §7.1.3) with node-opcua's client listening: castellan dials out,
# backs off while the client is down, sends a ReverseHello with its ServerUri and EndpointUrl, and
# the client opens a secure channel and a session on that socket — through the same trust
# workflow as an ordinary connection (rejected, approved, connected). Hostile answers to the
# ReverseHello get an Error and no crash. Usage: opcua_reverse_connect_test.sh CASTELLAN
set -u
C=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
PEER="node $HERE/ua_reverse_peer.mjs"
[ -d "$HERE/node_modules/node-opcua-client" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
server=""

port=$(free_port)
client_port=$(free_port)
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
start_ua_server "$C" d "$port" --set ua.reverse_connect=opc.tcp://127.0.0.1:$client_port --set ua.reverse_connect_retry_ms=200 || exit 1
field() { jq -r "$1" <<<"$2"; }
# Each hostile answer counts as a failed offer, so castellan's redial backs off (200 ms doubling):
# the later runs wait longer.
peer() { local cmd=$1; shift; timeout 90 $PEER "$cmd" --port "$client_port" --timeout 20000 "$@" 2>/dev/null | tail -1; }
S=(--server-cert d/own/cert.der --pki pki-client --policy Basic256Sha256 --mode SignAndEncrypt)

# --- the client is down: castellan retries, with one log line, not one per attempt ---------------
sleep 2
grep -q "reverse connect to opc.tcp://127.0.0.1:$client_port" castellan.log && ok || bad "the target is announced"
refused=$(grep -c "reverse connect to opc.tcp://127.0.0.1:$client_port: .*retrying" castellan.log)
[ "$refused" -ge 1 ] && [ "$refused" -le 2 ] && ok || bad "a client that is down is logged once, not per retry: $refused lines"
kill -0 $server 2>/dev/null && ok || bad "castellan keeps serving while the client is down"

# --- untrusted → rejected → approve → connected, over reverse connections ---------------------
r=$(peer read-status "${S[@]}")
[ "$(field .ok "$r")" = false ] && ok || bad "an unknown client is refused over reverse connect too: $r"
rejected=$("$C" --json --data-dir d trust list --state rejected)
[ "$(jq length <<<"$rejected")" = 1 ] && ok || bad "its certificate is parked as rejected: $rejected"
"$C" --data-dir d trust approve "$(jq -r '.[0].thumbprint' <<<"$rejected")" >/dev/null && ok || bad "approve"
r=$(peer read-status "${S[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "after approval the client reads over the reverse connection: $r"
[ "$(field .state "$r")" = 0 ] && ok || bad "ServerStatus.State is Running: $r"
[ "$(field .endpoint_url "$r")" = "opc.tcp://127.0.0.1:$port" ] && ok || bad "the ReverseHello carried the endpoint URL: $r"
[ "$(field .namespace0 "$r")" = "http://opcfoundation.org/UA/" ] && ok || bad "NamespaceArray read: $r"
# And again: castellan offers a fresh connection after each one is used or closed.
r=$(peer read-status "${S[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "a second reverse session: $r"

# --- hostile answers to the ReverseHello --------------------------------------------------------
r=$(peer hostile --send 48454c46ffffff7f)  # HELF announcing a 2 GiB message
[ "$(field .reverse_hello.type "$r")" = RHEF ] && ok || bad "the ReverseHello is RHEF: $r"
[ "$(field .reverse_hello.server_uri "$r")" != null ] && ok || bad "it carries the ServerUri: $r"
[ "$(field .reply_type "$r")" = ERRF ] && ok || bad "a lying length gets an Error message: $r"
r=$(peer hostile --send 4d534746100000000000000000000000)  # a MSG before any Hello
[ "$(field .reply_type "$r")" = ERRF ] && ok || bad "a message before Hello gets an Error message: $r"
r=$(peer hostile --send 52484546 --timeout 60000)  # four bytes, then silence: dropped at the Hello deadline
[ "$(field .closed "$r")" = true ] && ok || bad "a short message ends with a closed connection: $r"
kill -0 $server 2>/dev/null && ok || bad "castellan survived the hostile clients"
r=$(peer read-status "${S[@]}" --timeout 80000)
[ "$(field .ok "$r")" = true ] && ok || bad "and still serves the real client afterwards: $r"
"$C" --data-dir d ua endpoints --url "opc.tcp://127.0.0.1:$port" >/dev/null 2>&1 && ok || bad "the ordinary listener still answers"

[ "$failed" -eq 0 ] || tail -30 castellan.log >&2
summary opcua_reverse_connect
