# results_common.sh - sourced by the results_*.sh scripts (after they set
# $root): the usage text and the check for a built binary.

# usage STATUS: print the script's header comment (from line 2 to the first
# line that is not a comment, without the "# ") and exit with STATUS.
usage() {
	awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
	exit "$1"
}

# need_built NAME PATH TARGETS: unless PATH is an executable, say that NAME
# is missing and how to build the CMake TARGETS (space-separated); exit 1.
need_built() {
	[ -x "$2" ] && return 0
	echo "$(basename "$0"): no $1 at $2; build it with" >&2
	echo "  cmake -S $root -B $root/build/release -DCMAKE_BUILD_TYPE=Release && cmake --build $root/build/release --target $3" >&2
	exit 1
}
