# Shared setup for the integration tests, in the spirit of git's
# t/test-lib.sh. A test script sources it, runs checks and ends with
# test_done:
#
#	. "$(dirname "$0")/lib.sh"
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
#
# Fixtures (entity, tombstone, relation, seed_entry) print entries in the
# canonical form the tool writes: compact JSON, members in canonical order,
# observations sorted. Pass entries to write_array/write_jsonl in key order
# (entities by name, then seed-format entries by id, then relations) to get
# canonical files.

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

## Repositories

# configure_driver DIR: the merge driver in DIR's repository config.
configure_driver() {
	git -C "$1" config merge.crdtmem.name "CRDT merge for memory files" &&
		git -C "$1" config merge.crdtmem.driver "$CRDTMEM_DRIVER" &&
		git -C "$1" config merge.crdtmem.recursive crdtmem
}

# setup_repos TOP [CLONE...]: a bare repository $TRASH/TOP/origin.git whose
# first commit holds the .gitattributes of a memory repository, and a clone
# $TRASH/TOP/CLONE of it for each name (default: laptop desktop), each with
# the driver configured.
setup_repos() {
	setup_repos_top=$TRASH/$1
	shift
	if test $# = 0; then
		set -- laptop desktop
	fi
	mkdir "$setup_repos_top" &&
		git init -q --bare "$setup_repos_top/origin.git" &&
		git clone -q "$setup_repos_top/origin.git" "$setup_repos_top/$1" 2>/dev/null &&
		printf '%s\n' 'memory-*.json merge=crdtmem' \
			'unified-memory.json merge=crdtmem' \
			>"$setup_repos_top/$1/.gitattributes" &&
		commit_all "$setup_repos_top/$1" 'Merge memory files with crdtmem' &&
		git -C "$setup_repos_top/$1" push -q origin main &&
		configure_driver "$setup_repos_top/$1" || return 1
	shift
	for setup_repos_clone; do
		git clone -q "$setup_repos_top/origin.git" \
			"$setup_repos_top/$setup_repos_clone" &&
			configure_driver "$setup_repos_top/$setup_repos_clone" ||
			return 1
	done
}

# commit_all DIR MESSAGE: commit every change in DIR's work tree.
# laptop_pushed_bob NAME: clones made by "setup_repos NAME" (and entered),
# memory-laptop.json holding Alice in both, then laptop's commit adding Bob
# pushed; desktop has not fetched it yet.
laptop_pushed_bob() {
	setup_repos "$1" &&
		cd "$1" &&
		entity Alice laptop 10:00:00.000 1 "likes tea" |
		write_array laptop/memory-laptop.json &&
		commit_all laptop "base" &&
		git -C laptop push -q &&
		git -C desktop pull -q &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
				entity Bob laptop 10:01:00.000 1
		} | write_array laptop/memory-laptop.json &&
		commit_all laptop "laptop: Bob" &&
		git -C laptop push -q
}

commit_all() {
	git -C "$1" add -A &&
		test_tick &&
		git -C "$1" commit -q -m "$2"
}

# check_no_conflict DIR: no unmerged path and no operation left half done.
check_no_conflict() {
	check_no_conflict_git_=$(git -C "$1" rev-parse --absolute-git-dir) &&
		git -C "$1" ls-files -u >"$TRASH/.unmerged" &&
		if test -s "$TRASH/.unmerged"; then
			echo "error: unmerged paths in '$1':" >&2
			cat "$TRASH/.unmerged" >&2
			return 1
		fi &&
		for check_no_conflict_f_ in MERGE_HEAD CHERRY_PICK_HEAD REVERT_HEAD \
			rebase-merge rebase-apply; do
			if test -e "$check_no_conflict_git_/$check_no_conflict_f_"; then
				echo "error: '$check_no_conflict_f_' is left in '$1'" >&2
				return 1
			fi
		done
}

# check_clean DIR: nothing to commit in DIR's work tree.
check_clean() {
	git -C "$1" status --porcelain >"$TRASH/.status" &&
		if test -s "$TRASH/.status"; then
			echo "error: '$1' is not clean:" >&2
			cat "$TRASH/.status" >&2
			return 1
		fi
}

## Memory files

# entity NAME HOST TIME VERSION [OBSERVATION...]: a live MCP entity of type
# "person", stamped 2026-11-21T<TIME>Z (TIME like 10:00:00.000).
entity() {
	entity_name_=$1 entity_host_=$2 entity_time_=$3 entity_version_=$4
	shift 4
	printf '{"type":"entity","name":"%s","entityType":"person","observations":[%s],"_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":%s,"unique_id":"%s-%s-%s"}}\n' \
		"$entity_name_" "$(json_strings "$@")" "$entity_host_" \
		"$entity_time_" "$entity_version_" "$entity_host_" \
		"$entity_name_" "$entity_version_"
}

# tombstone NAME HOST TIME VERSION [REMOVED_OBSERVATION...]: a deleted entity.
tombstone() {
	tombstone_name_=$1 tombstone_host_=$2 tombstone_time_=$3 tombstone_version_=$4
	shift 4
	if test $# = 0; then
		tombstone_removed_=
	else
		tombstone_removed_=",\"removed_observations\":[$(json_strings "$@")]"
	fi
	printf '{"type":"entity","name":"%s","entityType":"person","observations":[],"_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":%s,"unique_id":"%s-%s-%s","deleted":true%s}}\n' \
		"$tombstone_name_" "$tombstone_host_" "$tombstone_time_" \
		"$tombstone_version_" "$tombstone_host_" "$tombstone_name_" \
		"$tombstone_version_" "$tombstone_removed_"
}

