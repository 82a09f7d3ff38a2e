#!/usr/bin/env bash
# The admin API's operations side against a real `castellan serve`: configuration changes
# (validation, roles, the file written atomically with its mode, audit with old and new values,
# live keys applied, the rest waiting for a restart), SIGHUP reloads (good file, bad file,
# renewed certificate), live OPC UA sessions opened by node-opcua listed and closed, connections,
# metrics, and JSON log lines. Usage: admin_ops_test.sh CASTELLAN
set -uo pipefail
HERE=$(dirname "$(realpath "$0")")
source "$HERE/../support/harness.sh"
C=$(realpath "$1")
[ -d "$HERE/../ua/interop/node_modules/node-opcua-client" ] || { echo "node-opcua missing: run make deps" >&2; exit 1; }
work=$(mktemp -d)
server=""; holder=""
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "${failed:-0}" -ne 0 ] && { echo "--- castellan.log"; tail -40 "$work/castellan.log"; }
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export CASTELLAN_ADMIN_PASSWORD='admin-pass-0123'
PW='user-pass-0123'
json() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); const r=($2); console.log(typeof r==='object'?JSON.stringify(r):r)"; }

"$C" init --data-dir d >/dev/null || { bad "init"; exit 1; }
declare -A TOKEN
for r in Observer ConfigureAdmin SecurityAdmin; do
  "$C" --data-dir d user add "u-$r" --role "$r" --password "$PW" >/dev/null
  "$C" --data-dir d --json user token create "u-$r" --role "$r" --expires 1d > t.json
  TOKEN[$r]=$(json t.json j.token)
done
"$C" --data-dir d --json user token create admin --role SecurityAdmin --role ConfigureAdmin --expires 1d > t.json
ADMIN=$(json t.json j.token)
"$C" --data-dir d user add operator1 --role Operator --password "$PW" >/dev/null
OBS=${TOKEN[Observer]}; CONF=${TOKEN[ConfigureAdmin]}

port=$(free_port); ua_port=$(free_port); mtls_port=$(free_port)
url="opc.tcp://127.0.0.1:$ua_port"
"$C" --data-dir d --set admin.listen=127.0.0.1:$port --set ua.listen=127.0.0.1:$ua_port \
  --set device.mtls_listen=127.0.0.1:$mtls_port --log-format json serve > castellan.log 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "castellan serving" castellan.log && break; sleep 0.1; done
