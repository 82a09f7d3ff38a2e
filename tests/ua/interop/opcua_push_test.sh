#!/usr/bin/env bash
# OPC UA push certificate management (Part 12 §7.10) on castellan, driven by node-opcua as the
# administrator's client: ServerConfiguration properties, the TrustList read through the file
# methods and decoded with node-opcua's TrustListDataType, AddCertificate then a client with
# that certificate connects, RemoveCertificate, CloseAndUpdate, access refused to non-admins and
# to Sign-only channels, file handles freed with their session, CreateSigningRequest signed by a
# CA made here with the openssl CLI, UpdateCertificate + ApplyChanges, and new clients seeing the
# new server certificate while an old channel keeps working. Usage: opcua_push_test.sh CASTELLAN
set -u
C=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../support/harness.sh"
PUSH="node $HERE/ua_push_peer.mjs"
[ -d "$HERE/node_modules/node-opcua-types" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }

work=$(mktemp -d)
server=""
holder=""
rider=""
trap 'kill $server $holder $rider 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

port=$(free_port)
url="opc.tcp://127.0.0.1:$port"
"$C" --data-dir d init >/dev/null || { echo "init failed"; exit 1; }
extra=()
"$C" config keys 2>/dev/null | grep -q '`admin.listen`' && extra+=(--set admin.listen=off)
"$C" --data-dir d --set ua.listen=127.0.0.1:$port --set ua.allow_anonymous=true --set device.mtls_listen=off "${extra[@]}" serve >>castellan.log 2>&1 &
server=$!
for _ in $(seq 100); do "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && break; sleep 0.2; done

field() { jq -r "$1" <<<"$2"; }
push() { local cmd=$1; shift; timeout 90 $PUSH "$cmd" --url "$url" --pki pki-client "$@" 2>/dev/null | tail -1; }
ADMIN=(--user root --password 'root password 1')
OPERATOR=(--user olga --password 'operator password 1')
"$C" --data-dir d user add root --password 'root password 1' --role SecurityAdmin >/dev/null
"$C" --data-dir d user add olga --password 'operator password 1' --role Operator >/dev/null

# The administrator's own client certificate is trusted the usual way first.
r=$(push config "${ADMIN[@]}")
[ "$(field .ok "$r")" = false ] && ok || bad "an unknown client is refused: $r"
admin_tp=$("$C" --json --data-dir d trust list --state rejected | jq -r '.[0].thumbprint')
"$C" --data-dir d trust approve "$admin_tp" >/dev/null && ok || bad "approve the admin client"

