#!/usr/bin/env bash
# packaging/castellan.service: systemd-analyze verify accepts it (with ExecStart pointed at the
# built binary), and it carries the hardening the README promises. Exit 77 (skipped) without
# systemd-analyze. Usage: systemd_unit_test.sh PACKAGING-DIR CASTELLAN
set -uo pipefail
source "$(dirname "$(realpath "$0")")/../support/harness.sh"
unit=$1/castellan.service
C=$(realpath "$2")
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sed "s#/usr/bin/castellan#$C#g" "$unit" > "$work/castellan.service"
out=$(systemd-analyze verify "$work/castellan.service" 2>&1)
# Only complaints about this unit count (the host's other units are not ours to judge).
mine=$(grep -i "castellan.service" <<<"$out")
[ -z "$mine" ] && ok || bad "systemd-analyze verify: $mine"
for directive in "ProtectSystem=strict" "StateDirectory=castellan" "ReadWritePaths=/var/lib/castellan" "NoNewPrivileges=yes" \
  "User=castellan" "ExecReload=/bin/kill -HUP \$MAINPID" "CapabilityBoundingSet=$" "PrivateTmp=yes" "ProtectHome=yes"; do
  grep -q "^$directive" "$unit" && ok || bad "the unit lacks $directive"
done
grep -q "^AmbientCapabilities" "$unit" && bad "no capabilities while every default port is above 1024" || ok
grep -q "^u castellan " "$1/castellan.sysusers" && ok || bad "castellan.sysusers creates the user"
summary packaging
