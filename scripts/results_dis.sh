#!/usr/bin/env bash
# Disentangling a healed MPO (issue 6): compress the MNIST MLP fixture's
# 256×256 bottleneck /fc2/Gemm to an MPO of bond χ = 8 and heal it (2 epochs,
# --train=all); that MpoLinear is the target. Each configuration rewrites it
# as U M' Vᵀ (circuits of k-qubit orthogonal gates, residual MPO M' of bond
# χ' = 1, 2), evaluates the model on the 10,000 test images, heals it for one
# epoch (--train=all) and evaluates it again. Tables: (a) overlap vs gate
# size k = 1..6 at depth 4, (b) overlap vs depth at k = 2, both for sides
# left/both with and without 1-qubit layers (variational method), (c) the
# variational and gradient methods side by side, each cell with the accuracy
# before → after healing; baselines: plain truncation to χ' and its healing;
# one k = 4 run with five times the cap shows what more sweeps would add.
# Writes docs/results.md between the markers <!-- dis:begin/end --> (the file
# is created if missing; the rest of it is left alone).
#
#   scripts/results_dis.sh [--qnnc PATH] [--data DIR] [--out FILE]
#                          [--work DIR] [--sweeps "S1 .. S6"] [--steps N]
#                          [--reuse]
#
# Defaults: build/release/driver/qnnc, $QNNC_SHARED_DATA or ../shared/data,
# docs/results.md, build/results-dis (one directory per run: command, log,
# report, kept), variational sweeps capped (one cap per gate size k = 1..6)
# at 300 for every k (layers of up to 2^20 entries take the dense path of the
# method: a few hundredths of a second per sweep here), 300 gradient steps
# (about 15 minutes on 2 cores).
# --reuse keeps the runs already completed in the work directory with the
# same command (same qnnc binary assumed) and only redoes the others. The
# script stops with the command to reproduce when a run fails or reports a
# non-finite overlap, or one below the circuits' starting point.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
qnnc=$root/build/release/driver/qnnc
data=${QNNC_SHARED_DATA:-$root/../shared/data}
out=$root/docs/results.md
work=$root/build/results-dis
sweeps="300 300 300 300 300 300"
steps=300
reuse=0

. "$root/scripts/results_common.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--qnnc) qnnc=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--sweeps) sweeps=$2; shift 2 ;;
	--steps) steps=$2; shift 2 ;;
	--reuse) reuse=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "results_dis.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
done

