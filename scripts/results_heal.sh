#!/usr/bin/env bash
# Healing after MPO compression (issue 5): compress the bottleneck layer of
# the MNIST MLP fixture (and, with --cifar, of the CIFAR-10 CNN fixture) with
# --bond=χ, fine-tune the compressed model for a few epochs with
# --train=layer (only the MPO cores and bias) and with --train=all (every
# weight), evaluate with the reference interpreter on the 10,000 test images,
# and write the table into docs/results.md between the markers
# <!-- heal:begin/end --> (the file is created if missing; the rest of it is
# left alone).
#
#   scripts/results_heal.sh [--qnnc PATH] [--data DIR] [--out FILE]
#                           [--work DIR] [--bonds "2 4 8"] [--epochs N]
#                           [--cifar]
#
# Defaults: build/release/driver/qnnc, $QNNC_SHARED_DATA or ../shared/data,
# docs/results.md, build/results-heal (one OUT.json report per run, kept),
# 2 epochs, MNIST only (--cifar adds the CNN: some minutes per run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qnnc=$root/build/release/driver/qnnc
data=${QNNC_SHARED_DATA:-$root/../shared/data}
out=$root/docs/results.md
work=$root/build/results-heal
bonds="2 4 8"
epochs=2
cifar=0

. "$root/scripts/results_common.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--qnnc) qnnc=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--bonds) bonds=$2; shift 2 ;;
	--epochs) epochs=$2; shift 2 ;;
	--cifar) cifar=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "results_heal.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
done

need_built qnnc "$qnnc" "qnnc"
case $epochs in *[!0-9]* | '' | 0) echo "results_heal.sh: bad --epochs '$epochs'" >&2; exit 2 ;; esac
for chi in $bonds; do
	case $chi in *[!0-9]* | '' | 0) echo "results_heal.sh: bad bond '$chi' (a positive integer)" >&2; exit 2 ;; esac
done
if ! python3 -c 'import json' 2>/dev/null; then
	echo "results_heal.sh: needs python3 (standard library only) to read the reports" >&2
	exit 1
fi

# name kind model layer preprocess: one dataset's runs.
sets=("mnist mnist $root/examples/mnist-mlp/model.onnx /fc2/Gemm mean:0.1307,std:0.3081")
[ $cifar = 1 ] && sets+=("cifar10 cifar10 $root/examples/cifar10-cnn/model.onnx /fc2/Gemm mean:0.4914/0.4822/0.4465,std:0.247/0.243/0.261")
mkdir -p "$work" "$(dirname "$out")"

runs=()
for s in "${sets[@]}"; do
	read -r name kind model layer pre <<<"$s"
	if [ ! -d "$data/$name" ]; then
		echo "results_heal.sh: $name not found in $data/$name (use --data DIR)" >&2
		exit 1
	fi
	for chi in $bonds; do
		for train in layer all; do
			echo "$name: χ = $chi, --train=$train" >&2
			base=$work/$name-bond$chi-$train
			rm -f "$base.json"
			"$qnnc" "$model" --layers="$layer" --bond="$chi" --eval="$kind:$data/$name" \
				--heal="$kind:$data/$name" --train="$train" --epochs="$epochs" \
				--preprocess="$pre" --emit=report -o "$base"
			runs+=("$name|$model|$layer|$pre|$chi|$train|$base.json")
		done
	done
done

python3 - "$out" "$root" "$data" "$epochs" "${runs[@]}" <<'EOF'
import json, os, sys

out, root, data, epochs = sys.argv[1:5]
runs = sys.argv[5:]
sys.path.insert(0, os.path.join(root, "scripts"))
from results_section import eval_accuracy, load_report, lr_text, write_section  # noqa: E402
BEGIN, END = "<!-- heal:begin -->", "<!-- heal:end -->"

def fail(msg):
    sys.exit("results_heal.sh: " + msg)

