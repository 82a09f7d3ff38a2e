#!/usr/bin/env bash
# Reverse connect (OPC UA Part 6 §7.1.3) with castellan's client listening: `castellan ua read
# --reverse-listen` waits for a server to dial in and send a ReverseHello, checks it, and opens
# its secure channel and session on that socket. Dialling: castellan's own server
# (ua.reverse_connect) through the trust workflow (rejected, approved, connected), node-opcua's
# server (reverseConnect), and hostile "servers" whose ReverseHello is wrong (an Error back, and
# the client goes on waiting). Usage: opcua_reverse_client_test.sh CASTELLAN
set -u
C=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
[ -d "$HERE/node_modules/node-opcua-server" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }
NODE_SERVER="node $HERE/ua_reverse_server_peer.mjs"

work=$(mktemp -d)
server=""
node_server=""
waiting=""
trap 'kill $server $node_server $waiting 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

port=$(free_port)
client_port=$(free_port)
node_client_port=$(free_port)
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
start_ua_server "$C" d "$port" --set ua.reverse_connect=opc.tcp://127.0.0.1:$client_port --set ua.reverse_connect_retry_ms=200 || exit 1
server_uri=$("$C" --json --data-dir d config show | jq -r '.["server.application_uri"] // .server.application_uri')
field() { jq -r "$1" <<<"$2"; }
# castellan's client, listening for castellan's server; its certificate kept in c.pem / c.key.pem.
read_rev() { "$C" --json ua read --reverse-listen "127.0.0.1:$client_port" --cert c.pem --key c.key.pem --timeout "${wait_s:-30}" "$@" 2>>client.err; }

# --- castellan's server dials castellan's client: untrusted → rejected → approve → connected ------
r=$(read_rev --server-cert d/own/cert.der)
[ $? -ne 0 ] && ok || bad "an unknown client is refused over the reverse connection: $r"
[ "$(field .error.code "$r")" = BadSecurityChecksFailed ] && ok || bad "refused with BadSecurityChecksFailed: $r"
[ -f c.pem ] && [ "$(stat -c %a c.key.pem)" = 600 ] && ok || bad "the client's certificate was made, its key 0600"
rejected=$("$C" --json --data-dir d trust list --state rejected)
[ "$(jq -r '.[0].thumbprint' <<<"$rejected")" = "$(thumb c.pem)" ] && ok || bad "the client's certificate is parked as rejected: $rejected"
"$C" --data-dir d trust approve "$(thumb c.pem)" >/dev/null && ok || bad "approve"
r=$(read_rev --server-cert d/own/cert.der)
[ $? -eq 0 ] && ok || bad "after approval the client reads over the reverse connection: $r"
[ "$(field '.results[0].node' "$r")" = i=2258 ] && [ "$(field '.results[0].status' "$r")" = Good ] && ok || bad "CurrentTime read: $r"
[ "$(field '.results[0].type' "$r")" = DateTime ] && [[ "$(field '.results[0].value' "$r")" == 20*Z ]] && ok || bad "CurrentTime is a DateTime: $r"
[ "$(field .policy "$r")" = http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256 ] && [ "$(field .mode "$r")" = SignAndEncrypt ] \
  && ok || bad "Basic256Sha256 SignAndEncrypt: $r"
