#!/usr/bin/env bash
# Crash safety across the services: `castellan serve` is killed with SIGKILL in the middle of a
# burst of device registrations (mTLS), trust approvals and API token issues (admin API). After
# the crash every acknowledged change is there with its audit record, nothing is half-written,
# and the store passes its integrity check. Then the data directory's disk fills up, and then
# it turns read-only: each change is refused with a clear error, nothing is corrupted, and all
# works again once space or write access is back. (Those two need a tmpfs mount: as root; they
# are skipped with a message otherwise.)
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
C=$(realpath "$1")
work=$(mktemp -d)
server=""
mnt=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  wait 2>/dev/null
  [ "${failed:-0}" -ne 0 ] && [ -f "$work/castellan.log" ] && { echo "--- castellan.log"; tail -20 "$work/castellan.log"; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export CASTELLAN_ADMIN_PASSWORD="crash-admin-$$"

"$C" init --data-dir d > /dev/null || { bad "init"; exit 1; }
"$C" --data-dir d ca create --cn "Fleet CA" > /dev/null || bad "ca create"
token=$("$C" --data-dir d --json user token create admin --role SecurityAdmin --description crash-test | jq -r .token)
[ -n "$token" ] && [ "$token" != null ] && ok || bad "an API token for the burst"

# 40 devices, 20 client certificates waiting in the rejected list, 20 tokens to issue.
for i in $(seq -f "%02g" 1 40); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "dev$i.key.pem" -subj "/CN=dev$i" -out "r$i.csr" 2>/dev/null
  openssl x509 -req -in "r$i.csr" -CA d/ca/ca.pem -CAkey d/ca/private/ca.key.pem -CAcreateserial -days 30 -out "dev$i.pem" \
    -extfile <(printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n") 2>/dev/null
done
for i in $(seq -f "%02g" 1 20); do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "app$i.key" -out "app$i.pem" -days 30 \
    -subj "/CN=app$i" -addext "subjectAltName=URI:urn:crash:app$i" 2>/dev/null
  cat "app$i.pem" >> apps.pem
done
"$C" --data-dir d trust add apps.pem > /dev/null || bad "trust add"
for i in $(seq -f "%02g" 1 20); do "$C" --data-dir d trust reject "$(thumb "app$i.pem")" > /dev/null || bad "reject app$i"; done

mtls=$(free_port)
admin=$(free_port)
start_server() {
  "$C" --data-dir d --set registry.signup_rate=0 --set device.mtls_listen=127.0.0.1:$mtls --set admin.listen=127.0.0.1:$admin \
    --set ua.listen=off serve >> castellan.log 2>&1 &
  server=$!
  for _ in $(seq 200); do grep -q "admin HTTPS API" castellan.log && grep -q "device mTLS endpoint" castellan.log && return 0; sleep 0.05; done
  return 1
}
start_server && ok || { bad "server did not start"; exit 1; }
api() {  # api METHOD PATH OUT [curl args…] → HTTP status
  local method=$1 path=$2 out=$3
  shift 3
  curl -s -o "$out" -w '%{http_code}' --max-time 10 -k -H "Authorization: Bearer $token" -X "$method" "$@" "https://127.0.0.1:$admin$path"
}

mkdir acks
burst=()
for i in $(seq -f "%02g" 1 40); do
  ( [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -k --cert "dev$i.pem" --key "dev$i.key.pem" \
        "https://127.0.0.1:$mtls/device/v1/whoami")" = 200 ] && touch "acks/registered-$i" ) &
  burst+=($!)
done
for i in $(seq -f "%02g" 1 20); do
  ( [ "$(api POST "/api/v1/trust/certificates/$(thumb "app$i.pem")/approve" /dev/null)" = 200 ] && touch "acks/approved-$i" ) &
  burst+=($!)
  ( [ "$(api POST /api/v1/tokens "acks/token-body-$i" -H 'Content-Type: application/json' \
          --data "{\"roles\":[\"SecurityAdmin\"],\"description\":\"burst-$i\"}")" = 201 ] && touch "acks/token-$i" ) &
  burst+=($!)
done
# Killed mid-burst: once some of each kind are acknowledged (10 s at most).
some_of_each() {
  [ "$(ls acks | grep -c '^registered-')" -ge 3 ] && [ "$(ls acks | grep -c '^approved-')" -ge 3 ] &&
    [ "$(ls acks | grep -c '^token-[0-9]*$')" -ge 3 ]
}
for _ in $(seq 200); do some_of_each && break; sleep 0.05; done
kill -9 "$server"
wait "$server" 2>/dev/null
server=""
wait "${burst[@]}" 2>/dev/null
registered=$(ls acks | grep -c '^registered-' || true)
approved=$(ls acks | grep -c '^approved-' || true)
tokens=$(ls acks | grep -c '^token-[0-9]*$' || true)
echo "acknowledged before the kill: $registered registrations, $approved approvals, $tokens tokens"
[ $((registered + approved + tokens)) -gt 0 ] && ok || bad "nothing was acknowledged before the kill"

"$C" --data-dir d store check > /dev/null && ok || bad "integrity check after kill -9"
missing=0
for f in acks/registered-*; do
  [ -e "$f" ] || continue
  "$C" --data-dir d device show "$(thumb "dev${f##*-}.pem")" > /dev/null 2>&1 || missing=$((missing + 1))
done
for f in acks/approved-*; do
  [ -e "$f" ] || continue
  "$C" --data-dir d --json trust show "$(thumb "app${f##*-}.pem")" | grep -q '"state": "trusted"' || missing=$((missing + 1))
done
"$C" --data-dir d --json user token list > tokens.json
for f in acks/token-[0-9]*; do
  [ -e "$f" ] || continue
  case "$f" in *body*) continue ;; esac
  id=$(jq -r .id "acks/token-body-${f##*-}")
  grep -q "\"$id\"" tokens.json || missing=$((missing + 1))
done
[ "$missing" = 0 ] && ok || bad "$missing acknowledged changes are missing after kill -9"
# Nothing half-written: every change that is there has its audit record, and no more.
trusted=$("$C" --data-dir d --json trust list --state trusted | grep -c '"subject": "CN=app')
approvals=$("$C" --data-dir d --json audit --action trust.approve --limit 10000 | grep -c '"action"')
[ "$trusted" = "$approvals" ] && ok || bad "$trusted trusted certificates but $approvals approval records"
burst_tokens=$(grep -c '"burst-' tokens.json)
token_audits=$("$C" --data-dir d --json audit --action user.token.create --limit 10000 | grep -c '"action"')
[ "$token_audits" = $((burst_tokens + 1)) ] && ok || bad "$burst_tokens burst tokens (+1) but $token_audits token records"
auto_rows=$("$C" --data-dir d --json device list --limit 1000 | grep -c '"registration": "auto"')
auto_audits=$("$C" --data-dir d --json audit --action registry.device.auto_register --limit 10000 | grep -c '"action"')
[ "$auto_rows" = "$auto_audits" ] && ok || bad "$auto_rows automatic registrations but $auto_audits audit records"
: > castellan.log
start_server && ok || bad "the server restarts after kill -9"
[ "$(curl -s -o /dev/null -w '%{http_code}' -k --cert dev40.pem --key dev40.key.pem "https://127.0.0.1:$mtls/device/v1/whoami")" = 200 ] \
  && ok || bad "a device is admitted after the restart"
kill "$server"; wait "$server" 2>/dev/null; server=""

# A full disk and a read-only data directory: a small tmpfs of its own (root only).
mnt="$work/small"
mkdir "$mnt"
if ! mount -t tmpfs -o size=8m,mode=0755 tmpfs "$mnt" 2>/dev/null; then
  mnt=""
  echo "SKIP (disk full, read-only): mounting a tmpfs needs root"
  summary crash_mixed
  exit $?
fi
cp -a d "$mnt/d"
"$C" --data-dir "$mnt/d" store check > /dev/null && ok || bad "the copy on the small disk is sound"
before=$("$C" --data-dir "$mnt/d" --json trust list | grep -c '"thumbprint"')
# Fill the disk to the last block.
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout late.key -out late.pem -days 30 -subj "/CN=late" 2>/dev/null
"$C" --data-dir "$mnt/d" trust add late.pem > out.txt 2> err.txt
code=$?
# Either SQLite found room in pages it already had, or it says the disk is full; never a crash.
if [ $code -ne 0 ]; then
  echo "disk full: $(head -c 300 err.txt)"
  grep -qi "disk full\|BadOutOfMemory\|No space" err.txt && ok || bad "a full disk gives a clear error: $(cat err.txt)"
  [ $code -lt 128 ] && ok || bad "a full disk crashed the CLI (exit $code)"
else
  ok; ok
fi
"$C" --data-dir "$mnt/d" --json user token create admin --role SecurityAdmin --description "disk-full" > /dev/null 2> err2.txt
rm -f "$mnt/filler"
"$C" --data-dir "$mnt/d" store check > /dev/null && ok || bad "integrity check after the disk was full"
after=$("$C" --data-dir "$mnt/d" --json trust list | grep -c '"thumbprint"')
[ "$after" -ge "$before" ] && ok || bad "the disk filling up lost certificates ($before → $after)"
"$C" --data-dir "$mnt/d" trust add late.pem > /dev/null 2>&1 || true
"$C" --data-dir "$mnt/d" --json trust show "$(thumb late.pem)" | grep -q '"state": "trusted"' && ok || bad "changes work again once there is room"

mount -o remount,ro "$mnt" && {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ro.key -out ro.pem -days 30 -subj "/CN=ro" 2>/dev/null
  "$C" --data-dir "$mnt/d" trust add ro.pem > out.txt 2> err.txt
  code=$?
  echo "read-only: $(head -c 300 err.txt)"
  [ $code -ne 0 ] && [ $code -lt 128 ] && ok || bad "a read-only data directory must refuse the change (exit $code)"
  grep -q "Bad[A-Za-z]*:" err.txt && ok || bad "the refusal names a StatusCode: $(cat err.txt)"
  mount -o remount,rw "$mnt"
  "$C" --data-dir "$mnt/d" store check > /dev/null && ok || bad "integrity check after the read-only spell"
  "$C" --data-dir "$mnt/d" --json trust show "$(thumb ro.pem)" > /dev/null 2>&1 && bad "the refused change was stored" || ok
  "$C" --data-dir "$mnt/d" trust add ro.pem > /dev/null && ok || bad "changes work again once writable"
}
umount "$mnt" && mnt=""
summary crash_mixed
