#!/usr/bin/env bash
# The main job: compile the bundled MNIST model with qnnc, build the
# generated C with a small driver, and run it on the 10,000 MNIST test
# images in ../shared/data/mnist, printing the accuracy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${QNNC_SHARED_DATA:-$root/../shared/data}
bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build/release" -j"$(nproc)" --target qnnc >/dev/null
out=$root/build/mnist
mkdir -p "$out"
model=$root/examples/mnist-mlp/model.onnx
echo "qnnc $model -o $out/model"
"$root/build/release/driver/qnnc" "$model" -o "$out/model" --name model
cc -std=c99 -Wall -Wextra -pedantic -O2 -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model -I"$out" \
	"$root/examples/mnist_main.c" "$out/model.c" -lz -lm -o "$out/mnist"
"$out/mnist" "$data/mnist"