need_built qnnc "$qnnc" "qnnc"
qnnc=$(cd "$(dirname "$qnnc")" && pwd)/$(basename "$qnnc")
positive() { case $1 in *[!0-9]* | '' | 0*) return 1 ;; esac; }
read -r -a cap <<<"$sweeps"
if [ ${#cap[@]} != 6 ]; then
	echo "results_dis.sh: --sweeps needs 6 sweep caps, one per k = 1..6 (got '$sweeps')" >&2
	exit 2
fi
for s in "${cap[@]}"; do
	positive "$s" || { echo "results_dis.sh: bad sweep cap '$s' (a positive integer)" >&2; exit 2; }
done
positive "$steps" || { echo "results_dis.sh: bad --steps '$steps'" >&2; exit 2; }
if [ ! -d "$data/mnist" ]; then
	echo "results_dis.sh: MNIST not found in $data/mnist (use --data DIR)" >&2
	exit 1
fi
if ! python3 -c 'import json' 2>/dev/null; then
	echo "results_dis.sh: needs python3 (standard library only) to read the reports" >&2
	exit 1
fi

model=$root/examples/mnist-mlp/model.onnx
layer=/fc2/Gemm
pre=mean:0.1307,std:0.3081
ds=mnist:$data/mnist
bond=8
heal_epochs=2
mkdir -p "$work" "$(dirname "$out")"
now() { date +%s.%N; }

# run DIR MESSAGE ARGS...: one qnnc run into DIR/run.* (report; .onnx for
# the target), its command in DIR/command, its log in DIR/log, wall time in
# DIR/wall, DIR/done when it succeeded. With --reuse a finished run with the
# same command is kept. On failure: the log's tail and the command, exit 1.
run() {
	local dir=$1 msg=$2 cmd t0 t1
	shift 2
	cmd=$(printf '%q ' "$qnnc" "$@" -o "$dir/run")
	if [ $reuse = 1 ] && [ -f "$dir/done" ] && [ "$(cat "$dir/command")" = "$cmd" ]; then
		return 0
	fi
	echo "$msg" >&2
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$cmd" >"$dir/command"
	t0=$(now)
	if ! "$qnnc" "$@" -o "$dir/run" >"$dir/log" 2>&1; then
		tail -n 20 "$dir/log" >&2
		echo "results_dis.sh: this run failed; to reproduce:" >&2
		cat "$dir/command" >&2
		exit 1
	fi
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' >"$dir/wall"
	touch "$dir/done"
}

# Step 1: the target, a healed MPO of bond χ = 8.
target=$work/healed$bond
run "$target" "target: --bond=$bond, healed $heal_epochs epochs (--train=all)" "$model" \
	--layers="$layer" --bond="$bond" --heal="$ds" --epochs="$heal_epochs" --train=all \
	--preprocess="$pre" --emit=onnx,report
# The MpoLinear keeps the Gemm's node name; the report says so.
node=$(python3 - "$target/run.json" "$target/run.onnx" <<'EOF'
import json, sys
layers = ((json.load(open(sys.argv[1])).get("compression") or {}).get("layers") or [])
if len(layers) != 1 or not layers[0].get("name"):
    sys.exit(f"results_dis.sh: {sys.argv[1]}: expected one compressed layer in the report")
if b"MpoLinear" not in open(sys.argv[2], "rb").read():
    sys.exit(f"results_dis.sh: {sys.argv[2]}: no MpoLinear node")
print(layers[0]["name"])
EOF
)
common=("$target/run.onnx" --layers="$node" --eval="$ds" --heal="$ds" --epochs=1 --train=all
	--preprocess="$pre" --emit=report)

runs=("target|$target")
# Baselines: the target truncated to χ' (TT-SVD, no circuits), healed the same way.
for chi in 1 2; do
	dir=$work/plain-x$chi
	run "$dir" "plain truncation χ' = $chi" "${common[@]}" --bond="$chi"
	runs+=("plain|$chi|$dir")
done

# dis METHOD K D SIDES ONEBODY CHI [SWEEPS]: one disentangling run (skipped
# when already listed); SWEEPS overrides the budget (a "long" run).
declare -A seen
dis() {
	local method=$1 k=$2 d=$3 sides=$4 ob=$5 chi=$6 id dir n flags tag=
	id=$method-k$k-d$d-$sides-ob$ob-x$chi
	if [ -n "${7:-}" ]; then
		n=$7 tag=long id=$id-s$7
	elif [ "$method" = variational ]; then
		n=${cap[$((k - 1))]}
	else
		n=$steps
	fi
	[ -z "${seen[$id]:-}" ] || return 0
	seen[$id]=1
	dir=$work/$id
	flags=(--sides="$sides" --method="$method" --gate-qubits="$k" --depth="$d"
		--residual-bond="$chi" --sweeps="$n")
	[ "$ob" = 1 ] && flags+=(--one-body)
	run "$dir" "$method: k = $k, D = $d, sides $sides, 1-qubit layers $ob, χ' = $chi, $n sweeps/steps" \
		"${common[@]}" "${flags[@]}"
	runs+=("dis|$method|$k|$d|$sides|$ob|$chi|$tag|$dir")
}

# Cheap runs first: (b) depth at k = 2, (c) the methods, then (a) by k.
for chi in 1 2; do
	for d in 1 2 4 8; do
		for sides in left both; do
			for ob in 0 1; do dis variational 2 "$d" "$sides" "$ob" "$chi"; done
		done
	done
done
for chi in 1 2; do
	for k in 2 4; do
		for sides in left both; do
			for method in variational gradient; do dis "$method" "$k" 4 "$sides" 1 "$chi"; done
		done
	done
done
for k in 1 2 3 4 5 6; do
	for chi in 1 2; do
		for sides in left both; do
			for ob in 0 1; do dis variational "$k" 4 "$sides" "$ob" "$chi"; done
		done
	done
done
# What more sweeps would add at k = 4: the same with five times the cap.
dis variational 4 4 both 1 1 $((cap[3] * 5))

python3 - "$out" "$root" "$data" "$sweeps" "$steps" "${runs[@]}" <<'EOF'
import json, math, os, sys

out, root, data, sweeps, steps = sys.argv[1:6]
runs = sys.argv[6:]
BEGIN, END = "<!-- dis:begin -->", "<!-- dis:end -->"
caps = sweeps.split()

def fail(msg):
    sys.exit("results_dis.sh: " + msg)

def load(d):
    path = os.path.join(d, "run.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")

def command(d):
    with open(os.path.join(d, "command")) as f:
        return f.read().strip()

def acc(rep, which, d):
    sec = (rep.get("eval") or {}).get(which)
    if not isinstance(sec, dict) or not isinstance(sec.get("accuracy"), (int, float)):
        fail(f"{d}/run.json: no eval.{which}.accuracy in the report")
    return sec["accuracy"]

def pct(x):
    return f"{100 * x:.2f}%"

def num(x, nd=3):
    return f"{x:.{nd}f}"

version, target, plain, dis, longs, entropy, bonds, engines = None, None, {}, {}, {}, None, [], set()
for run in runs:
    f = run.split("|")
    d = f[-1]
    rep = load(d)
    version = version or rep.get("qnnc_version")
    if f[0] == "target":
        heal = rep.get("heal")
        if not isinstance(heal, dict):
            fail(f"{d}/run.json: no 'heal' section in the report (does this qnnc support --heal?)")
        comp = (rep.get("compression") or {}).get("layers") or [{}]
        target = {"before": heal["test"]["before"]["accuracy"], "after": heal["test"]["after"]["accuracy"],
                  "params": comp[0].get("params_mpo"), "dense": comp[0].get("params_dense"),
                  "rel_error": comp[0].get("rel_error"), "node": comp[0].get("name"),
                  "recipe": heal.get("recipe") or {}}
        continue
    orig = acc(rep, "original", d)
    if target is not None and "healed_acc" not in target:
        target["healed_acc"] = orig
    elif target is not None and target["healed_acc"] != orig:
        fail(f"{d}/run.json: the target's accuracy {orig} differs from {target['healed_acc']} in the other runs")
    if f[0] == "plain":
        comp = (rep.get("compression") or {}).get("layers") or [{}]
        err = comp[0].get("rel_error")
        plain[int(f[1])] = {"before": acc(rep, "compressed", d), "after": acc(rep, "healed", d),
                            "overlap": math.sqrt(max(0.0, 1 - err * err)) if isinstance(err, (int, float)) else None,
                            "params": comp[0].get("params_mpo"), "recipe": (rep.get("heal") or {}).get("recipe") or {}}
        continue
    _, method, k, D, sides, ob, chi, tag, _ = f
    ds = rep.get("disentangle")
    if not isinstance(ds, dict) or not ds.get("layers"):
        fail(f"{d}/run.json: no 'disentangle' section in the report")
    L = ds["layers"][0]
    ov, tr = L.get("overlap"), L.get("overlap_trunc")
    hist = L.get("history") or []
    # Bad numbers stop the script: a NaN, or worse than the identity circuits
    # it starts from (the better of plain truncation and the first fit).
    start = max(tr, hist[0]["overlap"]) if hist and isinstance(tr, (int, float)) else tr
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in (ov, tr, L.get("error"))):
        fail(f"{d}: non-finite overlap/error in the report; to reproduce:\n  {command(d)}")
    if ov < tr - 1e-9 or (method == "variational" and ov < start - 1e-6):
        fail(f"{d}: overlap {ov} below the identity circuits' {start}; to reproduce:\n  {command(d)}")
    p = L.get("params") or {}
    gain = hist[-1]["overlap"] - hist[-2]["overlap"] if len(hist) >= 2 else None
    entropy = entropy or L.get("entropy_before")
    if method == "variational" and hist:
        bonds.append(max(h.get("max_bond") or 0 for h in hist))
        engines.add(L.get("engine") or "?")
    (longs if tag == "long" else dis)[(method, int(k), int(D), sides, int(ob), int(chi))] = {
        "overlap": ov, "trunc": tr, "start": start, "error": L.get("error"), "sweeps": L.get("sweeps"),
        "anneal": L.get("anneal_sweeps") or 0, "seconds": L.get("seconds"), "gain": gain,
        "converged": L.get("converged"), "u": p.get("circuit_u"), "v": p.get("circuit_v"),
        "m": p.get("residual"), "gates": (L.get("gates_u") or 0) + (L.get("gates_v") or 0),
        "before": acc(rep, "disentangled", d), "after": acc(rep, "healed", d),
        "wall": float(open(os.path.join(d, "wall")).read()), "dir": d}
if target is None or not dis:
    fail("no runs")

def cell(r):
    if r is None:
        return "—"
    return f"{num(r['overlap'])} ({pct(r['before'])} → {pct(r['after'])})"

# Seconds per sweep at D = 4, both sides, χ' = 1 with 1-qubit layers, and the
# largest bond the contracted Uᵀ W V reached.
cost = []
for k in range(1, 7):
    r = dis.get(("variational", k, 4, "both", 1, 1))
    if r and r["sweeps"]:
        cost.append(f"{r['seconds'] / r['sweeps']:.2g} s at k = {k}")
sweep_cost = ("a sweep (D = 4, both sides, χ' = 1) takes " + ", ".join(cost) if cost else "see the details")
if engines == {"dense"}:
    sweep_cost += (" (every variational run took the dense engine of the method, which holds this "
                   "2^16-entry layer as a matrix; layers above 2^20 entries contract on MPOs)")
elif bonds and max(bonds) > 0:
    sweep_cost += (f", and the contracted Uᵀ W V reaches bond {max(bonds)} (dense for this layer) in "
                   f"{sum(b == max(bonds) for b in bonds)} of {len(bonds)} runs")
var = [(key, r) for key, r in dis.items() if key[0] == "variational"]
conv = [key for key, r in var if r["converged"]]
open_k = sorted({key[1] for key, r in var if not r["converged"]})
if len(conv) == len(var):
    budget_text = "Every variational run converged (last gain below the tolerance) before its cap."
else:
    budget_text = (f"{len(conv)} of {len(var)} variational runs converged before the cap; the others "
                   f"(k = {', '.join(map(str, open_k))}) were still gaining when they stopped, so their "
                   "overlaps are lower bounds: the \"last gain\" column of the details gives the overlap "
                   "gained in the final sweep.")
cols = [("left", 0), ("left", 1), ("both", 0), ("both", 1)]
colhead = "| left | left + 1q | both | both + 1q |"
colrule = "| ---: | ---: | ---: | ---: |"
t = target
rc = t["recipe"]
lines = [
    BEGIN,
    "## Disentangling: overlap vs gate size and depth (MNIST MLP, fc2)",
    "",
    "Generated by `scripts/results_dis.sh`" + (f" with qnnc {version}" if version else "") + ". "
    "**Target.** `examples/mnist-mlp/model.onnx` with its 256×256 bottleneck `/fc2/Gemm` compressed "
    f"to an MPO of bond χ = 8 ({t['params']:,} of {t['dense']:,} parameters) and healed for 2 epochs "
    f"with `--train=all` ({pct(t['before'])} → {pct(t['after'])}; the original model has 97.75%). "
    f"That MpoLinear node (`{t['node']}`) is the W every run disentangles: W ≈ U M' Vᵀ with circuits "
    "U (output side; `--sides=left`) or U and V (`--sides=both`) of D brickwork layers of k-qubit real "
    "orthogonal gates (`--depth=D --gate-qubits=k`; \"+ 1q\": `--one-body`, 1-qubit gates between the "
    "layers) and a residual MPO M' of bond χ' (`--residual-bond`). "
    "**Overlap** is ⟨W, U M' Vᵀ⟩ / (‖W‖ ‖M'‖) = √(1 − error²) (1 = exact). "
    "**Accuracy** (top-1 on the 10,000 test images, reference interpreter) is given as "
    "\"disentangled → healed\": the model right after disentangling, and after healing it for one "
    f"epoch with `--train=all` (gates, M' and every other weight; optimizer {rc.get('optimizer', '?')}, "
    f"lr {rc.get('lr', '?')}, {rc.get('schedule', '?')} schedule, batch {rc.get('batch', '?')}, "
    f"seed {rc.get('seed', '?')}). The target itself scores {pct(t.get('healed_acc', t['after']))}.",
    "",
    f"**Budget.** The variational method (alternating sweeps; at χ' = 2 it first optimises at "
    "bond 1, and those sweeps count too) is capped at "
    + (f"{caps[0]} sweeps for every k" if len(set(caps)) == 1 else
       ", ".join(f"{c} sweeps for k = {i + 1}" for i, c in enumerate(caps)))
    + f" (`--sweeps`, `--tol=1e-6` default); the gradient method (Riemannian Adam) runs {steps} steps. "
    f"Cost: {sweep_cost}. {budget_text}",
    "",
    "**Baselines** (no circuits): W truncated to bond χ' by TT-SVD (`--bond=χ'`), healed the same way:",
    "",
    "| χ' | MPO params | overlap | accuracy (truncated → healed) |",
    "| ---: | ---: | ---: | ---: |",
]
for chi in sorted(plain):
    P = plain[chi]
    lines.append(f"| {chi} | {P['params']} | {num(P['overlap']) if P['overlap'] is not None else '—'} | "
                 f"{pct(P['before'])} → {pct(P['after'])} |")
k1 = {chi: r["overlap"] for (m, k, D, s, ob, chi), r in dis.items()
      if m == "variational" and k == 1 and s == "left" and not ob}
if k1:
    lines += ["", "1-qubit gates cannot change the bond spectra of W, so the k = 1 rows below are the "
              "variational method with no help from its gates: M' fitted by one-site sweeps instead of "
              "TT-SVD (" + ", ".join(f"{num(k1[c])} vs {num(plain[c]['overlap'])} at χ' = {c}"
                                     for c in sorted(k1) if c in plain) +
              "). That is the baseline the circuits are measured against."]

def table(title, rows, key, label):
    global lines
    for chi in (1, 2):
        present = [rv for rv in rows if any(key(rv, s, ob, chi) in dis for s, ob in cols)]
        if not present:
            continue
        lines += ["", f"{title}, χ' = {chi}:", "", f"| {label} " + colhead, "| ---: " + colrule]
        for rv in present:
            lines.append(f"| {rv} | " + " | ".join(cell(dis.get(key(rv, s, ob, chi))) for s, ob in cols) + " |")

lines += ["", "### (a) Overlap vs gate size k (variational, D = 4)",
          "", "Each cell: overlap (accuracy disentangled → healed)."]
table("Gate size", range(1, 7), lambda k, s, ob, chi: ("variational", k, 4, s, ob, chi), "k")
lines += ["", "### (b) Overlap vs depth D (variational, k = 2)"]
table("Depth", (1, 2, 4, 8), lambda D, s, ob, chi: ("variational", 2, D, s, ob, chi), "D")

lines += ["", "### (c) Variational vs gradient (D = 4, with 1-qubit layers)", "",
          "| k | sides | χ' | variational overlap | sweeps | s | accuracy | gradient overlap | steps | s | accuracy |",
          "| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for chi in (1, 2):
    for k in (2, 4):
        for s in ("left", "both"):
            a, b = dis.get(("variational", k, 4, s, 1, chi)), dis.get(("gradient", k, 4, s, 1, chi))
            if not a and not b:
                continue
            def part(r):
                if not r:
                    return ["—"] * 4
                return [num(r["overlap"]), str(r["sweeps"] + r["anneal"]), f"{r['seconds']:.1f}",
                        f"{pct(r['before'])} → {pct(r['after'])}"]
            lines.append(f"| {k} | {s} | {chi} | " + " | ".join(part(a) + part(b)) + " |")

# What the numbers show, next to the figures the issue quotes (a dense NumPy
# prototype of the explicit method, and the paper).
def R(m, k, D, s, ob, chi):
    return dis.get((m, k, D, s, ob, chi))
def ov(r):
    return num(r["overlap"]) if r else "—"
V = "variational"
out_ = []
p1 = plain.get(1, {}).get("overlap")
k1 = R(V, 1, 4, "left", 0, 1)
a, a1 = R(V, 2, 4, "left", 0, 1), R(V, 2, 4, "left", 1, 1)
b = R(V, 4, 4, "both", 1, 1)
lg = longs.get((V, 4, 4, "both", 1, 1))
if p1 is not None and k1 and a and b:
    txt = (f"*Against the dense prototype* (measured on a healed χ = 8 MPO of this layer: 0.09 plain at "
         f"χ' = 1 → 0.21 at k = 2, D = 4, left → 0.62 at k = 4, D = 4, both; its plain overlap says its "
         f"target was not exactly ours): plain truncation here keeps {num(p1)} ({ov(k1)} with M' fitted), "
         f"k = 2, D = 4, left reaches "
         f"{ov(a)} ({ov(a1)} with 1-qubit layers) and k = 4, D = 4, both + 1q {ov(b)} after "
         f"{b['sweeps'] + b['anneal']} sweeps"
         + (" (converged)." if b["converged"] else f", still gaining {b['gain']:.1e} per sweep."))
    if lg:
        txt += (f" The same run with {lg['sweeps'] + lg['anneal']} sweeps reaches {ov(lg)} "
                f"({lg['seconds']:.0f} s; last gain {lg['gain']:.1e})")
        if b["overlap"] >= 0.62:
            txt += ": at k = 4 the method matches or passes the prototype within the cap."
        elif lg["overlap"] >= 0.62 - 0.005:
            txt += ": the sweep cap, not the method, is what keeps table (a) below the prototype at k = 4."
        else:
            txt += ", still below the prototype's 0.62: the cap explains part of the gap, not all of it."
    out_.append(txt)
k2 = R(V, 2, 4, "both", 1, 1)
k6, k6b = R(V, 6, 4, "both", 1, 1), R(V, 6, 4, "both", 1, 2)
if k2 and k6:
    mid = entropy[len(entropy) // 2] if entropy else None
    sec6 = k6["seconds"] / max(1, k6["sweeps"] + k6["anneal"])
    d1, d8 = R(V, 2, 1, "both", 1, 1), R(V, 2, 8, "both", 1, 1)
    txt = (f"*Against the paper* (62% with 2-qubit gates → 96% with 6-qubit gates, on its own layers): at "
         f"D = 4, both sides, χ' = 1 we get {ov(k2)} at k = 2 → {ov(k6)} at k = 6 ({ov(k6b)} at χ' = 2)"
         + (", well below at both ends" if k2["overlap"] < 0.62 and max(k6["overlap"], k6b["overlap"] if k6b else 0) < 0.96
            else "") +
         ". What we can see of why: "
         + (f"the k = 6 run stops at the sweep cap while still climbing (it gains {k6['gain']:.1e} in its "
            f"last sweep; a sweep costs {sec6:.2g} s there on this machine), and "
            if not k6["converged"] else "")
         + "the target is hard: ")
    if mid is not None:
        txt += (f"its bond spectra are nearly flat (entanglement entropy {mid:.2f} nats at the middle bond, "
              f"of at most ln 8 = {math.log(8):.2f}), so a bond-1 M' keeps little, ")
    d4 = R(V, 2, 4, "both", 1, 1)
    if d1 and d4 and d8:
        flat = d8["overlap"] - d4["overlap"] < 0.01
        txt += (f"and at k = 2 depth {'hardly helps beyond D = 4' if flat else 'helps only slowly'} "
                f"({ov(d1)} at D = 1, {ov(d4)} at D = 4, {ov(d8)} at D = 8): the gain has to come from "
                "larger gates. ")
    txt += ("The paper's layers are not this one, so its figures bound what to expect rather than "
            "predict it.")
    out_.append(txt)
drops = []
for k in range(1, 6):
    for s_, ob_ in cols:
        for chi in (1, 2):
            lo_, hi_ = R(V, k, 4, s_, ob_, chi), R(V, k + 1, 4, s_, ob_, chi)
            if lo_ and hi_ and hi_["overlap"] < lo_["overlap"]:
                drops.append((k, caps[k - 1], caps[k], min(lo_["gain"] or 0, hi_["gain"] or 0)))
if drops:
    out_.append("*Budget artefacts*: in table (a) the overlap falls from one k to the next in "
                f"{len(drops)} of 40 steps, at " + ", ".join(sorted({f"k = {k} → {k + 1} (caps {a_} → {b_} sweeps)"
                                                                   for k, a_, b_, g in drops})) +
                ": unequal effort" + (", with both runs still gaining (at least "
                                      f"{min(g for *_, g in drops):.1e} in the last sweep) when they stopped"
                                      if min(g for *_, g in drops) > 1e-4 else "") + ".")
diffs = [abs(r["overlap"] - dis[(m, k, D, s, 0, chi)]["overlap"]) for (m, k, D, s, ob, chi), r in dis.items()
         if m == V and ob == 1 and (m, k, D, s, 0, chi) in dis]
if diffs:
    out_.append(f"*1-qubit layers* change the variational overlap by at most {max(diffs):.1e} over "
                f"{len(diffs)} pairs of runs while adding gates. That is expected: a 1-qubit gate between "
                "two layers can be absorbed into the k-qubit gate next to it (g ⊗ 1 has det +1 for k ≥ 2, "
                "so even the SO(2^k) gates kept for k ≥ 3 absorb a reflection), so the family of circuits "
                "is the same and only the path of the optimisation differs.")
both = [(r["overlap"], dis[(m, k, D, "left", ob, chi)]["overlap"]) for (m, k, D, s, ob, chi), r in dis.items()
        if s == "both" and k >= 2 and (m, k, D, "left", ob, chi) in dis]
if both:
    avg = sum(x - y for x, y in both) / len(both)
    out_.append(f"*Sides* (k ≥ 2): disentangling both sides beats the output side alone in "
                f"{sum(x > y for x, y in both)} of {len(both)} pairs, by {avg:.3f} on average.")
pairs = [(dis[key], dis[("gradient",) + key[1:]]) for key in dis if key[0] == V and ("gradient",) + key[1:] in dis]
if pairs:
    wins = sum(g["overlap"] > v["overlap"] for v, g in pairs)
    out_.append(f"*Methods* (table c): at these budgets (variational ≤ the caps above, gradient {steps} steps) "
                f"the gradient method reaches the higher overlap in {wins} of {len(pairs)} configurations; "
                f"it took {sum(g['seconds'] for v, g in pairs):.0f} s against "
                f"{sum(v['seconds'] for v, g in pairs):.0f} s for the variational runs.")
accs = [r["before"] for r in dis.values()]
heals = [r["after"] for r in dis.values()]
if accs and 1 in plain:
    lo = min(dis.items(), key=lambda x: x[1]["before"])
    hi = max(dis.items(), key=lambda x: x[1]["before"])
    uv = max((r["u"] or 0) + (r["v"] or 0) for r in dis.values())
    def ranks(xs):
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        r = [0.0] * len(xs)
        for pos, i in enumerate(order):
            r[i] = pos
        return r
    ro, ra = ranks([r["overlap"] for r in dis.values()]), ranks(accs)
    n = len(accs)
    rho = 1 - 6 * sum((x - y) ** 2 for x, y in zip(ro, ra)) / (n * (n * n - 1)) if n > 2 else float("nan")
    out_.append(f"*Accuracy* before healing rises with the overlap (Spearman ρ = {rho:.2f} over {n} runs): "
                f"from {pct(lo[1]['before'])} "
                f"(overlap {ov(lo[1])}) to {pct(hi[1]['before'])} (overlap {ov(hi[1])}; the target has "
                f"{pct(target.get('healed_acc', target['after']))}). One epoch of healing with `--train=all` "
                f"brings every model to {pct(min(heals))}–{pct(max(heals))}, against "
                + ", ".join(f"{pct(plain[c]['after'])} for plain truncation at χ' = {c}" for c in sorted(plain))
                + f". Healing also trains the gates, up to {uv:,} matrix entries in U and V at k = 6, so the "
                "healed accuracy measures the disentangled model's capacity as much as its starting point.")
if out_:
    lines += ["", "### What the numbers show", ""] + ["- " + x for x in out_]

total_dis = sum(r["seconds"] or 0 for r in list(dis.values()) + list(longs.values()))
total_wall = sum(r["wall"] for r in list(dis.values()) + list(longs.values()))
lines += ["", "<details><summary>Every run: overlap, error, sweeps, time, parameters, accuracy</summary>", "",
          f"{len(dis) + len(longs)} disentangling runs: {total_dis:.0f} s disentangling, {total_wall:.0f} s wall in total "
          "(with evaluation and healing). Sweeps include the bond-1 sweeps before χ' = 2; \"last gain\" is "
          "the overlap gained by the final sweep or step; parameters are those of U, V and M' (W: "
          f"{t['params']:,} in its χ = 8 MPO, {t['dense']:,} dense).", "",
          "| method | k | D | sides | 1q | χ' | overlap | error | sweeps | last gain | s | gates | U | V | M' | disentangled | healed |",
          "| :--- | ---: | ---: | :--- | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
everything = [(key, r, "") for key, r in dis.items()] + [(key, r, " (long)") for key, r in longs.items()]
for key, r, note in sorted(everything, key=lambda x: (x[2], x[0][0] != "variational", x[0][5], x[0][1],
                                                      x[0][2], x[0][3] != "left", x[0][4])):
    m, k, D, s, ob, chi = key
    m += note
    g = f"{r['gain']:.1e}" if isinstance(r["gain"], (int, float)) else "—"
    lines.append(f"| {m} | {k} | {D} | {s} | {'yes' if ob else 'no'} | {chi} | {num(r['overlap'], 4)} | "
                 f"{num(r['error'], 4)} | {r['sweeps'] + r['anneal']} | {g} | {r['seconds']:.1f} | {r['gates']} | "
                 f"{r['u']:,} | {r['v']:,} | {r['m']:,} | {pct(r['before'])} | {pct(r['after'])} |")
lines += ["", "</details>"]

lines += ["", "**Reproduce:** `scripts/results_dis.sh` (options: `--sweeps \"S1 .. S6\"` for the caps per k, "
          "`--steps N` for the gradient method, `--reuse` to keep finished runs; every run's exact "
          "command is in `build/results-dis/*/command`).", END]
section = "\n".join(lines) + "\n"

sys.path.insert(0, os.path.join(root, "scripts"))
from results_section import write_section  # noqa: E402
write_section(out, BEGIN, END, section, "results_dis.sh")
EOF
