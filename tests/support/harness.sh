# Shared by the shell suites (cli, mqtt, mtls, crash): counters, assertions, and the small
# helpers every scenario needs. Source it; it defines functions only.
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_exit CODE|nonzero DESCRIPTION -- COMMAND...   (stdout → out.txt, stderr → err.txt)
expect_exit() {
  local want=$1 what=$2
  shift 3
  "$@" >out.txt 2>err.txt
  local got=$?
  if [ "$want" = nonzero ]; then
    [ $got -ne 0 ] && ok || bad "$what: exit $got, wanted non-zero"
  else
    [ $got -eq "$want" ] && ok || { bad "$what: exit $got, wanted $want"; cat err.txt >&2; }
  fi
}

# expect_in DESCRIPTION PATTERN FILE
expect_in() { grep -q -- "$2" "$3" && ok || { bad "$1: '$2' not in $3"; cat "$3" >&2; }; }

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# The SHA-1 thumbprint castellan names a certificate file by.
thumb() { openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :; }

# summary SUITE: the closing line, and the exit status.
summary() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# start_ua_server CASTELLAN DATA_DIR PORT [--set KEY=VALUE]...: `castellan serve` with its OPC UA
# edge on 127.0.0.1:PORT (anonymous logins on; admin and device mTLS off), logging to
# castellan.log. Sets $server to its pid; returns once it answers GetEndpoints, non-zero if never.
start_ua_server() {
  local c=$1 data=$2 port=$3
  shift 3
  local extra=()
  "$c" config keys 2>/dev/null | grep -q '`admin.listen`' && extra+=(--set admin.listen=off)
  "$c" --data-dir "$data" --set ua.listen=127.0.0.1:$port --set ua.endpoint_url=opc.tcp://127.0.0.1:$port \
    --set device.mtls_listen=off --set ua.allow_anonymous=true "$@" "${extra[@]}" serve >>castellan.log 2>&1 &
  server=$!
  for _ in $(seq 50); do
    "$c" --data-dir "$data" ua endpoints --url "opc.tcp://127.0.0.1:$port" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "castellan did not start" >&2
  cat castellan.log >&2
  return 1
}
