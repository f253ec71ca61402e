# Memory-repository fixtures for the integration tests: bare repositories
# and clones with the merge driver configured, and the entries and files of
# a memory repository in the canonical form the tool writes. Sourced after
# test-lib.sh:
#
#	. "$(dirname "$0")/test-lib.sh"
#	. "$TEST_SRCDIR/lib-memory.sh"
#
# Fixtures (entity, tombstone, relation, seed_entry) print entries in the
# canonical form: compact JSON, members in canonical order, observations
# sorted. Pass entries to write_array/write_jsonl in key order (entities by
# name, then seed-format entries by id, then relations) to get canonical
# files.

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

# readonly_dir_prereq: sets READONLY_DIR when a folder can be made
# unwritable for the driver, and RO_RUN to the command prefix that runs it
# so. Not for root: then the driver runs as "nobody" through setpriv, if
# that works here.
readonly_dir_prereq() {
	RO_RUN=
	if test "$(id -u)" != 0; then
		test_set_prereq READONLY_DIR
	elif command -v setpriv >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
		# shellcheck disable=SC2034 # used in the callers' check bodies
		RO_RUN='setpriv --reuid=65534 --regid=65534 --clear-groups'
		test_set_prereq READONLY_DIR
	fi
}
