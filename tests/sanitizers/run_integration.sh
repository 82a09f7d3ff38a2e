#!/usr/bin/env bash
# run_integration.sh BUILD_DIR asan|tsan [CTEST ARGS…] — the integration tests (real peers:
# node-opcua, curl, Mosquitto, PostgreSQL, Chromium, the OpenSSL CLI) against a castellan built
# with AddressSanitizer + UndefinedBehaviorSanitizer or ThreadSanitizer.
#
# The test scripts start castellan as a child and judge it by what its peers see, so a report
# printed on its stderr could go unnoticed. Every sanitized process therefore writes its reports
# to BUILD_DIR/sanitizer-reports/<tool>.<pid>; this run fails when any report is there, even if
# every ctest passed, and prints them.
set -uo pipefail
build=$(realpath "$1") kind=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"

case "$kind" in
  asan)
    # Leaks are checked at exit; the servers exit on SIGTERM at the end of each test.
    export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1"
    export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
    runtime=$(${CXX:-g++} -print-file-name=libasan.so)
    ;;
  tsan)
    # halt_on_error=0: a race is reported and the test goes on, so one run finds them all.
    export TSAN_OPTIONS="log_path=$reports/tsan:suppressions=$here/tsan.supp:second_deadlock_stack=1:halt_on_error=0:report_signal_unsafe=0"
    runtime=$(${CXX:-g++} -print-file-name=libtsan.so)
    ;;
  *) echo "usage: $0 BUILD_DIR asan|tsan [ctest args]" >&2; exit 2 ;;
esac
# The Mosquitto plugin is a sanitized shared library inside an uninstrumented broker: the
# broker needs the sanitizer's runtime loaded first (tests/mqtt/mqtt_test.sh honours this).
export CASTELLAN_TEST_PRELOAD="$runtime"

ctest --test-dir "$build" --output-on-failure -L 'interop|postgres' "$@"
status=$?

shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -gt 0 ]; then
  echo "== ${#found[@]} sanitizer report(s) in $reports:"
  for f in "${found[@]}"; do
    echo "---- $f"
    head -n 80 "$f"
  done
  exit 1
fi
echo "== no sanitizer reports ($kind)"
exit $status
