#!/bin/sh
# run_crosscheck.sh - the CTest test npm.crosscheck (issue #7): writes the
# fixture programs with tests/tools/qasm_fixtures (random circuits, and the
# stage programs qnnc compiles from the MNIST fixture when QNNC and MODEL
# are given), then checks them with the npm packages qasm-ts and
# quantum-circuit (crosscheck.mjs).
#
# Usage: run_crosscheck.sh QASM_FIXTURES WORK_DIR [QNNC MODEL]
# Exit 0 pass, 1 fail, 77 skip (no node, or tests/npm/node_modules not
# installed); with QNNC_REQUIRE_NPM=1 (CI) a missing tool fails instead.
set -u
if [ $# -ne 2 ] && [ $# -ne 4 ]; then
	echo "usage: $0 QASM_FIXTURES WORK_DIR [QNNC MODEL]" >&2
	exit 2
fi
fixtures=$1
work=$2
qnnc=${3:-}
model=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

missing() {
	if [ "${QNNC_REQUIRE_NPM:-0}" = 1 ]; then
		echo "FAIL: $1 (QNNC_REQUIRE_NPM=1 requires the npm cross-check)" >&2
		exit 1
	fi
	echo "SKIP: $1 (set QNNC_REQUIRE_NPM=1 to make this a failure)"
	exit 77
}

command -v node >/dev/null 2>&1 ||
	missing "node not found; install nodejs and npm (scripts/setup.sh does)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] 2>/dev/null ||
	missing "node $(node --version 2>/dev/null) is too old, 18 or later needed"
for pkg in qasm-ts quantum-circuit; do
	[ -f "$here/node_modules/$pkg/package.json" ] ||
		missing "$here/node_modules/$pkg not installed; run: (cd $here && npm ci --ignore-scripts)"
done

rm -rf "$work" && mkdir -p "$work" || exit 1
# The MNIST fixture's disentanglers (fc2, 256x256: two stages of 8 data
# qubits, so 9-qubit programs with 511 inputs), as the issue's recipe
# compiles them, portable and --isa; --emit=qasm2 binds the angles to the
# all-ones input.
stages=""
if [ -n "$qnnc" ]; then
	for form in "" --isa; do
		out=$work/mnist${form:+-isa}
		"$qnnc" "$model" --layers=auto --bond=8 --sides=both --gate-qubits=2 --depth=2 \
			--one-body --residual-bond=2 --sweeps=5 --emit=qasm,qasm2 -q $form -o "$out" || {
			echo "FAIL: qnnc $model $form did not compile the MNIST fixture" >&2
			exit 1
		}
		found=0
		for f in "$out".stage*.qasm; do
			[ -f "$f" ] || continue
			stages="$stages ${f##*/}"
			found=$((found + 1))
		done
		if [ "$found" -ne 2 ]; then
			echo "FAIL: qnnc wrote $found stage programs for $model $form, expected 2 (fc2's V and U)" >&2
			exit 1
		fi
	done
fi
# shellcheck disable=SC2086 # the stage file names have no spaces
"$fixtures" "$work" $stages || exit 1
cd "$here" || exit 1
# --no-warnings: Node's notice that loader hooks are experimental, and
# antlr4's circular-import warnings inside quantum-circuit.
exec node --no-warnings --experimental-loader ./hook.mjs crosscheck.mjs "$work"