grep -q "castellan serving" castellan.log && ok || { bad "castellan did not start"; exit 1; }
base="https://localhost:$port"
CURL=(curl -s --cacert d/own/cert.pem --resolve "localhost:$port:127.0.0.1")
# call METHOD PATH TOKEN [JSON-TEXT] → HTTP status; the body in body.json
call() {
  local args=("${CURL[@]}" -o body.json -w '%{http_code}' -X "$1")
  [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(--data-binary "$4" -H "Content-Type: application/json")
  "${args[@]}" "$base$2"
}
code() { json body.json 'j.error ? j.error.code : "none"'; }

# --- JSON log lines --------------------------------------------------------------------------
node -e "
const lines=require('fs').readFileSync('castellan.log','utf8').trim().split('\n');
for (const l of lines) { const j=JSON.parse(l); if (!j.time || !j.level || !j.message) throw new Error(l); }
if (!lines.some(l => JSON.parse(l).message.includes('castellan serving'))) throw 1" && ok || bad "--log-format json: every line is one JSON object"

# --- configuration: read, change, refuse ------------------------------------------------------
toml=d/castellan.toml
mode_before=$(stat -c %a "$toml")
[ "$(call GET /api/v1/config "$CONF")" = 200 ] && [ "$(json body.json j.log.level)" = info ] && [ "$(json body.json j.restart_required.length)" = 0 ] && ok || bad "GET config: $(head -c 300 body.json)"
[ "$(call PATCH /api/v1/config "$CONF" '{"log": {"level": "debug"}}')" = 200 ] && ok || bad "PATCH log.level: $(cat body.json)"
[ "$(json body.json 'j.changed[0].key + " " + j.changed[0].old + " " + j.changed[0].new + " " + j.changed[0].restart_required')" = "log.level info debug false" ] && ok || bad "the answer names old and new: $(cat body.json)"
[ "$(json body.json j.config.log.level)" = debug ] && [ "$(json body.json j.restart_required.length)" = 0 ] && ok || bad "log.level applies at once"
grep -q '^level = "debug"$' "$toml" && grep -q "^# castellan configuration" "$toml" && ok || bad "written to the file, comments kept: $(cat "$toml" | grep -n level)"
[ "$(stat -c %a "$toml")" = "$mode_before" ] && ok || bad "the file keeps its mode ($mode_before → $(stat -c %a "$toml"))"
ls d | grep -q "castellan.toml.*tmp\|\.tmp" && bad "no temporary file left behind: $(ls d)" || ok
sleep 0.3
grep -q '"level":"debug"' castellan.log && ok || bad "debug lines appear once the level changed"
[ "$(call GET "/api/v1/audit?action=config.change&target=log.level" "$ADMIN")" = 200 ] && \
  [ "$(json body.json "j.items.filter(a => a.actor.startsWith('u-ConfigureAdmin') && JSON.parse(a.detail).old === 'info' && JSON.parse(a.detail).new === 'debug').length")" = 1 ] && ok || bad "audited with old and new: $(head -c 400 body.json)"

# Trust settings need SecurityAdmin as well; they wait for a restart.
[ "$(call PATCH /api/v1/config "$CONF" '{"trust": {"mode": "trusted-ca"}}')" = 403 ] && [ "$(code)" = BadUserAccessDenied ] && ok || bad "trust.mode as ConfigureAdmin only: $(cat body.json)"
[ "$(call PATCH /api/v1/config "${TOKEN[SecurityAdmin]}" '{"trust": {"mode": "trusted-ca"}}')" = 403 ] && ok || bad "SecurityAdmin alone lacks ConfigureAdmin"
[ "$(call PATCH /api/v1/config "$ADMIN" '{"trust": {"mode": "trusted-ca", "max_rejected": 500}}')" = 200 ] && \
  [ "$(json body.json 'j.restart_required.join(",")')" = "trust.max_rejected,trust.mode" ] && [ "$(json body.json j.config.trust.mode)" = trusted-list ] && ok || bad "trust.mode waits for a restart: $(cat body.json)"
[ "$(call GET /api/v1/config "$CONF")" = 200 ] && [ "$(json body.json 'j.restart_required.join(",")')" = "trust.max_rejected,trust.mode" ] && ok || bad "GET lists what waits for a restart"

# Bad input: 400 BadInvalidArgument, the file untouched, nothing audited.
sum_before=$(sha256sum < "$toml")
audit_before=$(call GET "/api/v1/audit?action=config.&limit=1000" "$ADMIN" >/dev/null; json body.json j.items.length)
for bad_body in '{"trust": {"colour": "red"}}' '{"trust": {"max_rejected": "many"}}' '{"trust": {"max_rejected": 0}}' \
  '{"ua": {"max_sessions": 99999999}}' '{"log": {"level": "loud"}}' '{"log": {"level": "warn"}, "trust": {"mode": "sideways"}}' \
  '{"weather": {"sunny": true}}' '{}' '{"log": {"level": ["debug"]}}'; do
  got=$(call PATCH /api/v1/config "$ADMIN" "$bad_body")
  [ "$got" = 400 ] && [ "$(code)" = BadInvalidArgument ] || bad "PATCH $bad_body → $got $(cat body.json)"
done
[ "$(call PATCH /api/v1/config "$ADMIN" '{"log": "debug"}')" = 400 ] && ok || bad "a section must be an object"
[ "$(call PATCH /api/v1/config "$ADMIN" '{"log": {"level": ')" = 400 ] && [ "$(code)" = BadDecodingError ] && ok || bad "malformed JSON"
[ "$(sha256sum < "$toml")" = "$sum_before" ] && ok || bad "refused changes left the file alone"
[ "$(call GET "/api/v1/audit?action=config.&limit=1000" "$ADMIN" >/dev/null; json body.json j.items.length)" = "$audit_before" ] && ok || bad "refused changes are not audited as changes"
[ "$(call PATCH /api/v1/config "$ADMIN" '{"weather": {"sunny": true}}')" = 400 ] && grep -q "unknown field 'weather'" body.json && ok || bad "unknown section named"
[ "$(call PATCH /api/v1/config "$ADMIN" '{"trust": {"colour": "red"}}')" = 400 ] && grep -q "unknown setting 'trust.colour'" body.json && ok || bad "unknown key named: $(cat body.json)"
# Keys the command line sets cannot be changed in the file (the flag would win anyway).
[ "$(call PUT /api/v1/config/admin.listen "$ADMIN" '{"value": "127.0.0.1:1"}')" = 409 ] && [ "$(code)" = BadInvalidState ] && ok || bad "a --set key: $(cat body.json)"
[ "$(call PUT /api/v1/config/log.format "$ADMIN" '{"value": "text"}')" = 409 ] && ok || bad "--log-format is a --set too"
[ "$(call PUT /api/v1/config/log.level "$OBS" '{"value": "warn"}')" = 403 ] && ok || bad "Observer may not change the configuration"
[ "$(call PUT /api/v1/config/log.level "$CONF" '{"level": "warn"}')" = 400 ] && ok || bad "PUT needs {\"value\": …}"
# null restores the default (the line goes).
[ "$(call PUT /api/v1/config/log.level "$CONF" '{"value": null}')" = 200 ] && [ "$(json body.json j.config.log.level)" = info ] && ! grep -q '^level = ' "$toml" && ok || bad "null restores the default: $(cat body.json)"

# --- live OPC UA sessions -------------------------------------------------------------------------
[ "$(call GET /api/v1/sessions "$OBS")" = 200 ] && [ "$(json body.json j.length)" = 0 ] && ok || bad "no sessions yet: $(cat body.json)"
peer() { timeout 60 node "$HERE/ua_hold_session.mjs" --url "$url" --pki pki-client "$@"; }
peer --user operator1 --password "$PW" --hold-ms 100 > first.out 2>/dev/null
grep -q '"ok":false' first.out && ok || bad "an unknown client certificate is refused: $(cat first.out)"
[ "$(call GET "/api/v1/trust/certificates?state=rejected" "$OBS")" = 200 ] && client_tp=$(json body.json 'j[0].thumbprint') && [ -n "$client_tp" ] && ok || bad "parked in the rejected list"
[ "$(call POST "/api/v1/trust/certificates/$client_tp/approve" "$ADMIN")" = 200 ] && ok || bad "approve over the API"
peer --user operator1 --password "$PW" --hold-ms 30000 > hold.out 2>hold.err &
holder=$!
for _ in $(seq 100); do grep -q '"session"' hold.out && break; sleep 0.1; done
sid=$(json hold.out j.session 2>/dev/null)
[ -n "$sid" ] && ok || bad "node-opcua holds a session: $(cat hold.out hold.err | head -5)"
[ "$(call GET /api/v1/sessions "$OBS")" = 200 ] && [ "$(json body.json j.length)" = 1 ] && ok || bad "one session listed: $(cat body.json)"
s="j.find(s => s.id === '$sid')"
[ "$(json body.json "$s ? 'found' : 'missing'")" = found ] && ok || bad "the session id is node-opcua's ($sid): $(cat body.json)"
[ "$(json body.json "$s.user + ' ' + $s.roles.join(',') + ' ' + $s.identity_token + ' ' + $s.activated")" = "operator1 Operator username true" ] && ok || bad "user and roles: $(cat body.json)"
[ "$(json body.json "$s.client_certificate_thumbprint")" = "$client_tp" ] && [ "$(json body.json "$s.client_application_uri")" = "urn:$(hostname):castellan-interop" ] && ok || bad "client certificate and application URI"
[ "$(json body.json "$s.security_policy + ' ' + $s.security_mode")" = "Basic256Sha256 SignAndEncrypt" ] && ok || bad "channel security: $(cat body.json)"
[ "$(json body.json "$s.remote_address.startsWith('127.0.0.1:') && /^\\d{4}-\\d\\d-\\d\\dT.*Z$/.test($s.created) && /Z$/.test($s.last_activity)")" = true ] && ok || bad "remote address and times"
[ "$(call GET /api/v1/connections "$OBS")" = 200 ] && \
  [ "$(json body.json "j.opcua.channels.filter(c => c.state === 'open' && c.client_certificate_thumbprint === '$client_tp' && c.sessions === 1 && c.security_mode === 'SignAndEncrypt').length")" = 1 ] && ok || bad "connections: $(cat body.json)"
[ "$(json body.json "j.device.mtls_connections !== null && j.device.admission_clients === 0")" = true ] && ok || bad "device connection counts: $(cat body.json)"
# A broker plugin on the admission socket is counted while it is connected.
node -e "const s=require('net').connect('d/run/device-admission.sock'); setTimeout(() => s.end(), 3000)" &
plugin=$!
for _ in $(seq 20); do call GET /api/v1/connections "$OBS" >/dev/null; [ "$(json body.json j.device.admission_clients)" = 1 ] && break; sleep 0.1; done
[ "$(json body.json j.device.admission_clients)" = 1 ] && ok || bad "a plugin connection is counted: $(cat body.json)"
wait "$plugin"
[ "$(call GET /metrics "$OBS")" = 200 ] && grep -q '^castellan_ua_sessions 1$' body.json && grep -q '^castellan_ua_channels [1-9]' body.json && ok || bad "session and channel gauges: $(grep castellan_ua_ body.json)"
grep -q '^castellan_ua_connects_total{result="Good"} [1-9]' body.json && grep -q '^castellan_ua_connects_total{result="BadSecurityChecksFailed"} [1-9]' body.json && ok || bad "connects by StatusCode: $(grep connects body.json)"
grep -q '^castellan_ua_sessions_activated_total [1-9]' body.json && ok || bad "activations counted"

# Closing it: SecurityAdmin only, audited; the client learns at once.
[ "$(call DELETE "/api/v1/sessions/$sid" "$OBS")" = 403 ] && [ "$(call DELETE "/api/v1/sessions/$sid" "$CONF")" = 403 ] && ok || bad "only SecurityAdmin closes sessions"
[ "$(call DELETE "/api/v1/sessions/$sid" "${TOKEN[SecurityAdmin]}")" = 200 ] && [ "$(json body.json j.id)" = "$sid" ] && ok || bad "DELETE the session: $(cat body.json)"
[ "$(call GET /api/v1/sessions "$OBS")" = 200 ] && [ "$(json body.json "j.filter(s => s.id === '$sid').length")" = 0 ] && ok || bad "gone from the list: $(cat body.json)"
for _ in $(seq 50); do grep -q '"closed"' hold.out && break; sleep 0.1; done
[ "$(json <(tail -1 hold.out) 'j.closed && j.after_ms < 30000')" = true ] && ok || bad "node-opcua sees its session end: $(cat hold.out)"
holder=""
[ "$(call DELETE "/api/v1/sessions/$sid" "${TOKEN[SecurityAdmin]}")" = 404 ] && [ "$(code)" = BadSessionIdInvalid ] && ok || bad "closing twice: $(cat body.json)"
[ "$(call GET "/api/v1/audit?action=ua.session.close" "$ADMIN")" = 200 ] && \
  [ "$(json body.json "j.items.filter(a => a.target === '$sid' && a.result === 'Good' && a.actor.startsWith('u-SecurityAdmin')).length")" = 1 ] && \
  [ "$(json body.json "j.items.filter(a => a.result === 'BadSessionIdInvalid').length")" -ge 1 ] && ok || bad "closing audited: $(head -c 500 body.json)"
[ "$(call DELETE "/api/v1/sessions/ns=1;g=not-a-guid" "$ADMIN")" = 404 ] && ok || bad "a malformed id is no session"

# ua.allow_anonymous is live: refused before, admitted after, without a restart.
peer --hold-ms 100 > anon1.out 2>/dev/null
grep -q '"ok":false' anon1.out && ok || bad "anonymous refused by default: $(cat anon1.out)"
[ "$(call PUT /api/v1/config/ua.allow_anonymous "$ADMIN" '{"value": true}')" = 200 ] && [ "$(json body.json j.changed[0].restart_required)" = false ] && ok || bad "allow_anonymous is live: $(cat body.json)"
peer --hold-ms 100 > anon2.out 2>/dev/null
grep -q '"ok":true' anon2.out && ok || bad "anonymous admitted after the change: $(cat anon2.out)"

# --- devices: sign-ups and admissions in /metrics, mTLS connections -------------------------------
"$C" --data-dir d ca create --cn "Fleet CA" >/dev/null
"$C" --data-dir d cert issue --cn SN0001 --out dev1 >/dev/null
"$C" --data-dir d cert issue --cn SN0002 --out dev2 >/dev/null
[ "$("${CURL[@]}" -o body.json -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/x-pem-file' --data-binary @dev1.pem "$base/api/v1/devices")" = 201 ] && ok || bad "register a device: $(cat body.json)"
mcurl=(curl -s --cacert d/own/cert.pem --resolve "localhost:$mtls_port:127.0.0.1" -o mtls.json -w '%{http_code}')
[ "$("${mcurl[@]}" --cert dev2.pem --key dev2.key.pem "https://localhost:$mtls_port/device/v1/whoami")" = 200 ] && ok || bad "a device signs up over mTLS"
call GET /metrics "$OBS" >/dev/null
grep -q '^castellan_device_signups_total{kind="manual",result="Good"} 1$' body.json && grep -q '^castellan_device_signups_total{kind="auto",result="Good"} 1$' body.json && ok || bad "sign-ups counted: $(grep signups body.json)"
grep -q '^castellan_device_admissions_total{edge="mtls",result="Good"} 1$' body.json && ok || bad "admissions counted: $(grep device_admissions body.json)"
# registry.signup_rate is live: at 1 per second the second of two quick sign-ups is refused.
[ "$(call PUT /api/v1/config/registry.signup_rate "$ADMIN" '{"value": 1}')" = 200 ] && [ "$(json body.json j.changed[0].restart_required)" = false ] && ok || bad "signup_rate is live: $(cat body.json)"
"$C" --data-dir d cert issue --cn SN0003 --out dev3 >/dev/null; "$C" --data-dir d cert issue --cn SN0004 --out dev4 >/dev/null
sleep 1.1; a=$("${mcurl[@]}" --cert dev3.pem --key dev3.key.pem "https://localhost:$mtls_port/device/v1/whoami")
b=$("${mcurl[@]}" --cert dev4.pem --key dev4.key.pem "https://localhost:$mtls_port/device/v1/whoami")
[ "$a $b" = "200 429" ] && ok || bad "the new sign-up limit holds at once: $a $b $(cat mtls.json)"
call GET /metrics "$OBS" >/dev/null
grep -q '^castellan_device_signups_total{kind="auto",result="BadTooManyOperations"} 1$' body.json && ok || bad "rate-limited sign-ups counted: $(grep signups body.json)"
grep -q '^castellan_http_requests_total{route="DELETE /api/v1/sessions/{id}",status="200"} 1$' body.json && ok || bad "API requests by route and status: $(grep 'sessions/{id}' body.json)"
call GET /metrics "$OBS" >/dev/null
series=$(grep -c '^castellan_http_requests_total' body.json)
for i in $(seq 30); do call GET "/api/v1/no-such-route-$i" "$OBS" >/dev/null; done
call GET /metrics "$OBS" >/dev/null
[ "$(grep -c '^castellan_http_requests_total' body.json)" -le $((series + 1)) ] && ok || bad "unknown paths do not grow the series"

# --- SIGHUP: the file again ------------------------------------------------------------------------
sed -i 's/^# level = (default: info)$/# level = (default: info)\nlevel = "warn"/' "$toml"
grep -q '^level = "warn"$' "$toml" || bad "test setup: the hand edit"
kill -HUP "$server"
for _ in $(seq 50); do call GET /api/v1/config "$CONF" >/dev/null; [ "$(json body.json j.log.level)" = warn ] && break; sleep 0.1; done
[ "$(json body.json j.log.level)" = warn ] && ok || bad "SIGHUP applies the hand-edited level: $(head -c 300 body.json)"
[ "$(call GET "/api/v1/audit?action=config.reload" "$ADMIN")" = 200 ] && [ "$(json body.json "j.items.filter(a => a.target === 'log.level' && a.actor === 'system').length")" -ge 1 ] && ok || bad "the reload is audited"
cp "$toml" good.toml
printf '[log]\nlevel = "error"\n[trust]\nmax_rejected = -5\n' > "$toml"
kill -HUP "$server"
for _ in $(seq 50); do grep -q "configuration reload refused" castellan.log && break; sleep 0.1; done
grep -q "configuration reload refused" castellan.log && ok || bad "a bad file is refused with a log line"
[ "$(call GET /api/v1/config "$CONF")" = 200 ] && [ "$(json body.json j.log.level)" = warn ] && ok || bad "the old configuration stays"
printf '[log\n' > "$toml"; kill -HUP "$server"; sleep 0.5
kill -0 "$server" 2>/dev/null && [ "$(call GET /healthz)" = 200 ] && ok || bad "a file that is not TOML does not stop the server"
cp good.toml "$toml"

# --- SIGHUP: a renewed server certificate ----------------------------------------------------------
old_fp=$(openssl s_client -connect 127.0.0.1:$port -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1)
openssl req -x509 -newkey rsa:2048 -nodes -keyout new.key -out new.pem -days 30 -subj "/CN=castellan renewed" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,URI:urn:renewed:castellan" 2>/dev/null
cp new.pem d/own/cert.pem && (umask 077 && cp new.key d/own/private/key.pem)
kill -HUP "$server"
for _ in $(seq 50); do grep -q "admin HTTPS presents the reloaded certificate" castellan.log && break; sleep 0.1; done
new_fp=$(openssl s_client -connect 127.0.0.1:$port -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1)
[ "$new_fp" = "$(openssl x509 -in new.pem -noout -fingerprint -sha1)" ] && [ "$new_fp" != "$old_fp" ] && ok || bad "new connections get the renewed certificate ($old_fp → $new_fp)"
[ "$(curl -s --cacert new.pem --resolve "localhost:$port:127.0.0.1" -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] && ok || bad "curl trusts the renewed certificate"
grep -q "OPC UA server keeps" castellan.log && ok || bad "the OPC UA certificate change is logged for the restart"

# --- SIGTERM -------------------------------------------------------------------------------------------
kill -TERM "$server"; wait "$server"; rc=$?; server=""
[ $rc = 0 ] && ok || bad "exit $rc after SIGTERM"
node -e "for (const l of require('fs').readFileSync('castellan.log','utf8').trim().split('\n')) JSON.parse(l)" && ok || bad "JSON log lines to the end"
summary http_ops
