#!/usr/bin/env bash
# Rebuilds the seed corpus of ua_client_channel_fuzz from real exchanges: castellan's client
# (`castellan ua endpoints`, `castellan bench opcua` over SecurityPolicy None) talks to
# node-opcua's server through the recording proxy; every server → client stream is a seed.
# Usage: tests/fuzz/make_ua_client_corpus.sh build/castellan
set -eu
C=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port=$(free_port)
proxy_port=$(free_port)
NODE_PATH="$ROOT/tests/ua/interop/node_modules" node "$ROOT/tests/ua/interop/ua_peer.mjs" server --port "$port" --pki pki >server.log 2>&1 &
for _ in $(seq 100); do grep -q READY server.log && break; sleep 0.2; done
mkdir -p requests replies
node "$ROOT/tests/fuzz/ua_recording_proxy.mjs" "$proxy_port" "$port" requests replies &
sleep 0.5
"$C" --data-dir d init >/dev/null 2>&1
url="opc.tcp://127.0.0.1:$proxy_port"
"$C" --json --data-dir d ua endpoints --url "$url" >/dev/null
"$C" --json --data-dir d bench opcua --url "$url" --clients 1 --seconds 1 --policy None --mode None --no-trust >/dev/null 2>&1 || true
sleep 0.5
out="$ROOT/tests/fuzz/corpus/ua_client_channel_fuzz"
rm -rf "$out"
mkdir -p "$out"
for f in replies/*.bin; do
  # A long Read loop repeats itself: the first 64 KiB of a stream carry every message type.
  head -c 65536 "$f" >"$out/$(basename "$f")"
done
echo "seeds: $(ls "$out" | wc -l)"
