#!/usr/bin/env bash
# Rebuilds the seed corpus of config_toml_fuzz from real configuration files: the file
# `castellan init` writes (plain and on PostgreSQL), one that sets every key, the files the
# configuration tests use (tests/app, tests/http/admin_ops_test.sh), and the same files followed
# by the PATCH bodies admin_ops_test.sh sends to /api/v1/config.
# Usage: tests/fuzz/make_config_toml_corpus.sh build/castellan
set -eu
C=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out="$ROOT/tests/fuzz/corpus/config_toml_fuzz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"
"$C" --data-dir "$work/d" init >/dev/null 2>&1
sed "s|$work/d|/var/lib/castellan|g" "$work/d/castellan.toml" >"$out/init.toml"
cat >"$out/every_key.toml" <<'TOML'
[server]
node_name = "node-a"
application_uri = "urn:plant:castellan"
host_names = ["castellan.plant.example", "10.0.0.5", "localhost"]
[store]
location = "postgresql://castellan@db.plant.example:5432/castellan?sslmode=verify-full"
pool_size = 4
[trust]
mode = "trusted-ca"
auto_reject = false
max_rejected = 50
require_crl = true
system_ca_file = "/etc/ssl/certs/ca-certificates.crt"
[registry]
enabled = true
registration = "manual"
signup_rate = 0
[device]
admission_socket = "/run/castellan/device-admission.sock"
mtls_listen = "[::1]:9443"
[ua]
listen = "0.0.0.0:4840"
endpoint_url = "opc.tcp://castellan.plant.example:4840"
policies = ["Basic256Sha256", "Aes256_Sha256_RsaPss", "Basic128Rsa15"]
modes = [
  "Sign",
  "SignAndEncrypt",
]
allow_none = true
allow_anonymous = false
detailed_errors = true
max_sessions = 100
max_channels = 200
registry_gate = true
[authz]
enabled = true
requestors = ["urn:plant:hmi", "0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"]
accept_tokens = false
request_timeout = 30
identity_providers = ["urn:idp=/etc/castellan/idp.pem"]
[admin]
listen = "127.0.0.1:8443"
certificate = "/etc/castellan/admin.pem"
private_key = "/etc/castellan/admin.key"
header_limit = 8192
body_limit = 1048576
timeout_seconds = 10
console = "off"
[log]
level = "debug"
format = "json"
TOML
printf '[trust]\nmode = "trusted-ca"\nmax_rejected = 10\n[server]\nhost_names = ["a", "b"]\n' >"$out/config_test.toml"
printf '[trust]\nauto_reject = "perhaps"\n' >"$out/bad_bool.toml"
printf '[trust\nmode = 1\n' >"$out/broken.toml"
printf '[log]\nlevel = "error"\n[trust]\nmax_rejected = -5\n' >"$out/negative.toml"
printf '[trust]\nmdoe = "trusted-ca"\n' >"$out/unknown_key.toml"
printf 'mode = "accept-any"\n' >"$out/no_section.toml"
patch() { { cat "$1"; printf '\n#%%%%PATCH\n%s' "$2"; } >"$3"; }
patch "$out/init.toml" '{"log.level":"debug","registry.signup_rate":20}' "$out/patch_live.toml"
patch "$out/init.toml" '{"ua.allow_anonymous":true,"admin.listen":"127.0.0.1:9444"}' "$out/patch_restart.toml"
patch "$out/every_key.toml" '{"ua.policies":["Basic256Sha256"],"ua.modes":null,"log.format":null}' "$out/patch_lists.toml"
patch "$out/every_key.toml" '{"trust.max_rejected":-5,"log.level":"loud","server.host_names":["a,b"]}' "$out/patch_refused.toml"
patch "$out/config_test.toml" '{"server.application_uri":"urn:a\"b\n[trust]\nmode = \"accept-any\""}' "$out/patch_quote.toml"
echo "seeds: $(ls "$out" | wc -l)"
