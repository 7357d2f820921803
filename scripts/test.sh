#!/usr/bin/env bash
# Builds qnnc and runs the whole test suite twice: an optimised build, then
# a build with AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--fast]   (--fast: optimised build only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
jobs=$(nproc)

run_suite() { # build-dir cmake-args...
	local dir=$1; shift
	cmake -S "$root" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
	ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}

echo "== optimised build"
run_suite "$root/build/release" -DCMAKE_BUILD_TYPE=Release
if [ "${1:-}" != "--fast" ]; then
	echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DQNNC_SANITIZE=ON
fi