# relation FROM RELATIONTYPE TO HOST TIME VERSION
relation() {
	printf '{"type":"relation","from":"%s","to":"%s","relationType":"%s","_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":%s,"unique_id":"%s-%s-%s-%s"}}\n' \
		"$1" "$3" "$2" "$4" "$5" "$6" "$4" "$1" "$3" "$6"
}

# seed_entry ID CONTENT HOST TIME VERSION: an entry of the seed format.
seed_entry() {
	printf '{"id":"%s","content":"%s","_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":%s,"unique_id":"%s-%s-%s"}}\n' \
		"$1" "$2" "$3" "$4" "$5" "$3" "$1" "$5"
}

# json_strings S...: the strings sorted in byte order, deduplicated, as the
# inside of a JSON array (plain text only: no quotes or backslashes).
json_strings() {
	if test $# -gt 0; then
		printf '%s\n' "$@" | sort -u | sed 's/.*/"&"/' | paste -s -d , -
	fi
}

# write_array FILE: the entry lines on stdin as a canonical JSON array.
write_array() {
	awk 'BEGIN { printf "[" }
		NR > 1 { printf "," }
		{ printf "\n%s", $0 }
		END { if (NR) printf "\n]\n"; else printf "]\n" }' >"$1"
}

# write_jsonl FILE: the entry lines on stdin as canonical JSONL.
write_jsonl() {
	cat >"$1"
}

# write_server_jsonl FILE: JSONL as the memory server writes it (no newline
# after the last entry).
write_server_jsonl() {
	awk 'NR > 1 { printf "\n" } { printf "%s", $0 }' >"$1"
}

# check_valid_canonical FILE: FILE parses and is in canonical form: the join
# of one canonical file is the file itself, byte for byte.
check_valid_canonical() {
	crdtmem join "$1" >"$TRASH/.canonical" || {
		echo "error: '$1' is not valid:" >&2
		cat "$1" >&2
		return 1
	}
	test_cmp "$1" "$TRASH/.canonical"
}

# is_array FILE / is_jsonl FILE: the format of a non-empty memory file.
is_array() {
	test "$(head -n 1 "$1")" = '[' || {
		echo "error: '$1' is not a canonical JSON array:" >&2
		cat "$1" >&2
		return 1
	}
}
is_jsonl() {
	test "$(head -n 1 "$1" | cut -c 1)" = '{' || {
		echo "error: '$1' is not JSONL:" >&2
		cat "$1" >&2
		return 1
	}
}

# entry_line FILE KEY: the line of the entity named KEY, or of the entry
# with id KEY, without the comma of the array format.
entry_line() {
	grep -e "^{\"type\":\"entity\",\"name\":\"$2\"," \
		-e "^{\"id\":\"$2\"," "$1" | sed 's/,$//'
}

# has_entry FILE KEY: a live (not deleted) entity named KEY or entry with
# id KEY is in FILE, exactly once.
has_entry() {
	entry_line "$1" "$2" >"$TRASH/.entry" &&
		if test "$(wc -l <"$TRASH/.entry")" -ne 1; then
			echo "error: '$1' has $(wc -l <"$TRASH/.entry") entries '$2', expected one:" >&2
			cat "$1" >&2
			return 1
		fi &&
		if grep -q '"deleted":true' "$TRASH/.entry"; then
			echo "error: '$2' is a tombstone in '$1':" >&2
			cat "$1" >&2
			return 1
		fi
}

# lacks_entry FILE KEY: no entry KEY at all in FILE (not even a tombstone).
lacks_entry() {
	if test -n "$(entry_line "$1" "$2")"; then
		echo "error: '$1' still has '$2':" >&2
		cat "$1" >&2
		return 1
	fi
}

# is_tombstone FILE NAME: entity NAME is in FILE, marked deleted.
is_tombstone() {
	entry_line "$1" "$2" | grep -q '"_crdt_metadata":{.*"deleted":true' || {
		echo "error: '$2' is not a tombstone in '$1':" >&2
		cat "$1" >&2
		return 1
	}
}

# observations FILE NAME: the inside of entity NAME's observations array.
observations() {
	entry_line "$1" "$2" | sed -n 's/.*"observations":\[\([^]]*\)\].*/\1/p'
}

# has_observation FILE NAME TEXT / lacks_observation FILE NAME TEXT
has_observation() {
	observations "$1" "$2" | tr , '\n' | grep -qxF "\"$3\"" || {
		echo "error: '$2' in '$1' lacks the observation '$3':" >&2
		cat "$1" >&2
		return 1
	}
}
lacks_observation() {
	if observations "$1" "$2" | tr , '\n' | grep -qxF "\"$3\""; then
		echo "error: '$2' in '$1' still has the observation '$3':" >&2
		cat "$1" >&2
		return 1
	fi
}

# has_relation FILE FROM RELATIONTYPE TO
has_relation() {
	grep -q "^{\"type\":\"relation\",\"from\":\"$2\",\"to\":\"$4\",\"relationType\":\"$3\"," "$1" || {
		echo "error: '$1' lacks the relation $2 -$3-> $4:" >&2
		cat "$1" >&2
		return 1
	}
}

# count_entries FILE: the number of entries of a canonical file.
count_entries() {
	grep -c '^{' "$1"
}

# check_entry_count FILE N
check_entry_count() {
	check_entry_count_=$(count_entries "$1")
	if test "$check_entry_count_" != "$2"; then
		echo "error: '$1' has $check_entry_count_ entries, expected $2:" >&2
		cat "$1" >&2
		return 1
	fi
}

# check_untouched FILE COPY: FILE still has the bytes saved in COPY.
check_untouched() {
	test -f "$1" && test_cmp "$2" "$1"
}
