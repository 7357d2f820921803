#!/usr/bin/env bash
# Accuracy vs MPO bond dimension (issue 4): compress the MNIST MLP fixture's
# 256×256 bottleneck /fc2/Gemm with --bond=χ for χ = 1, 2, 4, ..., 64 and
# without a limit, evaluate each compressed model on the 10,000 MNIST test
# images with the reference interpreter, and write the table into
# docs/results.md between the markers <!-- mpo-bond:begin/end -->
# (the file is created if missing; the rest of it is left alone).
#
#   scripts/results_mpo.sh [--qnnc PATH] [--data DIR] [--out FILE]
#                          [--work DIR] [--bonds "1 2 4 full"]
#
# Defaults: build/release/driver/qnnc, $QNNC_SHARED_DATA or ../shared/data,
# docs/results.md, build/results-mpo (one OUT.json report per χ, kept).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qnnc=$root/build/release/driver/qnnc
data=${QNNC_SHARED_DATA:-$root/../shared/data}
out=$root/docs/results.md
work=$root/build/results-mpo
bonds="1 2 4 8 16 32 64 full"

. "$root/scripts/results_common.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--qnnc) qnnc=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--bonds) bonds=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "results_mpo.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
done

model=$root/examples/mnist-mlp/model.onnx
layer=/fc2/Gemm
preprocess=mean:0.1307,std:0.3081
need_built qnnc "$qnnc" "qnnc"
if [ ! -d "$data/mnist" ]; then
	echo "results_mpo.sh: MNIST not found in $data/mnist (use --data DIR)" >&2
	exit 1
fi
if ! python3 -c 'import json' 2>/dev/null; then
	echo "results_mpo.sh: needs python3 (standard library only) to read the reports" >&2
	exit 1
fi
mkdir -p "$work" "$(dirname "$out")"

reports=()
for chi in $bonds; do
	case $chi in
	full) bond_flag=() ;;
	*[!0-9]* | '' | 0) echo "results_mpo.sh: bad bond '$chi' (a positive integer or 'full')" >&2; exit 2 ;;
	*) bond_flag=(--bond="$chi") ;;
	esac
	echo "χ = $chi" >&2
	rm -f "$work/bond-$chi.json"
	"$qnnc" "$model" --layers="$layer" ${bond_flag[@]+"${bond_flag[@]}"} --eval=mnist:"$data/mnist" \
		--preprocess="$preprocess" --emit=report -o "$work/bond-$chi"
	reports+=("$chi=$work/bond-$chi.json")
done

# Read the reports and splice the section into $out.
python3 - "$out" "$layer" "$preprocess" "$root" "$data/mnist" "${reports[@]}" <<'EOF'
import json, os, sys

out, layer, preprocess, root, mnist, runs = sys.argv[1:6] + [sys.argv[6:]]
# The data folder as seen from the repository root, as the commands in
# the docs are written.
shown = "mnist:" + os.path.relpath(os.path.realpath(mnist), os.path.realpath(root))
BEGIN, END = "<!-- mpo-bond:begin -->", "<!-- mpo-bond:end -->"

def fail(msg):
    sys.exit("results_mpo.sh: " + msg)

def find_layer(rep, path):
    comp = rep.get("compression") or {}
    layers = comp.get("layers") if isinstance(comp, dict) else None
    if layers is None:
        layers = rep.get("layers")
    for L in layers or []:
        if L.get("name") == layer:
            return L
    fail(f"{path}: no compressed layer '{layer}' in the report")

def accuracy(section, path, which):
    if not isinstance(section, dict) or not isinstance(section.get("accuracy"), (int, float)):
        fail(f"{path}: no eval.{which}.accuracy in the report")
    return section

def pct(x):
    return f"{100 * x:.2f}%"

rows, original, version = [], None, None
for run in runs:
    chi, path = run.split("=", 1)
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    L = find_layer(rep, path)
    ev = rep.get("eval")
    if not isinstance(ev, dict):
        fail(f"{path}: no 'eval' section in the report (does this qnnc support --eval?)")
    orig = accuracy(ev.get("original"), path, "original")
    comp = accuracy(ev.get("compressed"), path, "compressed")
    if original is None:
        original, version = orig, rep.get("qnnc_version")
    elif orig["accuracy"] != original["accuracy"]:
        fail(f"{path}: the original model's accuracy {orig['accuracy']} differs from "
             f"{original['accuracy']} in the first report")
    bond = L.get("bond", L.get("bond_dims")) or []
    rows.append({
        "chi": chi,
        "max_bond": max(bond) if bond else None,
        "params_dense": L.get("params_dense"),
        "params_mpo": L.get("params_mpo"),
        "rel_error": L.get("rel_error"),
        "estimated": str(L.get("rel_error_method", "exact")).startswith("estimated"),
        "comp": comp,
        "agreement": ev.get("agreement"),
    })
if not rows:
    fail("no runs")

def count(sec):
    if isinstance(sec.get("correct"), int) and isinstance(sec.get("n"), int):
        return f" ({sec['correct']:,}/{sec['n']:,})"
    return ""

dense = rows[0]["params_dense"]
agree = any(isinstance(r["agreement"], (int, float)) for r in rows)
weights = f" ({dense:,} weights)" if isinstance(dense, int) else ""
images = (f"{original['n']:,} MNIST test images" if isinstance(original.get("n"), int)
          else "MNIST test split")
estimated = " (≈: estimated from the discarded weight)" if any(r["estimated"] for r in rows) else ""
lines = [
    BEGIN,
    "## MPO compression: accuracy vs bond dimension (MNIST MLP, fc2)",
    "",
    "Generated by `scripts/results_mpo.sh`" + (f" with qnnc {version}" if version else "") + ". "
    f"The fixture `examples/mnist-mlp/model.onnx` has its `{layer}` layer{weights} "
    "rewritten as an MPO with `--bond=χ` (\"full\": no limit, exact up to rounding), and "
    f"the whole model is evaluated with the reference interpreter on the {images} "
    f"(`--eval={shown} --preprocess={preprocess}`). "
    f"Relative error is ‖W − W̃‖_F / ‖W‖_F of the layer{estimated}.",
    "",
    f"Original model: **{pct(original['accuracy'])}**{count(original)}.",
    "",
    "| χ | largest bond | MPO params | compression | rel. error | accuracy | Δ accuracy"
    + (" | same predictions |" if agree else " |"),
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---:" + (" | ---: |" if agree else " |"),
]
for r in rows:
    ratio = (f"{r['params_dense'] / r['params_mpo']:.1f}×"
             if r["params_dense"] and r["params_mpo"] else "—")
    err = "—" if r["rel_error"] is None else ("≈" if r["estimated"] else "") + f"{r['rel_error']:.3g}"
    acc = r["comp"]["accuracy"]
    delta = 100 * (acc - original["accuracy"])
    cells = [r["chi"], "—" if r["max_bond"] is None else str(r["max_bond"]),
             "—" if r["params_mpo"] is None else f"{r['params_mpo']:,}", ratio, err,
             pct(acc) + count(r["comp"]), f"{delta:+.2f} pp"]
    if agree:
        a = r["agreement"]
        cells.append("—" if not isinstance(a, (int, float)) else f"{100 * a:.2f}%")
    lines.append("| " + " | ".join(cells) + " |")
lines.append(END)
section = "\n".join(lines) + "\n"

sys.path.insert(0, os.path.join(root, "scripts"))
from results_section import write_section  # noqa: E402
write_section(out, BEGIN, END, section, "results_mpo.sh")
EOF
