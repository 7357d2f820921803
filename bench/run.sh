#!/usr/bin/env bash
# bench/run.sh - batch-1 inference time of qnnc's generated C against the
# reference interpreter (and onnxruntime-node when installed in bench/),
# on the two MNIST models in ../shared/data/models. All measured in this run;
# prints microseconds per inference and the ratios.
#   bench/run.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
data=${QNNC_SHARED_DATA:-$root/../shared/data}
[ -x "$build/driver/qnnc" ] || { echo "build qnnc first (scripts/test.sh --fast)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-22s %12s %12s %12s %10s %10s\n' model interp_us generated_us ort_us interp/gen ort/gen
for m in mnist-8:models/mnist-8:models/mnist-8/test_data_set_0/input_0.pb:1,1,28,28 \
         mnist-mlp:models/onnx-mlir-mnist-mlp:models/onnx-mlir-mnist-mlp/ort_reference/test_data_set_0/input_0.pb:1,1,28,28; do
	IFS=: read -r name dir input shape <<<"$m"
	model=$data/$dir/model.onnx
	"$build/driver/qnnc" -q "$model" -o "$work/model" --name model
	cc -std=c99 -O2 -march=native -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model -DMODEL_UPPER=MODEL -I"$work" \
		"$root/bench/bench_generated.c" "$work/model.c" -lm -o "$work/gen"
	it=$("$build/bench/bench_interp" "$model" "$data/$input" 200 "$work/in.bin" | awk '{print $2}')
	gt=$("$work/gen" "$work/in.bin" 20000 | awk '{print $2}')
	ot=NA
	if [ -d "$root/bench/node_modules/onnxruntime-node" ]; then
		ot=$(node "$root/bench/ort_bench.js" "$model" "$work/in.bin" "$shape" 20000 | awk '{print $2}')
	fi
	ro=NA
	[ "$ot" != NA ] && ro=$(awk -v a="$ot" -v b="$gt" 'BEGIN{printf "%.2f", a/b}')
	printf '%-22s %12s %12s %12s %10s %10s\n' "$name" "$it" "$gt" "$ot" \
		"$(awk -v a="$it" -v b="$gt" 'BEGIN{printf "%.2f", a/b}')" "$ro"
done
