#!/usr/bin/env bash
# End-to-end test of hybrid programs (issue 8): the bundled MNIST MLP is
# compressed, disentangled (k = 2, D = 2, 1-qubit layers, χ' = 2, both
# sides) and healed; the same compile is emitted twice, as a hybrid program
# (quantum stages through libqnnrt's embedded simulator) and with
# --readout=classical (gates applied in C, no runtime). Checks:
#   - both generated C files build with -std=c99 -Wall -Wextra -pedantic
#     -Werror (and clang -Weverything when clang is there), the classical
#     one without libqnnrt;
#   - the two compiles carry byte-identical stage programs and gates;
#   - the hybrid program in exact mode predicts the same class as the
#     classical C on >= 99.9% of the test images, and both accuracies equal
#     the interpreter's (the report's eval.healed) to within 0.1 point;
#   - shots mode: agreement with exact mode grows with the shot count and
#     reaches >= 95% at 10^5 shots, where the accuracy is within 3 points of
#     exact mode on the same images (the paper loses about 1 point); a fixed
#     seed repeats the same counts.
#
#   test_hybrid.sh QNNC LIBQNNRT SOURCE_DIR DATA_DIR WORK_DIR [SANITIZE]
#
# Exit 77 (skip) when the MNIST data is absent. SANITIZE=ON links the
# programs with -fsanitize=address,undefined (libqnnrt is instrumented then)
# and runs a 2,000-image subset to keep the time reasonable.
set -euo pipefail
qnnc=$1 lib=$2 src=$3 data=$4 work=$5 san=${6:-OFF}
mnist=$data/mnist
if [ ! -e "$mnist/t10k-images-idx3-ubyte" ] && [ ! -e "$mnist/t10k-images-idx3-ubyte.gz" ]; then
	echo "SKIP: MNIST not found in $mnist (set QNNC_SHARED_DATA)"
	exit 77
fi
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

rm -rf "$work"
mkdir -p "$work"
flags=(--layers=auto --bond=8 --sides=both --gate-qubits=2 --depth=2 --one-body --residual-bond=2
       --sweeps=10 --eval=mnist:$mnist --heal=mnist:$mnist --heal-limit=20000 --epochs=1 --train=all
       --preprocess=mean:0.1307,std:0.3081 --name model -q)
"$qnnc" "$src/examples/mnist-mlp/model.onnx" "${flags[@]}" -o "$work/hybrid"
"$qnnc" "$src/examples/mnist-mlp/model.onnx" "${flags[@]}" --readout=classical --emit=c,qasm,report \
	-o "$work/classical"

# Determinism across the two compiles: same programs, same gates.
for s in 0 1; do
	if cmp -s "$work/hybrid.stage$s.qasm" "$work/classical.stage$s.qasm"; then
		ok "stage $s program identical in both compiles"
	else
		bad "stage $s program differs between the two compiles"
	fi
done
if grep -q 'qnn_stage_run' "$work/hybrid.c" && ! grep -q 'qnnrt.h' "$work/classical.c"; then
	ok "hybrid C calls the runtime, classical C does not include it"
else
	bad "expected qnn_stage_run in hybrid.c and no qnnrt.h in classical.c"
fi

cflags=(-std=c99 -Wall -Wextra -pedantic -Werror -O2 -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model)
sanflags=()
[ "$san" = ON ] && sanflags=(-fsanitize=address,undefined -fno-omit-frame-pointer)
# The generated headers are both called model.h (--name model): one dir each.
mkdir -p "$work/h" "$work/c"
cp "$work/hybrid.h" "$work/h/model.h"
cp "$work/classical.h" "$work/c/model.h"
if cc "${cflags[@]}" "${sanflags[@]}" -DQNNC_HYBRID -I"$work/h" -I"$src/runtime" "$src/examples/classify.c" \
	"$work/hybrid.c" "$lib" -lz -lm -o "$work/hybrid-cls"; then
	ok "hybrid program builds warning-free against libqnnrt"
else
	bad "hybrid program does not build"
	exit 1
fi
if cc "${cflags[@]}" "${sanflags[@]}" -I"$work/c" "$src/examples/classify.c" "$work/classical.c" -lz -lm \
	-o "$work/classical-cls"; then
	ok "classical program builds warning-free without libqnnrt"
else
	bad "classical program does not build"
	exit 1
