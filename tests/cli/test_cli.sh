#!/usr/bin/env bash
# test_cli.sh - the qnnc command's exit codes, messages and output files.
#
#   test_cli.sh QNNC SHARED_DATA_DIR
#
# Prints one line per check and "N passed, N failed"; exits 1 if a check
# failed, 77 (skipped) if the shared data is missing for the checks that
# need it, else 0. Exit codes of qnnc: 0 ok, 1 user error, 2 bad usage.
set -u

QNNC=${1:?usage: test_cli.sh QNNC SHARED_DATA_DIR}
DATA=${2:?usage: test_cli.sh QNNC SHARED_DATA_DIR}
case $QNNC in /*) ;; *) QNNC=$PWD/$QNNC ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/qnnc-test-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL $1: $2"
	[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err" | head -5
	failed=$((failed + 1))
}

# run ARGS...: qnnc with a time limit; sets $rc, stdout in $T/out, stderr in $T/err.
run() {
	timeout 20 "$QNNC" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# expect NAME RC [STDERR_SUBSTRING]: check the last run.
expect() {
	local name=$1 want=$2 msg=${3-}
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|internal error' "$T/err"; then
		fail "$name" "sanitizer report or internal error (exit $rc)"
	elif [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, expected $want"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$T/err"; then
		fail "$name" "stderr lacks '$msg'"
	else
		pass "$name"
	fi
}

# no_files NAME DIR: DIR must be empty (no outputs, no temporaries).
no_files() {
	local left
	left=$(ls -A "$2" 2>/dev/null)
	if [ -n "$left" ]; then
		fail "$1" "left behind: $(echo $left)"
	else
		pass "$1"
	fi
}

[ -x "$QNNC" ] || { echo "FAIL qnnc binary '$QNNC' not found"; echo "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------ usage, no data needed

run --help
if [ $rc = 0 ] && grep -q '^Usage: qnnc' "$T/out"; then pass help; else fail help "exit $rc or no Usage line"; fi

run --version
if [ $rc = 0 ] && grep -Eq '^qnnc [0-9]+\.[0-9]+' "$T/out"; then pass version; else fail version "exit $rc, '$(head -1 "$T/out")'"; fi

run --bogus-flag m.onnx -o "$T/x"
expect unknown-flag 2 "--bogus-flag"
run m.onnx -o "$T/x" --emit=pdf
expect unknown-emit-kind 2 "pdf"
run m.onnx
expect missing-output 2 "-o"
run -o "$T/x"
expect missing-model 2 "no model"
run m.onnx -o
expect output-without-argument 2
run run
expect run-without-model 2 "no model"
run run --bogus-flag m.onnx
expect run-unknown-flag 2

run "$T/absent.onnx" -o "$T/x"
expect compile-missing-model 1 "$T/absent.onnx"

# A malformed model: ir_version 7, then a graph field longer than the file.
BAD=$T/bad.onnx
printf '\010\007\072\377\377\003' >"$BAD"
mkdir "$T/badout"
run "$BAD" -o "$T/badout/m"
expect compile-malformed-exit 1 "$BAD:"
no_files compile-malformed-no-files "$T/badout"
run --emit=c,ir "$BAD" -o "$T/badout/m"
expect compile-malformed-emit-all-exit 1 "$BAD:"
no_files compile-malformed-emit-all-no-files "$T/badout"
run run "$BAD" --input "$T/absent.pb" --output-dir "$T/badout"
expect run-malformed 1 "$BAD:"
no_files run-malformed-no-files "$T/badout"
: >"$T/empty.onnx"
run run "$T/empty.onnx"
expect run-empty-model 1 "$T/empty.onnx:"

# ------------------------------------------------------- with the shared data

MODEL=$DATA/models/mnist-8/model.onnx
SET=$DATA/models/mnist-8/test_data_set_0
if [ ! -r "$MODEL" ] || [ ! -r "$SET/input_0.pb" ]; then
	echo "SKIP data-dependent checks: $MODEL or $SET/input_0.pb not found"
	echo "$passed passed, $failed failed"
	[ $failed = 0 ] && exit 77
	exit 1
fi

# A real model cut short.
head -c 1000 "$MODEL" >"$T/cut.onnx"
run run "$T/cut.onnx" --input "$SET/input_0.pb" --output-dir "$T/badout"
expect run-truncated-model 1 "$T/cut.onnx:"
no_files run-truncated-no-files "$T/badout"
run "$T/cut.onnx" -o "$T/badout/m"
expect compile-truncated-model 1 "$T/cut.onnx:"
no_files compile-truncated-no-files "$T/badout"

run run "$MODEL" --input "$SET/input_0.pb" --output-dir "$T/run"
expect run-mnist-8 0
if [ -s "$T/run/output_0.pb" ] && [ "$(ls -A "$T/run")" = output_0.pb ]; then
	pass run-mnist-8-output
else
	fail run-mnist-8-output "$T/run holds '$(ls -A "$T/run" 2>/dev/null | tr '\n' ' ')'"
fi

run run "$MODEL" --input "$SET/input_0.pb" --input "$SET/input_0.pb" --output-dir "$T/run2"
expect run-too-many-inputs 1 "$MODEL"
run run "$MODEL" --output-dir "$T/run2"
expect run-no-inputs 1 "$MODEL"
run run "$MODEL" --input "$T/absent.pb" --output-dir "$T/run2"
expect run-missing-input-file 1 "$T/absent.pb"
run run "$MODEL" --input "$BAD" --output-dir "$T/run2"
expect run-malformed-input-file 1 "$BAD"
no_files run-errors-no-outputs "$T/run2"

mkdir "$T/ir"
run --emit=ir "$MODEL" -o "$T/ir/m"
expect emit-ir 0
if [ -f "$T/ir/m.ir" ] && head -1 "$T/ir/m.ir" | grep -Eq '^graph( @[^ ]+)? \{$' &&
	sed -n 2p "$T/ir/m.ir" | grep -Eq $'^\tir_version [0-9]+$'; then
	pass emit-ir-header
else
	fail emit-ir-header "m.ir starts with '$(head -1 "$T/ir/m.ir" 2>/dev/null)'"
fi
if [ "$(ls -A "$T/ir")" = m.ir ]; then pass emit-ir-only; else fail emit-ir-only "$T/ir holds $(ls -A "$T/ir" | tr '\n' ' ')"; fi

mkdir "$T/c"
run "$MODEL" -o "$T/c/mnist8"
expect compile-mnist-8 0
if [ -s "$T/c/mnist8.c" ] && [ -s "$T/c/mnist8.h" ] && [ "$(ls -A "$T/c" | wc -l)" = 2 ] &&
	grep -q 'mnist8_run' "$T/c/mnist8.h"; then
	pass compile-mnist-8-files
else
	fail compile-mnist-8-files "$T/c holds '$(ls -A "$T/c" | tr '\n' ' ')'"
fi

run "$MODEL" -o "$T/no/such/dir/m"
expect compile-unwritable-output 1
no_files compile-unwritable-no-files "$T/no"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
