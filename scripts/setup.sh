#!/bin/sh
# Installs every Debian package qnnc needs to build and test (idempotent; run as root on Debian 12).
set -eu
PKGS="build-essential cmake pkg-config flex bison
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev
      libopenblas-dev liblapacke-dev zlib1g-dev clang"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm for the npm cross-check (tests/npm). Checked by command, not
# package: nodejs from NodeSource bundles npm and conflicts with Debian's npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# The pinned npm packages of tests/npm (package-lock.json), when not yet
# installed or older than the lock file. Offline, this warns and the test
# skips, unless QNNC_REQUIRE_NPM=1.
npmdir=$(cd "$(dirname "$0")/.." && pwd)/tests/npm
if [ ! -f "$npmdir/node_modules/.package-lock.json" ] ||
   [ "$npmdir/package-lock.json" -nt "$npmdir/node_modules/.package-lock.json" ]; then
  if ! (cd "$npmdir" && npm ci --ignore-scripts --no-audit --no-fund); then
    [ "${QNNC_REQUIRE_NPM:-0}" = 1 ] && exit 1
    echo "setup.sh: npm ci failed in $npmdir; the test npm.crosscheck will be skipped" >&2
  fi
fi
