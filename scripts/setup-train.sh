#!/bin/sh
# Installs the Debian packages used to train the example models (PyTorch, ONNX, NumPy); idempotent, run as root on Debian 12.
# Run the training scripts with /usr/bin/python3: these packages are only visible to Debian's own interpreter.
set -eu
PKGS="python3-torch python3-onnx python3-numpy"
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
