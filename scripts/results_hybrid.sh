#!/usr/bin/env bash
# Hybrid programs (issue 8): for the MNIST MLP fixture (and, with --cifar,
# the CIFAR-10 CNN fixture), rewrite the 256×256 bottleneck /fc2/Gemm as
# U M' Vᵀ (quantum circuits U, V of real orthogonal gates around a residual
# MPO M' of bond χ'), heal with --train=layer and with --train=all, build the
# generated hybrid program against libqnnrt and classify the test set with
# exact read-out (all test images) and with shots (S = 10^3..10^6, on the
# first --subset images); next to it the baselines healed with the same
# recipe: the bottleneck as an MPO of bond χ' without circuits ("no
# circuit") and the bottleneck replaced by the identity. Writes the tables
# into docs/results.md between the markers <!-- hybrid:begin/end --> (the
# file is created if missing; the rest of it is left alone).
#
#   scripts/results_hybrid.sh [--qnnc PATH] [--qnnrt LIB] [--cc CC]
#                             [--data DIR] [--out FILE] [--work DIR]
#                             [--configs "k:D:1body:χ' ..."] [--epochs N]
#                             [--shots "1000 10000"] [--subset N]
#                             [--cifar] [--reuse]
#
# Defaults: build/release/driver/qnnc, its build's runtime/libqnnrt.a, cc,
# $QNNC_SHARED_DATA or ../shared/data, docs/results.md,
# build/results-hybrid (one directory per run: report, program, stage
# programs, predictions, kept), configs "2:2:1:1 2:2:1:2 4:4:0:1 4:4:0:2"
# (gate qubits k, depth D, 1-qubit layers 0/1, residual bond χ'), 2 epochs,
# shots "1000 10000 100000 1000000" on the first 1000 test images, MNIST
# only: about 10 minutes on 2 cores (--cifar adds the CNN: about 30 more).
# --reuse keeps the runs already completed in the work directory (same qnnc
# assumed) and only adds the missing ones. The script stops with the
# commands to reproduce when the hybrid program's exact accuracy differs
# from the interpreter's by more than 0.1 point, or a stage program's CX
# count from the report's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qnnc=$root/build/release/driver/qnnc
qnnrt=
cc=${CC:-cc}
data=${QNNC_SHARED_DATA:-$root/../shared/data}
out=$root/docs/results.md
work=$root/build/results-hybrid
configs="2:2:1:1 2:2:1:2 4:4:0:1 4:4:0:2"
epochs=2
shots="1000 10000 100000 1000000"
subset=1000
cifar=0
reuse=0

. "$root/scripts/results_common.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--qnnc) qnnc=$2; shift 2 ;;
	--qnnrt) qnnrt=$2; shift 2 ;;
	--cc) cc=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--configs) configs=$2; shift 2 ;;
	--epochs) epochs=$2; shift 2 ;;
	--shots) shots=$2; shift 2 ;;
	--subset) subset=$2; shift 2 ;;
	--cifar) cifar=1; shift ;;
	--reuse) reuse=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "results_hybrid.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
done

need_built qnnc "$qnnc" "qnnc qnnrt"
qnnc=$(cd "$(dirname "$qnnc")" && pwd)/$(basename "$qnnc")
[ -n "$qnnrt" ] || qnnrt=$(dirname "$(dirname "$qnnc")")/runtime/libqnnrt.a
if [ ! -f "$qnnrt" ]; then
	echo "results_hybrid.sh: no runtime library at $qnnrt (build the qnnrt target or use --qnnrt LIB)" >&2
	exit 1
fi
positive() { case $1 in *[!0-9]* | '' | 0*) return 1 ;; esac; }
positive "$epochs" || { echo "results_hybrid.sh: bad --epochs '$epochs'" >&2; exit 2; }
positive "$subset" || { echo "results_hybrid.sh: bad --subset '$subset'" >&2; exit 2; }
for s in $shots; do
	positive "$s" || { echo "results_hybrid.sh: bad shot count '$s' (a positive integer)" >&2; exit 2; }
done
bonds=
for c in $configs; do
	IFS=: read -r k d ob chi extra <<<"$c"
	if ! positive "$k" || ! positive "$d" || ! positive "$chi" || [ -n "${extra:-}" ] ||
		{ [ "$ob" != 0 ] && [ "$ob" != 1 ]; } || [ "$k" -gt 6 ]; then
		echo "results_hybrid.sh: bad config '$c' (k:D:1body:χ', e.g. 2:2:1:1; k in 1..6, 1body 0 or 1)" >&2
		exit 2
	fi
	case " $bonds " in *" $chi "*) ;; *) bonds="$bonds $chi" ;; esac
