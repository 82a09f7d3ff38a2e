#!/usr/bin/env bash
# Rebuilds the seed corpora of ua_server_channel_fuzz and ua_decoder_fuzz from real exchanges:
# node-opcua's client talks to a castellan server through a recording proxy; every client →
# server stream becomes a channel seed, and every MSG body of the None-policy streams becomes a
# decoder seed. Usage: tests/fuzz/make_ua_corpus.sh build/castellan
set -eu
C=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
proxy_port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
"$C" --data-dir d init >/dev/null
"$C" --data-dir d --set ua.listen=127.0.0.1:$port --set ua.allow_anonymous=true --set ua.allow_none=true \
  --set trust.mode=accept-any --set device.mtls_listen=off --set admin.listen=off serve >castellan.log 2>&1 &
sleep 1
mkdir -p streams
node "$ROOT/tests/fuzz/ua_recording_proxy.mjs" "$proxy_port" "$port" streams &
sleep 0.5
peer() { NODE_PATH="$ROOT/tests/ua/interop/node_modules" node "$ROOT/tests/ua/interop/ua_peer.mjs" client "$@" \
  --url "opc.tcp://127.0.0.1:$proxy_port" --pki pki >/dev/null 2>&1 || true; }
for cmd in endpoints connect read-status browse translate call write; do peer $cmd --policy None --mode None; done
# Subscriptions: Create/Delete Subscription, CreateMonitoredItems (data and event filters), Publish.
peer subscribe-time --policy None --mode None --seconds 0.5
peer keepalive --policy None --mode None --seconds 0.5
peer watch-events --policy None --mode None --seconds 0.5 --of-type i=2080
peer connect --policy Basic256Sha256 --mode SignAndEncrypt
peer connect --policy Aes256_Sha256_RsaPss --mode Sign
sleep 0.5
out_channel="$ROOT/tests/fuzz/corpus/ua_server_channel_fuzz"
out_decoder="$ROOT/tests/fuzz/corpus/ua_decoder_fuzz"
rm -rf "$out_channel" "$out_decoder"
mkdir -p "$out_channel" "$out_decoder"
node "$ROOT/tests/fuzz/ua_split_streams.mjs" streams "$out_channel" "$out_decoder"
echo "seeds: $(ls "$out_channel" | wc -l) channel, $(ls "$out_decoder" | wc -l) decoder"