def load(path):
    return load_report(path, "results_heal.sh")

def acc(rep, which, path):
    return eval_accuracy(rep, which, path, "results_heal.sh")

def pct(x):
    return f"{100 * x:.2f}%"

# name -> {"model", "layer", "pre", "rows": {chi: {...}}}
sets, order, version, recipe, lrs = {}, [], None, None, {}
for run in runs:
    name, model, layer, pre, chi, train, path = run.split("|")
    rep = load(path)
    version = version or rep.get("qnnc_version")
    heal = rep.get("heal")
    if not isinstance(heal, dict):
        fail(f"{path}: no 'heal' section in the report (does this qnnc support --heal?)")
    recipe = recipe or heal.get("recipe")
    lrs.setdefault(train, (heal.get("recipe") or {}).get("lr"))
    if name not in sets:
        sets[name] = {"model": model, "layer": layer, "pre": pre, "rows": {}, "original": None}
        order.append(name)
    S = sets[name]
    orig = acc(rep, "original", path)
    if S["original"] is None:
        S["original"] = orig
    elif S["original"] != orig:
        fail(f"{path}: the original accuracy {orig} differs from {S['original']} in the first report")
    row = S["rows"].setdefault(chi, {})
    plain = acc(rep, "compressed", path)
    if row.setdefault("plain", plain) != plain:
        fail(f"{path}: plain truncation {plain} differs between the runs at χ = {chi}")
    row[train] = acc(rep, "healed", path)
    comp = (rep.get("compression") or {}).get("layers") or [{}]
    row["params"] = comp[0].get("params_mpo")
    row["dense"] = comp[0].get("params_dense")
if not order:
    fail("no runs")

titles = {"mnist": "MNIST MLP", "cifar10": "CIFAR-10 CNN"}
r = recipe or {}
lines = [
    BEGIN,
    "## Healing: accuracy after fine-tuning the compressed model",
    "",
    "Generated by `scripts/results_heal.sh`" + (f" with qnnc {version}" if version else "") + ". "
    "The bottleneck layer is rewritten as an MPO with `--bond=χ`, then the compressed model is "
    f"trained for {epochs} epoch{'s' if epochs != '1' else ''} on the training split "
    f"(`--heal=DATASET --epochs={epochs}`; optimizer {r.get('optimizer', '?')}, {lr_text(lrs)}, "
    f"{r.get('schedule', '?')} schedule, batch {r.get('batch', '?')}, seed {r.get('seed', '?')}, "
    f"{r.get('blas_threads', '?')} BLAS thread{'s' if r.get('blas_threads') != 1 else ''}, "
    "no augmentation) with `--train=layer` (only the MPO cores and the bias) or `--train=all` "
    "(every weight of the network). Accuracies are top-1 on the 10,000 test images, evaluated with "
    "the reference interpreter (`--eval`); \"plain truncation\" is the compressed model before "
    "healing. The runs are bit-for-bit reproducible at this thread count.",
]
for name in order:
    S = sets[name]
    rel = os.path.relpath(os.path.realpath(S["model"]), os.path.realpath(root))
    lines += [
        "",
        f"### {titles.get(name, name)} (`{rel}`, `{S['layer']}`, `--preprocess={S['pre']}`)",
        "",
        "| χ | MPO params | plain truncation | healed, --train=layer | healed, --train=all | original |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for chi, row in S["rows"].items():
        params = f"{row['params']:,}" if isinstance(row.get("params"), int) else "—"
        if isinstance(row.get("dense"), int):
            params += f" of {row['dense']:,}"
        cells = [chi, params, pct(row["plain"]), pct(row["layer"]) if "layer" in row else "—",
                 pct(row["all"]) if "all" in row else "—", pct(S["original"])]
        lines.append("| " + " | ".join(cells) + " |")
lines.append(END)
section = "\n".join(lines) + "\n"

write_section(out, BEGIN, END, section, "results_heal.sh")
EOF