done
if ! python3 -c 'import json' 2>/dev/null; then
	echo "results_hybrid.sh: needs python3 (standard library only) to read the reports" >&2
	exit 1
fi
if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
	echo "results_hybrid.sh: the identity baseline needs python3-onnx for /usr/bin/python3 (scripts/setup-train.sh)" >&2
	exit 1
fi

# name kind model layer preprocess: one dataset's runs.
sets=("mnist mnist $root/examples/mnist-mlp/model.onnx /fc2/Gemm mean:0.1307,std:0.3081")
[ $cifar = 1 ] && sets+=("cifar10 cifar10 $root/examples/cifar10-cnn/model.onnx /fc2/Gemm mean:0.4914/0.4822/0.4465,std:0.247/0.243/0.261")
mkdir -p "$work" "$(dirname "$out")"

now() { date +%s.%N; }

# qnnc DIR ARGS...: one compile into DIR/model.* (report, C, stage
# programs), its wall time in DIR/wall.
compile() {
	local dir=$1 t0 t1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$qnnc $*" >"$dir/command"
	t0=$(now)
	"$qnnc" "$@" -o "$dir/model" --name model
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >"$dir/wall"
}

# classify DIR TAG ARGS...: run DIR's hybrid program; the result line goes
# into DIR/classify.txt as "TAG images N correct C accuracy A% (T us/image)".
classify() {
	local dir=$1 tag=$2 line
	shift 2
	line=$("$dir/classify" "$@")
	echo "$tag $line" >>"$dir/classify.txt"
}