# --- ServerConfiguration properties -------------------------------------------------------------
r=$(push config "${ADMIN[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "ServerConfiguration properties read: $r"
[ "$(field '.supportedPrivateKeyFormats | join(",")' "$r")" = PEM ] && ok || bad "SupportedPrivateKeyFormats: $r"
[ "$(field .maxTrustListSize "$r")" -gt 0 ] && ok || bad "MaxTrustListSize: $r"
[ "$(field .multicastDnsEnabled "$r")" = false ] && ok || bad "MulticastDnsEnabled: $r"
[ "$(field '.certificateTypes[0]' "$r")" = "ns=0;i=12560" ] && ok || bad "CertificateTypes = RsaSha256ApplicationCertificateType: $r"
[ "$(field .writable "$r")" = true ] && [ "$(field .openCount "$r")" = 0 ] && ok || bad "Writable, OpenCount: $r"
last_update_1=$(field .lastUpdateTime "$r")
size_1=$(field .size "$r")

# --- the trust list through the file methods, decoded by node-opcua ------------------------------
r=$(push trust-read "${ADMIN[@]}" --chunk 300)
[ "$(field .ok "$r")" = true ] && ok || bad "TrustList Open/Read/Close: $r"
[ "$(field '.trusted_certificates | index("'"$admin_tp"'") != null' "$r")" = true ] && ok || bad "the trusted admin client is in TrustedCertificates: $r"
[ "$(field .specified_lists "$r")" = 15 ] && ok || bad "SpecifiedLists = All: $r"
[ "$(field .reads "$r")" -gt 2 ] && ok || bad "read in several chunks: $r"
[ "$(field .bytes "$r")" = "$size_1" ] && ok || bad "TrustList.Size is the encoded size: $r (Size $size_1)"
[ "$(field .open_count_while_open "$r")" = 1 ] && ok || bad "OpenCount counts the open handle: $r"
[ "$(field '.trusted_certificates | length' "$r")" = "$("$C" --json --data-dir d trust list --state trusted | jq length)" ] \
  && ok || bad "the same trusted list as the CLI's"
r=$(push trust-read "${ADMIN[@]}" --masks 4)
[ "$(field .specified_lists "$r")" = 4 ] && [ "$(field '.trusted_certificates | length' "$r")" = 0 ] && ok || bad "OpenWithMasks(IssuerCertificates): $r"

# --- access: SecurityAdmin on SignAndEncrypt only -------------------------------------------------
r=$(push open "${OPERATOR[@]}")
[ "$(field .status "$r")" = BadUserAccessDenied ] && ok || bad "an Operator may not open the TrustList: $r"
r=$(push open "${ADMIN[@]}" --mode Sign)
[ "$(field .status "$r")" = BadSecurityModeInsufficient ] && ok || bad "not over a Sign-only channel: $r"
r=$(push rejected "${ADMIN[@]}" --mode Sign)
[ "$(field .status "$r")" = BadSecurityModeInsufficient ] && ok || bad "GetRejectedList not over Sign: $r"
r=$(push csr "${OPERATOR[@]}" --out x.der)
[ "$(field .status "$r")" = BadUserAccessDenied ] && ok || bad "CreateSigningRequest refused to an Operator: $r"

# --- AddCertificate, then a client with that certificate connects ---------------------------------
cat > app.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = plc-42
[ext]
subjectAltName = URI:urn:plant:plc-42,DNS:localhost
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage = clientAuth
basicConstraints = critical,CA:FALSE
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout plc.key -out plc.pem -days 30 -config app.cnf -extensions ext 2>/dev/null
openssl x509 -in plc.pem -outform DER -out plc.der
plc_tp=$(thumb plc.pem)
plc() { timeout 60 $PUSH server-cert --url "$url" --pki pki-plc --cert plc.pem --key plc.key --app-uri urn:plant:plc-42 2>/dev/null | tail -1; }
r=$(plc)
[ "$(field .ok "$r")" = false ] && ok || bad "the PLC is refused before it is trusted: $r"
"$C" --data-dir d trust remove "$plc_tp" >/dev/null 2>&1  # forget the rejected entry; AddCertificate adds
sleep 1
r=$(push trust-add "${ADMIN[@]}" --der plc.der --trusted true)
[ "$(field .ok "$r")" = true ] && ok || bad "AddCertificate(isTrustedCertificate=true): $r"
r=$(plc)
[ "$(field .ok "$r")" = true ] && ok || bad "the PLC connects after AddCertificate: $r"
[ "$("$C" --json --data-dir d trust show "$plc_tp" | jq -r .state)" = trusted ] && ok || bad "the CLI sees it trusted"
"$C" --json --data-dir d audit --action trust.add --limit 10 | jq -e --arg t "$plc_tp" 'map(select(.target == $t and .actor == "root")) | length == 1' >/dev/null \
  && ok || bad "AddCertificate is audited as trust.add by root"
r=$(push config "${ADMIN[@]}")
[ "$(field .lastUpdateTime "$r")" \> "$last_update_1" ] && ok || bad "LastUpdateTime moved: $last_update_1 → $(field .lastUpdateTime "$r")"
r=$(push trust-add "${ADMIN[@]}" --der plc.der --trusted false)
[ "$(field .status "$r")" = BadCertificateIssuerUseNotAllowed ] && ok || bad "a non-CA is not an issuer: $r"
# A change from another edge (the CLI) shows in LastUpdateTime too.
last_update_2=$(field .lastUpdateTime "$(push config "${ADMIN[@]}")")
sleep 1.1
"$C" --data-dir d trust reject "$plc_tp" >/dev/null
r=$(push config "${ADMIN[@]}")
[ "$(field .lastUpdateTime "$r")" \> "$last_update_2" ] && ok || bad "LastUpdateTime follows the CLI's change: $r"
"$C" --data-dir d trust approve "$plc_tp" >/dev/null

# --- RemoveCertificate ------------------------------------------------------------------------------
r=$(push trust-remove "${ADMIN[@]}" --thumbprint "$plc_tp" --trusted false)
[ "$(field .status "$r")" = BadInvalidArgument ] && ok || bad "RemoveCertificate from the wrong list: $r"
r=$(push trust-remove "${ADMIN[@]}" --thumbprint "$plc_tp" --trusted true)
[ "$(field .ok "$r")" = true ] && ok || bad "RemoveCertificate: $r"
r=$(plc)
[ "$(field .ok "$r")" = false ] && ok || bad "the PLC is refused once removed: $r"

# --- a CA made here: issuer list and CRL through CloseAndUpdate --------------------------------------
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Push Test CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca]
default_ca = own
[own]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
CNF
touch index.txt; echo 01 > crlnumber
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -config ca.cnf -extensions ca_ext 2>/dev/null
openssl x509 -in ca.pem -outform DER -out ca.der
openssl ca -gencrl -config ca.cnf -keyfile ca.key -cert ca.pem -out ca.crl.pem 2>/dev/null
openssl crl -in ca.crl.pem -outform DER -out ca.crl
ca_tp=$(thumb ca.pem)
# Whole trust list: the admin client and the PLC trusted, the CA as issuer with its CRL.
"$C" --data-dir d trust export exported >/dev/null
cp "$(ls exported/trusted/certs/* | grep -i "$admin_tp")" admin.der || bad "the admin client's certificate exported"
r=$(push trust-write "${ADMIN[@]}" --masks 15 --trusted admin.der,plc.der --issuers ca.der --issuer-crls ca.crl)
[ "$(field .ok "$r")" = true ] && [ "$(field .apply_changes_required "$r")" = false ] && ok || bad "CloseAndUpdate applies at once: $r"
[ "$("$C" --json --data-dir d trust show "$ca_tp" | jq -r .state)" = issuer ] && ok || bad "the CA is in the issuer list"
[ "$("$C" --json --data-dir d trust crl list 2>/dev/null | jq length)" = 1 ] && ok || bad "the CRL is stored"
r=$(push trust-read "${ADMIN[@]}")
[ "$(field '.issuer_certificates[0]' "$r")" = "$ca_tp" ] && [ "$(field .issuer_crls "$r")" = 1 ] \
  && [ "$(field '.trusted_certificates | length' "$r")" = 2 ] && ok || bad "read back what was written: $r"
