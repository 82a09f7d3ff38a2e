#!/usr/bin/env bash
# Installs what castellan needs to build and test, and nothing that is already there.
# Idempotent: a second run with everything present asks no registry.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libjemalloc-dev
  libboost1.81-dev libboost-url1.81-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libjwt-dev libsodium-dev libpq-dev libpqxx-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev curl netcat-openbsd jq
  nodejs npm ca-certificates
  chromium
  gnuplot-nox
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  # nodejs/npm may come from elsewhere on a developer machine; only ask apt when absent.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do
      [ "$p" = nodejs ] || [ "$p" = npm ] || filtered+=("$p")
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by their lock files: schema data for code generation
# node-opcua, the real OPC UA peer of the interop tests; playwright-core for the browser tests
# (it drives Debian's chromium, never a downloaded browser); the web console's build tools.
for dir in tools/schema tests/ua/interop tests/console web; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
