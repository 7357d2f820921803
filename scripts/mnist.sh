#!/usr/bin/env bash
# The main job: compile the bundled MNIST model to a hybrid quantum-classical
# program, build it against libqnnrt, run it on the 10,000 MNIST test images
# on the embedded statevector simulator, and print the accuracy table.
#
#   scripts/mnist.sh [--classical]
#
# The compile (one qnnc command) selects the 256x256 bottleneck fc2,
# compresses it to an MPO (bond 8), disentangles it into two 8-qubit
# circuits of 2-qubit gates with 1-qubit layers (depth 2, both sides) around
# a residual MPO of bond 2, and heals the network for 3 epochs on the MNIST
# training set. The program runs the classical layers and M' in C and each
# circuit as an OpenQASM 3 stage (9 qubits: 8 data + 1 read-out ancilla) on
# the simulator: exact read-out on all images, shot-based read-out on the
# first 1,000. --classical instead compiles the original model to plain C
# (no quantum stage, no runtime).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${QNNC_SHARED_DATA:-$root/../shared/data}
mode=${1:-hybrid}
case $mode in hybrid | --classical) ;; *) echo "usage: scripts/mnist.sh [--classical]" >&2; exit 2 ;; esac
if [ ! -d "$data/mnist" ]; then
	echo "mnist.sh: MNIST not found in $data/mnist (set QNNC_SHARED_DATA)" >&2
	exit 1
fi
bash "$root/scripts/setup.sh" >/dev/null
build=$root/build/release
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target qnnc qnnrt >/dev/null
out=$root/build/mnist
mkdir -p "$out"
model=$root/examples/mnist-mlp/model.onnx
cflags=(-std=c99 -Wall -Wextra -pedantic -O2 -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model -I"$out")
t0=$(date +%s.%N)

if [ "$mode" = --classical ]; then
	echo "qnnc $model -o $out/model"
	"$build/driver/qnnc" "$model" -o "$out/model" --name model
	cc "${cflags[@]}" "$root/examples/classify.c" "$out/model.c" -lz -lm -o "$out/classify"
	"$out/classify" "mnist:$data/mnist"
	exit
fi

flags=(--layers=auto --bond=8 --sides=both --gate-qubits=2 --depth=2 --one-body --residual-bond=2
       --heal="mnist:$data/mnist" --epochs=3 --train=all
       --eval="mnist:$data/mnist" --preprocess=mean:0.1307,std:0.3081)
echo "qnnc $model ${flags[*]} -o $out/model"
"$build/driver/qnnc" "$model" "${flags[@]}" -o "$out/model" --name model -v 2>&1 |
	grep -v "^qnnc: layer '" | grep -v "dim 0 (N) set to 1" || true
[ -f "$out/model.c" ] || { echo "mnist.sh: qnnc failed" >&2; exit 1; }
t1=$(date +%s.%N)
cc "${cflags[@]}" -DQNNC_HYBRID -I"$root/runtime" "$root/examples/classify.c" "$out/model.c" \
	"$build/runtime/libqnnrt.a" -lz -lm -o "$out/classify"
echo "built $out/classify (model.c + libqnnrt); stages: $(ls "$out"/model.stage*.qasm | xargs -n1 basename | tr '\n' ' ')"
run() { # label args...
	local label=$1; shift
	local line
	line=$("$out/classify" "mnist:$data/mnist" "$@")
	printf '  %-44s %s\n' "$label" "$line"
}
# eval.<key>.accuracy of the report (pretty-printed JSON).
acc() { grep -A1 "\"$1\": {" "$out/model.json" | sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' | head -1; }
pct() { awk -v a="$1" 'BEGIN { printf "%.2f%%", 100 * a }'; }

echo
echo "MNIST test set, 10,000 images (reference interpreter unless noted)"
printf '  %-44s %s\n' "original model" "$(pct "$(acc original)")"
printf '  %-44s %s\n' "fc2 as an MPO, bond 8 (not healed)" "$(pct "$(acc compressed)")"
printf '  %-44s %s\n' "disentangled, chi'=2 (not healed)" "$(pct "$(acc disentangled)")"
printf '  %-44s %s\n' "disentangled and healed (3 epochs)" "$(pct "$(acc healed)")"
echo "Hybrid program (generated C + embedded simulator)"
run "exact read-out" --readout=exact
for s in 1000 10000 100000; do
	run "$s shots per stage, first 1,000 images" --readout=shots --shots=$s --limit=1000
done
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "\ncompile %.1f s, build and runs %.1f s\n", b - a, c - b }'
