# The framework of the integration tests, in the spirit of git's
# t/test-lib.sh: a scratch HOME, a fixed environment, checks and their
# report. A test script sources it, then the lib-*.sh fixtures it needs
# (lib-memory.sh: memory repositories and entries), runs checks and ends
# with test_done:
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$TEST_SRCDIR/lib-memory.sh"
#	test_expect_success 'what the check shows' '
#		command &&
#		command
#	'
#	test_done
#
# Each check runs in a subshell whose working folder is the script's scratch
# folder ($TRASH), with its output captured (shown when the check fails, or
# always with CRDTMEM_VERBOSE=1). Commands in a check are chained with &&;
# a broken chain is reported as a bug in the test.
#
# Environment:
#	CRDTMEM_BIN      absolute path of git-merge-crdtmem (required)
#	CRDTMEM_WRAPPER  words put in front of it, e.g. "valgrind -q --error-exitcode=99"
#	CRDTMEM_KEEP=1   keep the scratch folder of a script that failed
#	CRDTMEM_VERBOSE=1  show the output of every check

if test -z "${CRDTMEM_BIN:-}"; then
	echo "error: CRDTMEM_BIN is not set: give the absolute path of the built git-merge-crdtmem" >&2
	exit 2
fi
case $CRDTMEM_BIN in
/*) ;;
*) CRDTMEM_BIN=$(pwd)/$CRDTMEM_BIN ;;
esac
if ! test -f "$CRDTMEM_BIN" || ! test -x "$CRDTMEM_BIN"; then
	echo "error: '$CRDTMEM_BIN' (CRDTMEM_BIN) is not an executable file" >&2
	exit 2
fi
CRDTMEM_WRAPPER=${CRDTMEM_WRAPPER:-}
export CRDTMEM_BIN CRDTMEM_WRAPPER

TEST_NAME=$(basename "$0" .sh)
# shellcheck disable=SC2034 # for the test scripts
TEST_SRCDIR=$(cd "$(dirname "$0")" && pwd)

# Nothing from the caller's git session or personal configuration leaks in.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_COUNT GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_NAMESPACE \
	GIT_PREFIX GIT_REFLOG_ACTION GIT_TEMPLATE_DIR GIT_EXTERNAL_DIFF \
	GIT_TRACE GIT_TRACE2 GIT_TRACE2_EVENT GIT_TRACE2_PERF \
	GIT_SEQUENCE_EDITOR GIT_MERGE_VERBOSITY XDG_CONFIG_HOME VISUAL EMAIL \
	CDPATH

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/crdtmem-$TEST_NAME.XXXXXX") || {
	echo "error: cannot make a scratch folder under '${TMPDIR:-/tmp}'" >&2
	exit 2
}
HOME=$TRASH/home
GIT_CONFIG_NOSYSTEM=1
GIT_CEILING_DIRECTORIES=$(dirname "$TRASH")
TZ=UTC
LC_ALL=C
LANG=C
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL=author@example.com
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL=committer@example.com
GIT_AUTHOR_DATE='1795000000 +0000'
GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
GIT_EDITOR=:
EDITOR=:
GIT_MERGE_AUTOEDIT=no
GIT_PAGER='cat'
PAGER='cat'
GIT_TERMINAL_PROMPT=0
export HOME GIT_CONFIG_NOSYSTEM GIT_CEILING_DIRECTORIES TZ LC_ALL LANG \
	GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_AUTHOR_DATE GIT_COMMITTER_DATE GIT_EDITOR EDITOR GIT_MERGE_AUTOEDIT \
	GIT_PAGER PAGER GIT_TERMINAL_PROMPT

test_count=0
test_passed=0
test_failed=0
test_skipped=0
test_prereqs=' '
LF='
'
# shellcheck disable=SC2034 # for the test scripts
CR=$(printf '\r')

test_keep_() {
	test "$test_failed" -gt 0 && test "${CRDTMEM_KEEP:-}" = 1
}
test_cleanup_() {
	if ! test_keep_ && test -n "$TRASH" && test -d "$TRASH"; then
		chmod -R u+rwx "$TRASH" 2>/dev/null
		rm -rf "$TRASH"
	fi
}
trap test_cleanup_ EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$HOME" "$TRASH/templates" || exit 2
echo 1795000000 >"$TRASH/.tick"
git config --global init.defaultBranch main &&
	git config --global init.templateDir "$TRASH/templates" &&
	git config --global pull.rebase false &&
	git config --global advice.detachedHead false &&
	git config --global core.autocrlf false &&
	git config --global gc.auto 0 &&
	git config --global commit.gpgSign false || exit 2

# The merge driver command, quoted for git's shell.
sq() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
# shellcheck disable=SC2034 # for lib-memory.sh and the test scripts
CRDTMEM_DRIVER="${CRDTMEM_WRAPPER:+$CRDTMEM_WRAPPER }$(sq "$CRDTMEM_BIN") %O %A %B %L %P"

# Run the binary (through the wrapper, if any).
crdtmem() {
	# shellcheck disable=SC2086 # the wrapper is several words on purpose
	$CRDTMEM_WRAPPER "$CRDTMEM_BIN" "$@"
}

# test_tick: move the author and committer dates one minute on. The counter
# lives in a file, so it keeps counting across checks (each runs in a
# subshell); call it before every git command that makes a commit.
test_tick() {
	read -r test_tick_ <"$TRASH/.tick" &&
		test_tick_=$((test_tick_ + 60)) &&
		echo "$test_tick_" >"$TRASH/.tick" &&
		GIT_AUTHOR_DATE="$test_tick_ +0000" &&
		GIT_COMMITTER_DATE="$test_tick_ +0000" &&
		export GIT_AUTHOR_DATE GIT_COMMITTER_DATE
}

test_set_prereq() {
	test_prereqs="$test_prereqs$1 "
}

test_have_prereq() {
	case $test_prereqs in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

# The body runs inside a function, so "|| return 1" works in its loops.
test_run_body_() {
	eval "$1"
}

# test_expect_success [PREREQ] 'description' 'commands'
test_expect_success() {
	if test $# = 3; then
		test_prereq_=$1
		shift
	else
		test_prereq_=
	fi
	test_count=$((test_count + 1))
	if test -n "$test_prereq_" && ! test_have_prereq "$test_prereq_"; then
		test_skipped=$((test_skipped + 1))
		echo "ok $test_count # skip $1 (missing $test_prereq_)"
		return 0
	fi
	# The &&-chain check of git's test-lib: with every command chained,
	# the leading (exit 117) stops the whole body.
	(
		cd "$TRASH" && test_run_body_ "(exit 117) && $2$LF(exit \$?)"
	) >/dev/null 2>&1 </dev/null
	if test $? != 117; then
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		echo "#   BUG in the test: broken &&-chain in:"
		printf '%s\n' "$2" | sed 's/^/#   /'
		return 0
	fi
	(
		cd "$TRASH" && test_run_body_ "$2"
	) >"$TRASH/.output" 2>&1 </dev/null
	test_status_=$?
	if test "$test_status_" = 0; then
		test_passed=$((test_passed + 1))
		echo "ok $test_count - $1"
		if test "${CRDTMEM_VERBOSE:-}" = 1; then
			sed 's/^/#   /' "$TRASH/.output"
		fi
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed 's/^/#   /'
		echo "#   exit status $test_status_; output:"
		sed 's/^/#   > /' "$TRASH/.output"
	fi
	return 0
}

# Print the summary line and exit: 0 when nothing failed.
test_done() {
	if test "$test_skipped" -gt 0; then
		echo "# $test_skipped skipped"
	fi
	if test_keep_; then
		echo "# kept the scratch folder: $TRASH"
	fi
	echo "$test_passed passed, $test_failed failed"
	if test "$test_failed" -gt 0; then
		exit 1
	fi
	exit 0
}

# test_must_fail CMD...: CMD exits 1..128 (a failure, not a crash).
test_must_fail() {
	"$@"
	test_must_fail_=$?
	if test "$test_must_fail_" = 0; then
		echo "error: test_must_fail: '$*' succeeded" >&2
		return 1
	elif test "$test_must_fail_" -gt 128; then
		echo "error: test_must_fail: '$*' died with status $test_must_fail_" >&2
		return 1
	fi
	return 0
}

# test_expect_code CODE CMD...: CMD exits with exactly CODE.
test_expect_code() {
	test_expect_code_want_=$1
	shift
	"$@"
	test_expect_code_=$?
	if test "$test_expect_code_" != "$test_expect_code_want_"; then
		echo "error: '$*' exited with $test_expect_code_, expected $test_expect_code_want_" >&2
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: same bytes (a diff is shown if not).
test_cmp() {
	if ! cmp -s "$1" "$2"; then
		echo "error: '$2' differs from '$1':" >&2
		diff -u "$1" "$2" >&2
		return 1
	fi
}

# test_must_be_empty FILE: FILE exists and is empty.
test_must_be_empty() {
	if ! test -f "$1" || test -s "$1"; then
		echo "error: '$1' is not empty:" >&2
		cat "$1" >&2
		return 1
	fi
}

# test_file_lines FILE N: FILE has exactly N lines.
test_file_lines() {
	test_file_lines_=$(wc -l <"$1") &&
		test_file_lines_=$((test_file_lines_ + 0)) &&
		if test "$test_file_lines_" != "$2"; then
			echo "error: '$1' has $test_file_lines_ lines, expected $2:" >&2
			cat "$1" >&2
			return 1
		fi
}

# check_one_error_line FILE: FILE (a command's stderr) holds exactly one
# "error:" line, and any other line is a "hint:" or "warning:" of its own:
# the message is not spread over several lines.
check_one_error_line() {
	if test "$(grep -c '^error: ' "$1")" != 1 ||
		grep -v -e '^error: ' -e '^hint: ' -e '^warning: ' "$1" >/dev/null; then
		echo "error: '$1' does not hold exactly one one-line error message:" >&2
		cat "$1" >&2
		return 1
	fi
}

