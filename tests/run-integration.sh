#!/bin/sh
# Run the integration tests: every tests/t[0-9]*.sh in order (or the
# scripts named on the command line), each against real git. Prints one
# line per script, the output of any failed check, and finally the totals
# as "N passed, N failed". Exits non-zero if any check or script failed.
#
#	CRDTMEM_BIN=/abs/path/to/git-merge-crdtmem sh tests/run-integration.sh [t0100-merge-driver.sh...]
#
# CRDTMEM_WRAPPER (e.g. "valgrind -q --error-exitcode=99") runs the binary
# under a wrapper, in git's driver command and in direct calls alike.
# CRDTMEM_VERBOSE=1 shows every check; CRDTMEM_KEEP=1 keeps the scratch
# folders of failed scripts.

if test -z "${CRDTMEM_BIN:-}"; then
	echo "error: CRDTMEM_BIN is not set: give the absolute path of the built git-merge-crdtmem (make integration-test does)" >&2
	exit 2
fi
case $CRDTMEM_BIN in
/*) ;;
*) CRDTMEM_BIN=$(pwd)/$CRDTMEM_BIN ;;
esac
if ! test -f "$CRDTMEM_BIN" || ! test -x "$CRDTMEM_BIN"; then
	echo "error: '$CRDTMEM_BIN' (CRDTMEM_BIN) is not an executable file: run make first" >&2
	exit 2
fi
export CRDTMEM_BIN
if ! command -v git >/dev/null 2>&1; then
	echo "error: git is not installed" >&2
	exit 2
fi

tests_dir=$(cd "$(dirname "$0")" && pwd)
if test $# = 0; then
	set -- "$tests_dir"/t[0-9]*.sh
else
	for arg; do
		shift
		case $arg in
		*/*) set -- "$@" "$arg" ;;
		*) set -- "$@" "$tests_dir/$arg" ;;
		esac
	done
fi

out=$(mktemp "${TMPDIR:-/tmp}/crdtmem-run.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

total_passed=0
total_failed=0
failed_scripts=
for script; do
	name=$(basename "$script")
	if ! test -f "$script"; then
		echo "$name: no such test script"
		total_failed=$((total_failed + 1))
		failed_scripts="$failed_scripts $name"
		continue
	fi
	sh "$script" >"$out" 2>&1 </dev/null
	status=$?
	summary=$(tail -n 1 "$out")
	passed=${summary%% passed, *}
	failed=${summary#* passed, }
	failed=${failed% failed}
	case $passed$failed in
	'' | *[!0-9]*)
		# The script died before its summary: count it as one failure.
		summary="died with status $status before its summary"
		passed=0
		failed=1
		;;
	esac
	if test "$status" != 0 && test "$failed" = 0; then
		summary="$summary, but exited with status $status"
		failed=1
	fi
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	echo "$name: $summary"
	if test "$failed" != 0; then
		failed_scripts="$failed_scripts $name"
		# Show what failed: the "not ok" checks with their details, or
		# all of a script that died.
		case $summary in
		died*) sed 's/^/    /' "$out" ;;
		*)
			sed -n -e '/^[0-9]* passed, [0-9]* failed$/d' \
				-e '/^# kept /p' -e '/^not ok /,/^ok /{ /^ok /d; p; }' \
				"$out" | sed 's/^/    /'
			;;
		esac
	elif test "${CRDTMEM_VERBOSE:-}" = 1; then
		sed 's/^/    /' "$out"
	fi
done

if test -n "$failed_scripts"; then
	echo "failed:$failed_scripts"
fi
echo "$total_passed passed, $total_failed failed"
test "$total_failed" = 0