r=$(plc)
[ "$(field .ok "$r")" = true ] && ok || bad "the PLC, trusted again by the update, connects: $r"
# SpecifiedLists: only the trusted list is replaced; the issuer list stays.
r=$(push trust-write "${ADMIN[@]}" --masks 1 --trusted admin.der)
[ "$(field .ok "$r")" = true ] && ok || bad "CloseAndUpdate(TrustedCertificates only): $r"
r=$(push trust-read "${ADMIN[@]}")
[ "$(field '.trusted_certificates | length' "$r")" = 1 ] && [ "$(field '.issuer_certificates | length' "$r")" = 1 ] \
  && ok || bad "masks honoured: $r"
"$C" --json --data-dir d audit --action trust.remove --limit 20 | jq -e --arg t "$plc_tp" 'map(select(.target == $t)) | length >= 2' >/dev/null \
  && ok || bad "removals by CloseAndUpdate are audited"
# RemoveCertificate of a CA takes its CRLs with it (Part 12 §7.8.2.5).
r=$(push trust-remove "${ADMIN[@]}" --thumbprint "$ca_tp" --trusted false)
[ "$(field .ok "$r")" = true ] && [ "$("$C" --json --data-dir d trust crl list | jq length)" = 0 ] \
  && ok || bad "RemoveCertificate(CA) removes its CRL: $r"
