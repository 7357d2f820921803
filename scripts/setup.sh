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
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
