#!/usr/bin/env bash
# make_pki_import_corpus.sh [OUT_DIR] — regenerates the seed corpus of pki_import_fuzz with the
# openssl CLI (not castellan's own builder, so the seeds do not share its habits): small EC
# certificates in PEM and DER, a bundle, a CRL with one entry, keys, CSRs, a v1 certificate.
set -euo pipefail
out=${1:-$(dirname "$0")/corpus/pki_import_fuzz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cd "$work"
days="-days 3650"

openssl ecparam -name prime256v1 -genkey -noout -out ca.key.trad
openssl pkcs8 -topk8 -nocrypt -in ca.key.trad -out ca.key
openssl req -x509 -new -key ca.key -subj "/O=castellan fuzz/CN=Fuzz Root" $days -sha256 -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -addext "keyUsage=critical,keyCertSign,cRLSign"

openssl ecparam -name prime256v1 -genkey -noout -out app.key
openssl req -new -key app.key -subj "/DC=plant/C=AT/O=Acme/OU=Line 3/CN=Prüfstand" -utf8 -out app.csr
cat > app.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:urn:acme:press4,DNS:press4.acme.local,IP:10.0.0.5,IP:fd00::5
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in app.csr -CA ca.pem -CAkey ca.key -CAcreateserial $days -sha256 -extfile app.ext -out app.pem

# Self-signed application certificate, and a v1 certificate (no extensions at all).
openssl req -x509 -new -key app.key -subj "/CN=self signed app" $days -sha384 -out self.pem \
  -addext "subjectAltName=URI:urn:self,DNS:localhost" -addext "extendedKeyUsage=clientAuth"
openssl x509 -req -in app.csr -signkey app.key $days -out v1.pem

# A CRL from the CA revoking the application certificate.
mkdir -p db && touch db/index.txt && echo 01 > db/crlnumber
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = fuzz_ca
[ fuzz_ca ]
database = db/index.txt
crlnumber = db/crlnumber
default_md = sha256
default_crl_days = 30
CNF
openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -revoke app.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl -out crl.pem 2>/dev/null

cp app.pem "$out/app.pem"
openssl x509 -in app.pem -outform DER -out "$out/app.der"
openssl x509 -in self.pem -outform DER -out "$out/self_sha384.der"
openssl x509 -in v1.pem -outform DER -out "$out/v1.der"
cat app.pem ca.pem > "$out/bundle.pem"
cat app.pem app.key > "$out/bundle_with_key.pem"
cp crl.pem "$out/crl.pem"
openssl crl -in crl.pem -outform DER -out "$out/crl.der"
cp ca.key "$out/key_pkcs8.pem"
cp ca.key.trad "$out/key_ec.pem"
openssl pkcs8 -topk8 -nocrypt -in app.key -outform DER -out "$out/key_pkcs8.der"
cp app.csr "$out/request.pem"
openssl req -in app.csr -outform DER -out "$out/request.der"
ls "$out" | wc -l