# A garbage trust list changes nothing.
r=$(push trust-write "${ADMIN[@]}" --masks 1 --trusted ca.crl)
[ "$(field .ok "$r")" = false ] && ok || bad "a CRL in the certificate list is refused: $r"
[ "$("$C" --json --data-dir d trust list --state trusted | jq length)" = 1 ] && ok || bad "and nothing changed"

# --- handles belong to the session --------------------------------------------------------------------
r=$(push open-and-leave "${ADMIN[@]}")
[ "$(field .open_count "$r")" = 1 ] && ok || bad "a writer holds the file: $r"
r=$(push config "${ADMIN[@]}")
[ "$(field .openCount "$r")" = 0 ] && ok || bad "its handle went with its session: $r"
r=$(push open "${ADMIN[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "the file opens again: $r"

# --- GetRejectedList stays -----------------------------------------------------------------------------
r=$(push rejected "${ADMIN[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "GetRejectedList for a SecurityAdmin: $r"

# --- CreateSigningRequest → CA signs → UpdateCertificate → ApplyChanges --------------------------------
old=$(push server-cert "${ADMIN[@]}")
old_tp=$(field .session_server_certificate "$old")
[ "$old_tp" = "$(thumb d/own/cert.pem)" ] && ok || bad "the server certificate before: $old"
r=$(push get-certificates "${ADMIN[@]}")
[ "$(field '.certificates[0]' "$r")" = "$old_tp" ] && [ "$(field '.types[0]' "$r")" = "ns=0;i=12560" ] && ok || bad "GetCertificates: $r"
r=$(push csr "${ADMIN[@]}" --out server.csr.der --subject "CN=castellan renewed, O=Push Test" --regenerate true)
[ "$(field .ok "$r")" = true ] && ok || bad "CreateSigningRequest: $r"
openssl req -inform DER -in server.csr.der -out server.csr.pem && openssl req -in server.csr.pem -verify -noout 2>/dev/null \
  && ok || bad "the CSR is a valid PKCS#10 request"
openssl req -in server.csr.pem -noout -subject | grep -q "castellan renewed" && ok || bad "the CSR has the subject asked for"
openssl req -in server.csr.pem -noout -text | grep -q "URI:urn:" && ok || bad "the CSR asks for the ApplicationUri SAN"
cat > server_ext.cnf <<'CNF'
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage = serverAuth,clientAuth
authorityKeyIdentifier = keyid
CNF
openssl x509 -req -in server.csr.pem -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -copy_extensions copyall \
  -extfile server_ext.cnf -extensions ext -out new_server.pem 2>/dev/null
openssl x509 -in new_server.pem -outform DER -out new_server.der
new_tp=$(thumb new_server.pem)
holder_done=$work/release-holder
timeout 120 $PUSH hold --url "$url" --pki pki-client "${ADMIN[@]}" --until "$holder_done" >holder.json 2>/dev/null &
holder=$!
# A second one, told to reconnect, rides out the restart further down.
rider_done=$work/release-rider
timeout 240 $PUSH hold --url "$url" --pki pki-client "${ADMIN[@]}" --until "$rider_done" --reconnect true --timeout 200000 >rider.json 2>/dev/null &
rider=$!
sleep 2
r=$(push update "${ADMIN[@]}" --new-cert new_server.der --issuers ca.der)
[ "$(field .ok "$r")" = true ] && [ "$(field .apply_changes_required "$r")" = true ] && ok || bad "UpdateCertificate: $r"
[ "$(thumb d/own/cert.pem)" = "$new_tp" ] && ok || bad "own/cert.pem is the new certificate"
[ "$(stat -c %a d/own/private/key.pem)" = 600 ] && ok || bad "the new key is 0600"
r=$(push server-cert "${ADMIN[@]}")
[ "$(field .session_server_certificate "$r")" = "$old_tp" ] && ok || bad "before ApplyChanges new channels still get the old one: $r"
r=$(push apply "${ADMIN[@]}")
[ "$(field .ok "$r")" = true ] && ok || bad "ApplyChanges: $r"
r=$(push server-cert "${ADMIN[@]}")  # a new process: a new client, a new channel
[ "$(field .ok "$r")" = true ] && ok || bad "a new node-opcua client connects after ApplyChanges: $r"
[ "$(field .session_server_certificate "$r")" = "$new_tp" ] && ok || bad "and it got the new certificate: $r"
[ "$(field .session_server_chain_length "$r")" = 2 ] && ok || bad "with its issuer, so clients can build the chain: $r"
[ "$(field '.endpoint_certificates | join(",")' "$r")" = "$new_tp" ] && ok || bad "GetEndpoints shows the new certificate: $r"
openssl verify -CAfile ca.pem new_server.pem >/dev/null && ok || bad "the new certificate chains to the test CA"
touch "$holder_done"
wait $holder
holder=""
r=$(tail -1 holder.json)
[ "$(field .first "$r")" = Good ] && [ "$(field .second "$r")" = Good ] && [ "$(field .server_certificate "$r")" = "$old_tp" ] \
  && ok || bad "a channel opened before ApplyChanges keeps working with the old certificate: $r"
r=$(push get-certificates "${ADMIN[@]}")
[ "$(field '.certificates[0]' "$r")" = "$new_tp" ] && ok || bad "GetCertificates after ApplyChanges: $r"
for action in own.certificate.update own.certificate.apply; do
  "$C" --json --data-dir d audit --action $action --limit 5 | jq -e --arg t "$new_tp" 'map(select(.target == $t and .actor == "root")) | length == 1' >/dev/null \
    && ok || bad "$action audited"
done
# A certificate for another application, and a key that is not the certificate's, are refused.
openssl x509 -in plc.pem -outform DER -out plc2.der
r=$(push update "${ADMIN[@]}" --new-cert plc2.der)
[ "$(field .ok "$r")" = false ] && ok || bad "UpdateCertificate with a certificate for another ApplicationUri: $r"
openssl x509 -req -in server.csr.pem -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -copy_extensions copyall \
  -extfile server_ext.cnf -extensions ext -out same_key.pem 2>/dev/null
openssl x509 -in same_key.pem -outform DER -out same_key.der
r=$(push update "${ADMIN[@]}" --new-cert same_key.der --issuers ca.der --key-pem plc.key)
[ "$(field .status "$r")" = BadSecurityChecksFailed ] && ok || bad "a private key that is not the certificate's: $r"

# --- a restart keeps the new certificate -----------------------------------------------------------------
kill -TERM $server; wait $server
"$C" --data-dir d --set ua.listen=127.0.0.1:$port --set ua.allow_anonymous=true --set device.mtls_listen=off "${extra[@]}" serve >>castellan.log 2>&1 &
server=$!
for _ in $(seq 100); do "$C" --data-dir d ua endpoints --url "$url" >/dev/null 2>&1 && break; sleep 0.2; done
r=$(push server-cert "${ADMIN[@]}")
[ "$(field .session_server_certificate "$r")" = "$new_tp" ] && ok || bad "after a restart: $r"
touch "$rider_done"
wait $rider
rider=""
r=$(tail -1 rider.json)
[ "$(field .server_certificate "$r")" = "$old_tp" ] && [ "$(field .second "$r")" = Good ] \
  && [ "$(field .server_certificate_after "$r")" = "$new_tp" ] && ok || bad "a node-opcua client connected before reconnects with the new certificate: $r"

kill -TERM $server; wait $server
server=""
[ "$failed" -eq 0 ] || { echo "--- castellan.log"; tail -40 castellan.log; }
summary "opcua push"