runs=()
for s in "${sets[@]}"; do
	read -r name kind model layer pre <<<"$s"
	if [ ! -d "$data/$name" ]; then
		echo "results_hybrid.sh: $name not found in $data/$name (use --data DIR)" >&2
		exit 1
	fi
	ds=$kind:$data/$name
	common=(--eval="$ds" --heal="$ds" --epochs="$epochs" --preprocess="$pre")
	mean=${pre#mean:}; mean=${mean%%,*}
	std=${pre#*std:}
	base=$work/$name
	mkdir -p "$base"

	# The identity baseline: nothing to train but the rest of the network.
	dir=$base/identity-all
	if [ $reuse = 0 ] || [ ! -f "$dir/done" ]; then
		echo "$name: identity baseline, --train=all" >&2
		mkdir -p "$dir"
		/usr/bin/python3 "$root/scripts/identity_baseline.py" "$model" "$layer" "$base/identity.onnx"
		compile "$dir" "$base/identity.onnx" "${common[@]}" --train=all --emit=report
		touch "$dir/done"
	fi
	runs+=("$name|$model|$layer|$pre|identity||all|$dir")

	for chi in $bonds; do
		for train in layer all; do
			dir=$base/mpo$chi-$train
			if [ $reuse = 0 ] || [ ! -f "$dir/done" ]; then
				echo "$name: MPO χ = $chi without circuits, --train=$train" >&2
				compile "$dir" "$model" --layers="$layer" --bond="$chi" "${common[@]}" --train="$train" --emit=report
				touch "$dir/done"
			fi
			runs+=("$name|$model|$layer|$pre|mpo|$chi|$train|$dir")
		done
	done

	for c in $configs; do
		IFS=: read -r k d ob chi <<<"$c"
		flags=(--sides=both --gate-qubits="$k" --depth="$d" --residual-bond="$chi")
		[ "$ob" = 1 ] && flags+=(--one-body)
		for train in layer all; do
			dir=$base/k$k-d$d-ob$ob-chi$chi-$train
			if [ $reuse = 1 ] && [ -f "$dir/done" ]; then
				runs+=("$name|$model|$layer|$pre|dis|$c|$train|$dir")
				continue
			fi
			echo "$name: k = $k, D = $d, 1-body $ob, χ' = $chi, --train=$train" >&2
			compile "$dir" "$model" --layers="$layer" "${flags[@]}" "${common[@]}" --train="$train" --emit=c,qasm,report
			"$cc" -std=c99 -O2 -DQNNC_MODEL_HEADER='"model.h"' -DNAME=model -DQNNC_HYBRID \
				-I "$dir" -I "$root/runtime" "$root/examples/classify.c" "$dir/model.c" "$qnnrt" \
				-lz -lm -o "$dir/classify"
			cargs=("$ds" --mean="$mean" --std="$std")
			classify "$dir" "exact 0 all" "${cargs[@]}" --readout=exact --preds="$dir/preds.exact"
			# The hybrid program must reproduce the interpreter (to 0.1 point:
			# float vs double may flip a near-tie or two).
			if ! python3 - "$dir" <<'EOF'; then
import json, re, sys
d = sys.argv[1]
rep = json.load(open(d + "/model.json"))
interp = rep["eval"]["healed"]["accuracy"]
line = open(d + "/classify.txt").read().splitlines()[-1]
m = re.search(r"images (\d+)\s+correct (\d+)", line)
hybrid = int(m.group(2)) / int(m.group(1))
if abs(hybrid - interp) > 0.001 + 1e-12:
    sys.exit(f"results_hybrid.sh: {d}: hybrid exact accuracy {100 * hybrid:.2f}% differs from the interpreter's "
             f"{100 * interp:.2f}% by more than 0.1 point")
EOF
				echo "results_hybrid.sh: reproduce with" >&2
				echo "  $(cat "$dir/command") -o $dir/model --name model" >&2
				echo "  $dir/classify ${cargs[*]} --readout=exact" >&2
				exit 1
			fi
			classify "$dir" "exact 0 $subset" "${cargs[@]}" --readout=exact --limit="$subset"
			for S in $shots; do
				echo "$name:   shots $S on $subset images" >&2
				classify "$dir" "shots $S $subset" "${cargs[@]}" --readout=shots --shots="$S" \
					--limit="$subset" --preds="$dir/preds.shots$S"
			done
			touch "$dir/done"
			runs+=("$name|$model|$layer|$pre|dis|$c|$train|$dir")
		done
	done
done

python3 - "$out" "$root" "$epochs" "$subset" "${runs[@]}" <<'EOF'
import json, os, re, sys

out, root, epochs, subset = sys.argv[1:5]
runs = sys.argv[5:]
sys.path.insert(0, os.path.join(root, "scripts"))
from results_section import eval_accuracy, load_report, lr_text, write_section  # noqa: E402
BEGIN, END = "<!-- hybrid:begin -->", "<!-- hybrid:end -->"


def fail(msg):
    sys.exit("results_hybrid.sh: " + msg)


def load(path):
    return load_report(path, "results_hybrid.sh")


def acc(rep, which, path):
    return eval_accuracy(rep, which, path, "results_hybrid.sh")


def pct(x):
    return "—" if x is None else f"{100 * x:.2f}%"


def num(x):
    return f"{x:,}" if isinstance(x, int) else "—"


def secs(x):
    if not isinstance(x, (int, float)):
        return "—"
    return f"{x:.2f} s" if x < 1 else f"{x:.1f} s" if x < 100 else f"{x:.0f} s"


def us(x):
    if x is None:
        return "—"
    return f"{x / 1000:.2f} ms" if x < 1e5 else f"{x / 1e6:.2f} s"


def classify_lines(d):
    """{(mode, shots, limit): (images, correct, us)} from DIR/classify.txt."""
    res = {}
    with open(os.path.join(d, "classify.txt")) as f:
        for line in f:
            m = re.match(r"(\w+) (\d+) (\w+) images (\d+)\s+correct (\d+)\s+accuracy \S+\s+\(([\d.]+) us/image\)", line)
            if not m:
                fail(f"{d}/classify.txt: cannot parse '{line.strip()}'")
            res[(m.group(1), int(m.group(2)), m.group(3))] = (int(m.group(4)), int(m.group(5)), float(m.group(6)))
    return res


def preds(path, n=None):
    with open(path) as f:
        p = f.read().split()
    return p[:n] if n is not None else p


def count_cx(path):
    n = 0
    with open(path) as f:
        for line in f:
            if re.match(r"\s*cx\b", line):
                n += 1
    return n


sets, order, version, recipe, lrs = {}, [], None, None, {}
for run in runs:
    name, model, layer, pre, kind, cfg, train, d = run.split("|")
    path = os.path.join(d, "model.json")
    rep = load(path)
    version = version or rep.get("qnnc_version")
    heal = rep.get("heal")
    if not isinstance(heal, dict):
        fail(f"{path}: no 'heal' section in the report")
    recipe = recipe or heal.get("recipe")
    lrs.setdefault(train, (heal.get("recipe") or {}).get("lr"))
    if name not in sets:
        sets[name] = {"model": model, "layer": layer, "pre": pre, "rows": {}, "order": [], "original": None,
                      "identity_plain": None, "dense": None, "command": None}
        order.append(name)
    S = sets[name]
    with open(os.path.join(d, "wall")) as f:
        wall = float(f.read())
    key = (kind, cfg)
    if key not in S["rows"]:
        S["rows"][key] = {"kind": kind, "cfg": cfg}
        S["order"].append(key)
    row = S["rows"][key]
    r = row.setdefault(train, {})
    r["wall"] = wall
    r["heal_s"] = heal.get("seconds")
    r["trainable"] = heal.get("params_trainable")
    r["total"] = heal.get("params_total")
    r["healed"] = acc(rep, "healed", path)
    ev = rep.get("eval") or {}
    r["eval_s"] = sum(v.get("seconds", 0) for v in ev.values() if isinstance(v, dict))
    if kind == "identity":
        # The identity model is this run's "original".
        S["identity_plain"] = acc(rep, "original", path)
        row["before"] = S["identity_plain"]
        row["params"] = 0
        continue
    orig = acc(rep, "original", path)
    if S["original"] is None:
        S["original"] = orig
    elif S["original"] != orig:
        fail(f"{path}: the original accuracy {orig} differs from {S['original']} in another report")
    comp = ((rep.get("compression") or {}).get("layers") or [{}])[0]
    S["dense"] = S["dense"] or comp.get("params_dense")
    r["comp_s"] = comp.get("seconds")
    before = acc(rep, "compressed" if kind == "mpo" else "disentangled", path)
    if row.setdefault("before", before) != before:
        fail(f"{path}: accuracy before healing {before} differs between the protocols of {kind} {cfg}")
    if kind == "mpo":
        row["params"] = comp.get("params_mpo")
        row["classical"] = row["params"]
        row["quantum"] = 0
        continue
    dis = rep.get("disentangle")
    if not isinstance(dis, dict) or not dis.get("layers"):
        fail(f"{path}: no 'disentangle' section in the report")
    L = dis["layers"][0]
    P = L.get("params") or {}
    row["quantum"] = (P.get("circuit_u") or 0) + (P.get("circuit_v") or 0)
    row["classical"] = P.get("residual")
    row["params"] = P.get("total")
    row["overlap"] = L.get("overlap")
    r["dis_s"] = L.get("seconds")
    r["sweeps"] = L.get("sweeps")
    # Stage programs: the report's CX counts against the emitted files.
    stages = dis.get("stages") or []
    if len(stages) != 2:
        fail(f"{path}: {len(stages)} quantum stages in the report, expected 2 (V and U)")
    row["stages"] = stages
    for st in stages:
        f = os.path.join(d, f"model.stage{st['stage']}.qasm")
        n = count_cx(f)
        if n != st.get("cx"):
            fail(f"{f}: {n} cx statements, the report says {st.get('cx')}")
    if S["command"] is None:
        with open(os.path.join(d, "command")) as f:
            cmd = f.read().split(" ", 1)
        S["command"] = "qnnc " + (cmd[1].strip() if len(cmd) > 1 else "")
    # The hybrid program's runs.
    cl = classify_lines(d)
    full = cl.get(("exact", 0, "all"))
    sub = cl.get(("exact", 0, subset))
    if not full or not sub:
        fail(f"{d}/classify.txt: exact runs missing")
    r["exact"] = full[1] / full[0]
    r["exact_n"] = full[0]
    r["exact_us"] = full[2]
    r["sub"] = sub[1] / sub[0]
    r["sub_n"] = sub[0]
    ex = preds(os.path.join(d, "preds.exact"), sub[0])
    r["shots"] = {}
    for (mode, s, lim), (n, c, t) in sorted(cl.items()):
        if mode != "shots":
            continue
        p = preds(os.path.join(d, f"preds.shots{s}"))
        if len(p) != n or len(ex) != n:
            fail(f"{d}: {len(p)} predictions with {s} shots, {len(ex)} exact, expected {n}")
        agree = sum(a == b for a, b in zip(p, ex)) / n
        r["shots"][s] = (c / n, agree, t)
if not order:
    fail("no runs")


def label(row):
    if row["kind"] == "identity":
        return "identity (layer removed)"
    if row["kind"] == "mpo":
        return f"no circuit: MPO χ = {row['cfg']}"
    k, dd, ob, chi = row["cfg"].split(":")
    return f"k = {k}, D = {dd}{', 1-body' if ob == '1' else ''}, χ' = {chi}"


def sup(s):
    e = len(str(s)) - 1
    return f"10^{e}" if s == 10 ** e else f"{s:,}"


titles = {"mnist": "MNIST MLP", "cifar10": "CIFAR-10 CNN"}
rc = recipe or {}
lines = [
    BEGIN,
    "## Hybrid programs: accuracy, circuits and cost of the disentangled bottleneck",
    "",
    "Generated by `scripts/results_hybrid.sh`" + (f" with qnnc {version}" if version else "") + ". "
    "The bottleneck `/fc2/Gemm` (256×256) is rewritten as W ≈ U M' Vᵀ (`--sides=both`, variational "
    "disentangler from the exact MPO of W, brickwork of k-qubit gates, D layers per side, optionally "
    "1-qubit layers in between, residual MPO M' of bond χ'); U and V become the two quantum stages of "
    "the generated program (8 data qubits + 1 read-out ancilla each). Every model is then healed for "
    f"{epochs} epoch{'s' if epochs != '1' else ''} with the same recipe (optimizer {rc.get('optimizer', '?')}, "
    f"{lr_text(lrs)}, {rc.get('schedule', '?')} schedule, batch {rc.get('batch', '?')}, seed "
    f"{rc.get('seed', '?')}, {rc.get('blas_threads', '?')} BLAS thread{'s' if rc.get('blas_threads') != 1 else ''}, "
    "no augmentation) in two protocols: `--train=layer` (only the rewritten layer learns — gates, M' and "
    "bias — the rest of the network is frozen: what the layer can express) and `--train=all` (every weight). "
    "Baselines with the same recipe: the bottleneck as an MPO of bond χ' without circuits (the classical "
    "part of the hybrid layer alone; its row is also the plain and healed MPO compression at that bond), "
    "and the bottleneck replaced by the identity (`scripts/identity_baseline.py`, bias removed too). "
    "For the overlap at other gate sizes and depths see the section of `scripts/results_dis.sh` "
    "(which disentangles a healed χ = 8 MPO, not the exact W as here).",
    "",
    "Classical accuracies are top-1 on the full test split, evaluated by the reference interpreter "
    "(`--eval`; gates applied in double). \"Hybrid exact\" is the generated C program (examples/classify.c "
    "linked with libqnnrt) with `--readout=exact` (the stages simulated, read-out from the amplitudes) "
    "on the full test split; the script stops if it differs from the interpreter by more than 0.1 point. "
    f"Shot-based read-out (`--readout=shots --shots=S`, seed 0) runs on the first {subset} test images "
    "only (the counts are drawn as a multinomial histogram, so the cost hardly grows with S; the subset "
    "keeps the table's run time down); each cell gives the accuracy and, in parentheses, the share of "
    "predictions equal to the exact read-out's on the same images.",
    "",
    "For scale (quoted, not measured here): with PyTorch on an MNIST MLP (97.7%), the identity baseline "
    "healed with every weight reaches 97.4%; with the rest frozen and χ' = 1, no circuit 53.7%, k = 2, D = 2 "
    "with 1-qubit layers 79.3%, k = 4, D = 4 96.3%. Aizpurua, Orús, Singh (arXiv:2509.06653) report 94.66% "
    "(MNIST) and 60.74% (CIFAR-10) with 1-body + 2-body disentanglers, and about 1 point lost in shot-based "
    "simulation.",
]
for name in order:
    S = sets[name]
    rel = os.path.relpath(os.path.realpath(S["model"]), os.path.realpath(root))
    rows = [S["rows"][k] for k in S["order"]]
    dis_rows = [r for r in rows if r["kind"] == "dis"]
    lines += [
        "",
        f"### {titles.get(name, name)} (`{rel}`, `{S['layer']}`, `--preprocess={S['pre']}`)",
        "",
        f"Original model: **{pct(S['original'])}**; the dense layer has {num(S['dense'])} weights "
        "(+ 256 bias, kept by every row but the identity). Example command (k, D, χ' and --train vary):",
        "",
        "```",
        (S["command"] or "").replace(root + "/", "").replace(os.path.realpath(root) + "/", ""),
        "```",
        "",
        "#### Accuracy (interpreter, full test split)",
        "",
        "| bottleneck | layer params (classical + quantum) | overlap | before healing | healed, --train=layer | healed, --train=all |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| dense (original) | {num(S['dense'])} | — | {pct(S['original'])} | — | — |",
    ]
    for r in rows:
        if r["kind"] == "dis":
            params = f"{num(r['classical'])} + {num(r['quantum'])}"
            ov = f"{r['overlap']:.3f}" if isinstance(r.get("overlap"), (int, float)) else "—"
        else:
            params, ov = num(r.get("params")), "—"
        lay = pct(r["layer"]["healed"]) if "layer" in r else "— (nothing to train)"
        al = pct(r["all"]["healed"]) if "all" in r else "—"
        lines.append(f"| {label(r)} | {params} | {ov} | {pct(r['before'])} | {lay} | {al} |")
    if dis_rows:
        shot_list = sorted({s for r in dis_rows for t in ("layer", "all") if t in r for s in r[t]["shots"]})
        lines += [
            "",
            "#### Hybrid program (generated C + libqnnrt)",
            "",
            "| bottleneck | healed | interpreter | hybrid exact | exact, first " + subset + " | "
            + " | ".join(f"S = {sup(s)}" for s in shot_list) + " |",
            "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in shot_list) + " |",
        ]
        for r in dis_rows:
            for t in ("layer", "all"):
                if t not in r:
                    continue
                x = r[t]
                cells = [label(r), f"--train={t}", pct(x["healed"]), pct(x["exact"]), pct(x["sub"])]
                for s in shot_list:
                    v = x["shots"].get(s)
                    cells.append(f"{pct(v[0])} ({100 * v[1]:.1f}%)" if v else "—")
                lines.append("| " + " | ".join(cells) + " |")
        lines += [
            "",
            "#### Circuits and parameters",
            "",
            "CX counts are those of the stage programs (`OUT.stage0.qasm` = V, `OUT.stage1.qasm` = U), checked "
            "against the `cx` statements in the files: the gates' CX plus the state preparation's (the "
            "amplitude encoding of the 9-qubit input, the same for every row). Parameters count stored "
            "numbers: 4^k matrix entries per k-qubit gate on the quantum side, MPO core entries of M' on "
            "the classical side; \"trainable\" is what each protocol trains (whole network for --train=all).",
            "",
            "| bottleneck | gates V + U | CX V (gates + prep) | CX U (gates + prep) | quantum params | M' params | trainable, --train=layer | trainable, --train=all | network total |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in dis_rows:
            st = {s["node"].rsplit("/", 1)[-1]: s for s in r["stages"]}
            v, u = st.get("V", r["stages"][0]), st.get("U", r["stages"][1])

            def cx(s):
                return f"{s['cx']:,} ({s['cx'] - s['prep_cx']:,} + {s['prep_cx']:,})"
            tot = (r.get("all") or r.get("layer") or {}).get("total")
            lines.append(f"| {label(r)} | {v['gates']} + {u['gates']} | {cx(v)} | {cx(u)} | {num(r['quantum'])} | "
                         f"{num(r['classical'])} | {num((r.get('layer') or {}).get('trainable'))} | "
                         f"{num((r.get('all') or {}).get('trainable'))} | {num(tot)} |")
    shot_list = sorted({s for r in dis_rows for t in ("layer", "all") if t in r for s in r[t]["shots"]})
    lines += [
        "",
        "#### Time of each step",
        "",
        "Wall-clock on the machine that generated the table (shared, 2 cores; indicative only). qnnc: the "
        "whole compile (load, compression, disentangling, the interpreter evaluations, healing, code "
        "generation); of it the compression, the disentangler and healing as the report gives them. "
        "Classification time is per image, for the whole network.",
        "",
        "| bottleneck | healed | qnnc | compress | disentangle | heal | evaluations | exact | "
        + " | ".join(f"S = {sup(s)}" for s in shot_list) + (" |" if shot_list else "|"),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in shot_list)
        + (" |" if shot_list else "|"),
    ]
    for r in rows:
        for t in ("layer", "all"):
            if t not in r:
                continue
            x = r[t]
            cells = [label(r), f"--train={t}", secs(x["wall"]), secs(x.get("comp_s")), secs(x.get("dis_s")),
                     secs(x["heal_s"]),
                     secs(x["eval_s"]), us(x.get("exact_us"))]
            for s in shot_list:
                v = (x.get("shots") or {}).get(s)
                cells.append(us(v[2]) if v else "—")
            lines.append("| " + " | ".join(cells) + " |")
lines.append(END)
section = "\n".join(lines) + "\n"

write_section(out, BEGIN, END, section, "results_hybrid.sh")
EOF
