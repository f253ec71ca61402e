#!/bin/sh
# make bench: speed and memory of git-merge-crdtmem against reference tools.
#
#   CRDTMEM_BIN=/abs/path/build/git-merge-crdtmem sh tests/bench/run.sh [ARGS]
#
# Settings (environment, or ARGS as NAME=VALUE / --name VALUE; BENCH_ARGS is
# split into more ARGS): BENCH_SIZES="1000 10000 100000" (1000000 is opt-in),
# BENCH_RUNS=5, BENCH_REF_RUNS, BENCH_SHAPES="jsonl array pretty",
# BENCH_RATES="typical heavy", BENCH_TOOLS, BENCH_SEED=1, BENCH_TIMEOUT=900.
# See tests/bench/bench.py --help. Generated data and the result table
# (results.md) go to tests/bench/data/, which git ignores.
#
# Needs python3 (standard library only). Optional references: jq, git, cat,
# and a C compiler with libcjson-dev for the cJSON floor; missing ones are
# skipped with a note. Not part of `make test`.

set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 1
data="$here/data"

say() { printf '%s\n' "$*" >&2; }

python=${PYTHON:-}
if [ -z "$python" ]; then
	for p in python3 python; do
		if command -v "$p" >/dev/null 2>&1 &&
			"$p" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
			python=$(command -v "$p")
			break
		fi
	done
fi
if [ -z "$python" ]; then
	say "bench: needs Python 3.8 or newer (standard library only)."
	say "  Debian/Ubuntu: sudo apt-get install python3"
	say "  Fedora: sudo dnf install python3    macOS: brew install python"
	exit 1
fi

if [ -z "${CRDTMEM_BIN:-}" ]; then
	say "bench: CRDTMEM_BIN is not set; run \`make bench\` to measure the driver"
	say "       (measuring the reference tools only)"
elif [ ! -x "$CRDTMEM_BIN" ]; then
	say "bench: CRDTMEM_BIN=$CRDTMEM_BIN is not executable; run \`make\` first"
	exit 1
fi

mkdir -p "$data" || exit 1

# build NAME SOURCE [LIBRARY]: compile a helper into $data (again when its
# source is newer); prints nothing and fails when it cannot.
build() {
	bin="$data/$1"
	src="$here/$2"
	if [ -x "$bin" ] && [ -z "$(find "$src" -newer "$bin" 2>/dev/null)" ]; then
		return 0
	fi
	rm -f "$bin"
	cc=${CC:-cc}
	command -v "$cc" >/dev/null 2>&1 || return 1
	flags=
	if [ -n "${3:-}" ]; then
		pc=${PKG_CONFIG:-pkg-config}
		flags="$($pc --cflags "$3" 2>/dev/null) $($pc --libs "$3" 2>/dev/null || echo "-l${3#lib}")"
	fi
	# shellcheck disable=SC2086 # pkg-config output is a list of flags
	if ! "$cc" -O2 -o "$bin" "$src" $flags 2>"$data/$1.log"; then
		rm -f "$bin"
		return 1
	fi
}

# The timer: fork + exec + wait4, the child's own peak RSS (see measure.c).
if build measure measure.c; then
	BENCH_MEASURE_BIN="$data/measure"
	export BENCH_MEASURE_BIN
elif [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "bench: no C compiler for the timer; installing /usr/bin/time (apt-get install time)"
		apt-get install -y time >/dev/null 2>&1 ||
			say "bench: apt-get install time failed"
	else
		say "bench: no C compiler and no /usr/bin/time: peak RSS will include the harness's"
		say "       own memory (Debian: sudo apt-get install time)"
	fi
fi

# The cJSON floor: parse both sides, print one, no merge.
if build cjson-ref cjson_ref.c libcjson; then
	BENCH_CJSON_BIN="$data/cjson-ref"
	export BENCH_CJSON_BIN
else
	say "bench: could not build the cJSON reference (needs a C compiler and"
	say "       libcjson-dev; see $data/cjson-ref.log); it is skipped"
fi

# shellcheck disable=SC2086 # BENCH_ARGS is a list of arguments
exec "$python" "$here/bench.py" ${BENCH_ARGS:-} "$@"
