#!/bin/sh
# Run the libFuzzer harnesses (built by "make fuzz") for FUZZ_SECONDS each,
# from the seed corpus in tests/fuzz/corpus/NAME plus what earlier runs
# found (kept in the build folder, never in the source tree), with the
# dictionary tests/fuzz/memory.dict. Prints libFuzzer's final statistics
# (executions, coverage) for each. Exits non-zero when a harness found a
# crash, a leak or a broken property; the input is saved in
# BUILD/fuzz/artifacts/.
#
#	sh tests/fuzz/run.sh BUILD_DIR [NAME...]
#
# FUZZ_SECONDS (default 60), FUZZ_JOBS (parallel workers per harness,
# default 1), FUZZ_ARGS (more libFuzzer flags).

build=${1:?usage: run.sh BUILD_DIR [NAME...]}
shift
test $# -gt 0 || set -- fuzz_read fuzz_merge
src=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-60}
status=0

mkdir -p "$build/artifacts" || exit 2
for name; do
	corpus=$build/corpus/$name
	seeds=$src/corpus/${name#fuzz_}
	mkdir -p "$corpus" || exit 2
	echo "fuzz: $name for ${seconds}s"
	# -close_fd_mask=2: the driver's own error lines for bad input stay
	# quiet; sanitizer and libFuzzer reports still go to stderr.
	# shellcheck disable=SC2086 # FUZZ_ARGS is several words on purpose
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$build/$name" -max_total_time="$seconds" -dict="$src/memory.dict" \
		-close_fd_mask=2 -print_final_stats=1 -max_len=16384 \
		-rss_limit_mb=2048 -timeout=20 -artifact_prefix="$build/artifacts/$name-" \
		${FUZZ_ARGS:-} "$corpus" "$seeds" >"$build/$name.log" 2>&1
	rc=$?
	grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|Done )' "$build/$name.log" | sed "s/^/  $name: /"
	if test "$rc" != 0; then
		echo "error: $name failed (exit $rc); see $build/$name.log" >&2
		tail -n 40 "$build/$name.log" >&2
		status=1
	fi
done
exit $status
