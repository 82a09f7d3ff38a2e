#!/usr/bin/env bash
# End-to-end tour of the castellan CLI: init, the built-in CA, trust lists, verify, bad input,
# PKI folder import/export, configuration errors. Each check says what a user would see.
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
count_listed() { "$C" --data-dir d trust list --json | grep -c '"thumbprint"'; }

# init
expect_exit 0 "init" -- "$C" init --data-dir d
[ "$(stat -c %a d/own/private/key.pem)" = 600 ] && ok || bad "server key mode is $(stat -c %a d/own/private/key.pem)"
[ -f d/castellan.db ] && [ -d d/pki/trusted/certs ] && [ -d d/pki/rejected/certs ] && ok || bad "data directory layout"
expect_exit 0 "second init keeps everything" -- "$C" init --data-dir d
expect_in "second init" "kept" out.txt
server_tp=$(openssl x509 -in d/own/cert.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
"$C" init --data-dir d --json | grep -q "$server_tp" && ok || bad "server thumbprint matches openssl's SHA-1 fingerprint"
openssl x509 -in d/own/cert.pem -noout -ext subjectAltName | grep -q "URI:urn:" && ok || bad "server SAN URI"
openssl x509 -in d/own/cert.pem -noout -ext extendedKeyUsage | grep -q "TLS Web Server Authentication, TLS Web Client Authentication" && ok || bad "server EKU"

# global options before or after the subcommand, and from the environment
expect_exit 0 "--data-dir after the subcommand" -- "$C" trust list --data-dir d
expect_exit 0 "CASTELLAN_DATA_DIR" -- env CASTELLAN_DATA_DIR=d "$C" trust list
expect_exit nonzero "no data directory" -- "$C" --data-dir nowhere trust list
expect_in "no data directory" "BadNotFound" err.txt

# the built-in CA and a device certificate
expect_exit 0 "ca create" -- "$C" --data-dir d ca create --cn "Plant CA" --no-register
[ "$(stat -c %a d/ca/private/ca.key.pem)" = 600 ] && ok || bad "CA key mode"
expect_exit nonzero "a second CA is refused" -- "$C" --data-dir d ca create
expect_in "second CA" "BadEntryExists" err.txt
expect_exit 0 "cert issue" -- "$C" --data-dir d cert issue --cn SN0001 --ou line-1 --out dev1
[ "$(stat -c %a dev1.key.pem)" = 600 ] && ok || bad "device key mode"
openssl verify -CAfile d/ca/ca.pem dev1.pem >/dev/null 2>&1 && ok || bad "openssl verifies the issued certificate"
openssl x509 -in dev1.pem -noout -text > dev1.txt
expect_in "device profile" "CA:FALSE" dev1.txt
expect_in "device profile" "TLS Web Client Authentication" dev1.txt
grep -A1 "Key Usage: critical" dev1.txt | grep -q "Digital Signature" && ok || bad "keyUsage critical digitalSignature"
expect_in "device subject" "OU = line-1" dev1.txt

# a CSR made with openssl, signed by castellan
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout csr.key -subj "/CN=SN0002/O=Acme" -out dev2.csr 2>/dev/null
expect_exit 0 "cert sign" -- "$C" --data-dir d cert sign dev2.csr --out dev2.pem
openssl verify -CAfile d/ca/ca.pem dev2.pem >/dev/null 2>&1 && ok || bad "openssl verifies the signed CSR"
[ "$(openssl x509 -in dev2.pem -noout -pubkey)" = "$(openssl pkey -in csr.key -pubout)" ] && ok || bad "signed certificate carries the CSR's key"

# verify: exit 0 only for Good, the StatusCode name otherwise
expect_exit 0 "trusted-ca verdict" -- "$C" --data-dir d verify dev1.pem --mode trusted-ca --policy None
expect_in "trusted-ca verdict" "^Good" out.txt
expect_exit 1 "trusted-list verdict" -- "$C" --data-dir d verify dev1.pem --mode trusted-list --policy None
expect_in "trusted-list verdict" "BadCertificateUntrusted" out.txt
expect_exit 1 "default policy refuses an EC device key" -- "$C" --data-dir d verify dev1.pem --mode trusted-ca
expect_in "policy" "BadCertificatePolicyCheckFailed" out.txt
expect_exit 1 "EKU" -- "$C" --data-dir d verify dev1.pem --mode trusted-ca --policy None --use server
expect_in "EKU" "BadCertificateUseNotAllowed" out.txt
[ "$(count_listed)" = 1 ] && ok || bad "verify is a dry run"

# bad input: clear errors naming the file, nothing changed
before=$(count_listed)
head -c 300 /dev/urandom > garbage.der
expect_exit nonzero "garbage" -- "$C" --data-dir d trust add garbage.der
expect_in "garbage" "garbage.der" err.txt
head -c 200 dev1.pem > truncated.pem
expect_exit nonzero "truncated PEM" -- "$C" --data-dir d trust add truncated.pem
openssl x509 -in dev2.pem -outform DER | head -c 100 > truncated.der
expect_exit nonzero "truncated DER" -- "$C" --data-dir d trust add truncated.der
expect_in "truncated DER" "BadCertificateInvalid" err.txt
{ cat dev2.pem; printf -- "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"; } > bundle.pem
expect_exit nonzero "bundle with one bad entry" -- "$C" --data-dir d trust add dev1.pem bundle.pem
expect_in "bundle" "PEM entry 2" err.txt
expect_exit nonzero "a key where a certificate belongs" -- "$C" --data-dir d trust add dev1.key.pem
expect_in "key" "private key" err.txt
expect_exit nonzero "unknown thumbprint" -- "$C" --data-dir d trust approve 00112233445566778899AABBCCDDEEFF00112233
expect_in "unknown thumbprint" "BadNotFound" err.txt
expect_exit nonzero "not a thumbprint" -- "$C" --data-dir d trust remove xyz
expect_in "not a thumbprint" "BadInvalidArgument" err.txt
[ "$(count_listed)" = "$before" ] && ok || bad "bad input changed the lists"

# the approve workflow from the CLI
expect_exit 0 "trust add" -- "$C" --data-dir d trust add dev1.pem
dev1_tp=$(openssl x509 -in dev1.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
expect_exit nonzero "the same certificate twice" -- "$C" --data-dir d trust add dev1.pem
expect_in "twice" "BadEntryExists" err.txt
expect_in "twice" "$dev1_tp" err.txt
ls d/pki/trusted/certs | grep -q "$dev1_tp" && ok || bad "pki/ mirror follows the change"
expect_exit 0 "reject" -- "$C" --data-dir d trust reject "$dev1_tp"
"$C" --data-dir d trust list --state rejected | grep -q "$dev1_tp" && ok || bad "rejected list shows it"
ls d/pki/rejected/certs | grep -q "$dev1_tp" && ok || bad "pki/rejected mirror"
expect_exit 0 "approve (lower case, colons)" -- "$C" --data-dir d trust approve "$(echo "$dev1_tp" | tr A-F a-f | sed 's/../&:/g; s/:$//')"
expect_exit 0 "trusted-list verdict after approval" -- "$C" --data-dir d verify dev1.pem --mode trusted-list --policy None

# CRLs: made with openssl from the built-in CA, revoking dev2
mkdir -p ca/newcerts && touch ca/index.txt && echo 01 > ca/crlnumber
cat > ca.cnf <<CNF
[ ca ]
default_ca = c
[ c ]
database = ca/index.txt
new_certs_dir = ca/newcerts
crlnumber = ca/crlnumber
default_md = sha256
default_crl_days = 30
CNF
openssl ca -config ca.cnf -cert d/ca/ca.pem -keyfile d/ca/private/ca.key.pem -revoke dev2.pem >/dev/null 2>&1
openssl ca -config ca.cnf -cert d/ca/ca.pem -keyfile d/ca/private/ca.key.pem -gencrl -out ca.crl >/dev/null 2>&1
expect_exit 0 "crl add" -- "$C" --data-dir d trust crl add ca.crl
expect_exit 1 "revoked by openssl's CRL" -- "$C" --data-dir d verify dev2.pem --mode trusted-ca --policy None
expect_in "revoked" "BadCertificateRevoked" out.txt
expect_exit 0 "not revoked" -- "$C" --data-dir d verify dev1.pem --mode trusted-ca --policy None
openssl verify -crl_check -CAfile d/ca/ca.pem -CRLfile ca.crl dev2.pem >/dev/null 2>&1 && bad "openssl accepts a revoked cert?" || ok

# export and import the OPC UA PKI folder layout
expect_exit 0 "export" -- "$C" --data-dir d trust export exported
[ "$(ls exported/trusted/certs | wc -l)" = 2 ] && [ "$(ls exported/trusted/crl | wc -l)" = 1 ] && ok || bad "export layout"
openssl x509 -inform DER -in "exported/trusted/certs/$(ls exported/trusted/certs | head -1)" -noout 2>/dev/null && ok || bad "exported files are DER certificates"
expect_exit 0 "init second" -- "$C" init --data-dir e
expect_exit 0 "import" -- "$C" --data-dir e trust import exported
expect_exit 1 "imported CRL applies" -- "$C" --data-dir e verify dev2.pem --mode trusted-ca --policy None
head -c 50 /dev/urandom > exported/trusted/certs/broken.der
cp dev2.pem exported/trusted/certs/new.pem
expect_exit nonzero "import with one broken file" -- "$C" --data-dir e trust import exported
expect_in "import broken" "broken.der" err.txt
"$C" --data-dir e trust list | grep -q "SN0002" && bad "partial import happened" || ok

# configuration errors
expect_exit nonzero "bad mode" -- "$C" --data-dir d --set trust.mode=bogus trust list
expect_in "bad mode" "BadConfigurationError" err.txt
echo -e '[trust]\nmdoe = "trusted-ca"' > bad.toml
expect_exit nonzero "unknown key in the file" -- "$C" --data-dir d --config bad.toml trust list
expect_in "unknown key" "bad.toml: unknown setting 'trust.mdoe'" err.txt
expect_exit 0 "env override" -- env CASTELLAN_TRUST_MODE=trusted-ca "$C" --data-dir d config show --json
expect_in "env override" '"mode": "trusted-ca"' out.txt

# the device registry: CAs, manual registration, the lifecycle, search
ca_tp=$(openssl x509 -in d/ca/ca.pem -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)
expect_exit nonzero "a device certificate is not a CA" -- "$C" --data-dir d ca register dev1.pem
expect_in "not a CA" "BadCertificateIssuerUseNotAllowed" err.txt
expect_exit 0 "ca register" -- "$C" --data-dir d ca register d/ca/ca.pem
expect_exit nonzero "ca register twice" -- "$C" --data-dir d ca register d/ca/ca.pem
expect_in "ca twice" "BadEntryExists" err.txt
expect_exit 0 "device register" -- "$C" --data-dir d device register dev1.pem --client-id press-1
expect_exit nonzero "the same client ID again" -- "$C" --data-dir d device register dev2.pem --client-id press-1
expect_in "duplicate client ID" "press-1" err.txt
expect_exit 0 "device register inactive" -- "$C" --data-dir d device register dev2.pem --inactive
"$C" --data-dir d device list --status not-activated --json | grep -q '"common_name": "SN0002"' && ok || bad "filter by status"
"$C" --data-dir d device list --ou line-1 --json | grep -q '"total": 1' && ok || bad "filter by OU"
"$C" --data-dir d device list --cn 'SN*' --json | grep -q '"total": 2' && ok || bad "filter by CN prefix"
"$C" --data-dir d device list --expiring-within 400 --json | grep -q '"total": 2' && ok || bad "expiring within"
"$C" --data-dir d device list --expired --json | grep -q '"total": 0' && ok || bad "expired"
expect_exit nonzero "delete an activated device" -- "$C" --data-dir d device delete "$dev1_tp"
expect_in "delete activated" "BadInvalidState" err.txt
expect_exit nonzero "delete a CA with live devices" -- "$C" --data-dir d ca delete "$ca_tp"
expect_exit 0 "revoke" -- "$C" --data-dir d device revoke "$dev1_tp"
expect_exit nonzero "revoked is final" -- "$C" --data-dir d device activate "$dev1_tp"
expect_in "final" "revocation is final" err.txt
"$C" --data-dir d device show "$dev1_tp" | grep -q "status: revoked" && ok || bad "device show"
expect_exit 0 "ca deactivate" -- "$C" --data-dir d ca deactivate "$ca_tp"
"$C" --data-dir d ca list --json | grep -q '"active": false' && ok || bad "ca list shows it inactive"

# the audit log: every change above is there, newest first, filterable
"$C" --data-dir d audit --action trust.approve --json | grep -q "\"target\": \"$dev1_tp\"" && ok || bad "audit shows the approval"
"$C" --data-dir d audit --action registry.device.revoke | grep -q "$dev1_tp" && ok || bad "audit shows the revocation"
"$C" --data-dir d audit --result BadCertificateUntrusted --json | grep -q '"result"' && bad "verify (a dry run) wrote an audit record" || ok
expect_exit nonzero "audit with a bad date" -- "$C" --data-dir d audit --since yesterday
expect_in "bad date" "BadInvalidArgument" err.txt

# serve runs the edges that exist, says which are missing, and stops cleanly on SIGTERM
ua_port=$(free_port)
"$C" --data-dir d --set device.mtls_listen=off --set admin.listen=off --set ua.listen=127.0.0.1:$ua_port serve > serve.log 2>&1 &
serve_pid=$!
for _ in $(seq 50); do [ -S d/run/device-admission.sock ] && break; sleep 0.1; done
[ -S d/run/device-admission.sock ] && ok || bad "serve opened the device admission socket"
expect_exit nonzero "a second serve on the same data directory" -- "$C" --data-dir d --set device.mtls_listen=off --set admin.listen=off --set ua.listen=off serve
expect_in "second serve" "already answering" err.txt
kill -TERM "$serve_pid"; wait "$serve_pid"; serve_rc=$?
[ "$serve_rc" = 0 ] && ok || bad "serve exits 0 on SIGTERM (got $serve_rc)"
expect_in "serve log" "OPC UA server opc.tcp://" serve.log
expect_in "serve log" "castellan stopped" serve.log
[ ! -e d/run/device-admission.sock ] && ok || bad "the socket is removed on stop"

# help is complete
for sub in init serve verify "trust list" "trust add" "trust approve" "trust crl add" "trust import" "trust export" "ca create" "cert issue" "cert sign" "config keys" "ca register" "device list" "device revoke"; do
  # shellcheck disable=SC2086
  "$C" $sub --help >/dev/null 2>&1 && ok || bad "$sub --help"
done

summary cli