[ "$(field .endpoint_url "$r")" = "opc.tcp://127.0.0.1:$port" ] && ok || bad "the ReverseHello's EndpointUrl is castellan's ua.endpoint_url: $r"
[ "$(field .server_uri "$r")" = "$server_uri" ] && ok || bad "the ReverseHello's ServerUri is castellan's ApplicationUri: $r"
# Without the server's certificate: its endpoints are asked on one connection, the session opened on the next.
r=$(read_rev --server-uri "$server_uri" --node i=2259 --node i=2255)
[ $? -eq 0 ] && ok || bad "endpoints first, then the secure channel, both over reverse connections: $r"
[ "$(field '.results[0].value' "$r")" = 0 ] && [ "$(field '.results[1].value[0]' "$r")" = http://opcfoundation.org/UA/ ] \
  && ok || bad "ServerStatus.State and NamespaceArray read: $r"
# The plain text form, for an operator.
"$C" ua read --reverse-listen "127.0.0.1:$client_port" --cert c.pem --key c.key.pem --server-cert d/own/cert.der --timeout 30 \
  >text.out 2>>client.err
grep -q "^i=2258 Good DateTime \"20" text.out && ok || { bad "text output"; cat text.out >&2; }

# A server the client does not expect: turned away (again and again as it redials) until the wait ends.
r=$(wait_s=3 read_rev --server-cert d/own/cert.der --server-uri urn:plant:other)
[ "$(field .error.code "$r")" = BadTcpEndpointUrlInvalid ] && ok || bad "an unexpected ServerUri is refused: $r"
grep -q "not the expected server 'urn:plant:other'" client.err && ok || bad "and the client says which server it was"

# --- node-opcua's server dials castellan's client ------------------------------------------------
# First hostile "servers" at the waiting client: each gets an Error and the wait goes on, until
# node-opcua's server dials in and is read.
"$C" --json ua read --reverse-listen "127.0.0.1:$node_client_port" --cert c.pem --key c.key.pem --timeout 60 \
  --node "ns=1;s=Castellan.Answer" >node-read.json 2>node-read.err &
waiting=$!
for _ in $(seq 50); do grep -q waiting node-read.err && break; sleep 0.1; done
hostile() { timeout 30 $NODE_SERVER hostile --connect "opc.tcp://127.0.0.1:$node_client_port" --send "$1" | tail -1; }
long_uri=$(node -e 'const u="u".repeat(4097),e="opc.tcp://h:1",b=Buffer.alloc(16+u.length+e.length);b.write("RHEF",0,"latin1");
  b.writeUInt32LE(b.length,4);b.writeInt32LE(u.length,8);b.write(u,12);b.writeInt32LE(e.length,12+u.length);b.write(e,16+u.length);
  console.log(b.toString("hex"))')
for case in "48454c46ffffff7f:BadTcpMessageTypeInvalid" "52484546ffffff7f:BadTcpMessageTooLarge" \
            "5248454614000000640000006162636400000000:BadDecodingError" "$long_uri:BadTcpEndpointUrlInvalid"; do
  r=$(hostile "${case%%:*}")
  [ "$(field .reply_type "$r")" = ERRF ] && [ "$(field .closed "$r")" = true ] && ok || bad "hostile ReverseHello ${case:0:24}: an Error, then closed: $r"
done
kill -0 $waiting 2>/dev/null && ok || bad "the client keeps waiting after hostile servers"
$NODE_SERVER serve --connect "opc.tcp://127.0.0.1:$node_client_port" --pki pki-node --cert-out node.der >node-server.log 2>&1 &
node_server=$!
wait $waiting
rc=$?
waiting=""
r=$(cat node-read.json)
[ $rc -eq 0 ] && ok || { bad "castellan's client reads node-opcua's server over reverse connect: $r"; cat node-read.err node-server.log >&2; }
[ "$(field '.results[0].value' "$r")" = 42 ] && [ "$(field '.results[0].type' "$r")" = Double ] && ok || bad "ns=1;s=Castellan.Answer = 42: $r"
for why in BadTcpMessageTypeInvalid BadTcpMessageTooLarge BadDecodingError BadTcpEndpointUrlInvalid; do
  grep -q "refused a reverse connection: $why" node-read.err && ok || bad "the client said why it refused a hostile server: $why"
done
[[ "$(field .server_uri "$r")" == urn:*:node-opcua-reverse-server ]] && ok || bad "node-opcua's ServerUri: $r"
# Again with node-opcua's certificate pinned, and the castellan certificate pinned instead: refused.
r=$("$C" --json ua read --reverse-listen "127.0.0.1:$node_client_port" --cert c.pem --key c.key.pem --timeout 30 \
  --server-cert node.der --node "ns=1;s=Castellan.Answer" 2>>client.err)
[ "$(field '.results[0].value' "$r")" = 42 ] && ok || bad "node-opcua's certificate pinned: $r"
r=$("$C" --json ua read --reverse-listen "127.0.0.1:$node_client_port" --cert c.pem --key c.key.pem --timeout 30 \
  --server-cert d/own/cert.der 2>>client.err)
[ "$(field .error.code "$r")" = BadCertificateUriInvalid ] && ok || bad "a ServerUri its pinned certificate does not carry is refused: $r"

kill -0 $server 2>/dev/null && ok || bad "castellan's server survived it all"

[ "$failed" -eq 0 ] || { tail -20 castellan.log >&2; tail -20 client.err >&2; echo "$r" >&2; }
summary opcua_reverse_client