fi
if command -v clang >/dev/null; then
	for v in hybrid classical; do
		if clang -std=c99 -Weverything -Wno-padded -Wno-declaration-after-statement -Wno-unsafe-buffer-usage \
			-Wno-unknown-warning-option -Werror -fsyntax-only -I"$src/runtime" "$work/$v.c"; then
			ok "$v.c passes clang -Weverything"
		else
			bad "$v.c has clang -Weverything warnings"
		fi
	done
fi

limit=()
[ "$san" = ON ] && limit=(--limit=2000)
acc() { sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$1"; }
"$work/hybrid-cls" "mnist:$mnist" --readout=exact "${limit[@]}" --preds="$work/exact.txt" >"$work/exact.out"
"$work/classical-cls" "mnist:$mnist" "${limit[@]}" --preds="$work/classical.txt" >"$work/classical.out"
cat "$work/exact.out" "$work/classical.out"
n=$(wc -l <"$work/exact.txt")
same=$(paste -d' ' "$work/exact.txt" "$work/classical.txt" | awk '$1 == $2' | wc -l)
if [ "$n" -gt 0 ] && [ $((same * 1000)) -ge $((n * 999)) ]; then
	ok "exact hybrid and classical predictions agree on $same of $n images"
else
	bad "exact hybrid and classical predictions agree on only $same of $n images (need 99.9%)"
fi
if [ ${#limit[@]} -eq 0 ]; then
	# eval.healed.accuracy from the report (pretty-printed JSON: the line
	# after '"healed": {' in the eval section, which comes first).
	interp=$(grep -A1 '"healed": {' "$work/hybrid.json" | sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' | head -1)
	for v in exact classical; do
		a=$(acc "$work/$v.out")
		if awk -v a="$a" -v i="$interp" 'BEGIN { d = a - 100 * i; exit !(d <= 0.1 && d >= -0.1) }'; then
			ok "$v accuracy $a% equals the interpreter's $(awk -v i="$interp" 'BEGIN{print 100*i}')%"
		else
			bad "$v accuracy $a% differs from the interpreter's $interp by more than 0.1 point"
		fi
	done
fi

# Shots. Each stage's read-out has relative l2 error about sqrt(d/S)
# (d = 256 here): 0.5 at 10^3, 0.16 at 10^4, 0.05 at 10^5 shots, so the
# agreement with exact mode must rise with S.
m=300
head -n $m "$work/exact.txt" >"$work/exact-m.txt"
"$work/hybrid-cls" "mnist:$mnist" --readout=exact --limit=$m >"$work/exact-m.out"
prev=0
for S in 1000 10000 100000; do
	"$work/hybrid-cls" "mnist:$mnist" --readout=shots --shots=$S --seed=7 --limit=$m --preds="$work/shots$S.txt" \
		>"$work/shots$S.out"
	agree=$(paste -d' ' "$work/exact-m.txt" "$work/shots$S.txt" | awk '$1 == $2' | wc -l)
	echo "shots $S: $(cat "$work/shots$S.out"); agreement with exact $agree/$m"
	# Rising agreement (a few images of slack for noise at 10^3 vs 10^4).
	if [ "$agree" -ge $((prev - 3)) ]; then
		ok "agreement at $S shots ($agree/$m) not below the previous count ($prev)"
	else
		bad "agreement fell from $prev to $agree at $S shots"
	fi
	prev=$agree
done
if [ $((prev * 100)) -ge $((m * 95)) ]; then
	ok "at 10^5 shots $prev of $m predictions match exact mode (>= 95%)"
else
	bad "at 10^5 shots only $prev of $m predictions match exact mode"
fi
ae=$(acc "$work/exact-m.out") as=$(acc "$work/shots100000.out")
if awk -v a="$as" -v e="$ae" 'BEGIN { exit !(a - e <= 3 && e - a <= 3) }'; then
	ok "accuracy at 10^5 shots $as% within 3 points of exact mode's $ae% on the same $m images"
else
	bad "accuracy at 10^5 shots $as% is not within 3 points of exact mode's $ae%"
fi
# Same seed, same counts: two runs give the same predictions.
"$work/hybrid-cls" "mnist:$mnist" --readout=shots --shots=1000 --seed=7 --limit=50 --preds="$work/again.txt" >/dev/null
if cmp -s <(head -n 50 "$work/shots1000.txt") "$work/again.txt"; then
	ok "shots mode is deterministic for a fixed seed"
else
	bad "two shot runs with the same seed differ"
fi

[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
