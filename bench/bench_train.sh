#!/usr/bin/env bash
# bench/bench_train.sh - training throughput of qnnc's engine against PyTorch
# on the MNIST MLP (examples/mnist-mlp/model.onnx, 784-256-256-10): Adam,
# batch 128 by default, one epoch over the 60,000 training images, all
# parameters trained, both measured in this run at each thread count
# (1 and all cores). Prints images per second, the final loss and test
# accuracy of each, and qnnc/torch.
#   bench/bench_train.sh [BUILD_DIR [BATCH [EPOCHS]]]     (default build/release)
# Needs the qnnc libraries built in BUILD_DIR (scripts/test.sh --fast) and
# python3-torch for /usr/bin/python3 (scripts/setup-train.sh); without torch
# only qnnc is measured.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
batch=${2:-128}
epochs=${3:-1}
data=${QNNC_SHARED_DATA:-$root/../shared/data}
model=$root/examples/mnist-mlp/model.onnx
for lib in passes/libqnnc_passes.a frontend/libqnnc_frontend.a ir/libqnnc_ir.a; do
	[ -f "$build/$lib" ] || { echo "build qnnc first: $build/$lib is missing"; exit 1; }
done
[ -d "$data/mnist" ] || { echo "no MNIST data in $data/mnist"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -std=c11 -O2 -D_XOPEN_SOURCE=700 "$root/bench/bench_train.c" -o "$work/bench_train" \
	-L"$build/passes" -L"$build/frontend" -L"$build/ir" -lqnnc_passes -lqnnc_frontend -lqnnc_ir \
	$(pkg-config --libs libprotobuf-c) -lopenblas -llapacke -lz -lm
have_torch=0
/usr/bin/python3 -c 'import torch, onnx' 2>/dev/null && have_torch=1
cores=$(nproc)
threads="1"
[ "$cores" -gt 1 ] && threads="1 $cores"
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
printf '%-8s %6s %14s %14s %8s %10s %10s\n' threads batch qnnc_img_s torch_img_s ratio qnnc_acc torch_acc
for t in $threads; do
	q=$("$work/bench_train" "$model" "$data/mnist" "$batch" "$epochs" "$t")
	qi=$(echo "$q" | field images_per_s) qa=$(echo "$q" | field test_acc)
	ti=NA ta=NA ratio=NA
	if [ "$have_torch" = 1 ]; then
		r=$(/usr/bin/python3 "$root/bench/bench_train_torch.py" "$model" "$data/mnist" "$batch" "$epochs" "$t")
		ti=$(echo "$r" | field images_per_s) ta=$(echo "$r" | field test_acc)
		ratio=$(awk -v a="$qi" -v b="$ti" 'BEGIN{printf "%.2f", a/b}')
	fi
	printf '%-8s %6s %14s %14s %8s %10s %10s\n' "$t" "$batch" "$qi" "$ti" "$ratio" "$qa" "$ta"
done
