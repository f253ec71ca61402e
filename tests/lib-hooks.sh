# Fixtures for the hook suite's tests: memory repositories set up only by
# "git-merge-crdtmem install", live memory as the memory server writes it
# (no metadata), and checks that a clone is in the state the hooks promise.
# Sourced after test-lib.sh and lib-memory.sh.

# setup_installed TOP [CLONE...]: a bare repository $TRASH/TOP/origin.git
# and a clone of it per name (default: laptop desktop), each with
# crdtmem.host set to its name and then set up by the install command only.
# The first clone makes the first commit (an empty .gitignore) and pushes it.
setup_installed() {
	setup_installed_top=$TRASH/$1
	shift
	if test $# = 0; then
		set -- laptop desktop
	fi
	mkdir "$setup_installed_top" &&
		git init -q --bare "$setup_installed_top/origin.git" || return 1
	setup_installed_first=$1
	for setup_installed_clone; do
		setup_installed_dir=$setup_installed_top/$setup_installed_clone
		if test "$setup_installed_clone" = "$setup_installed_first"; then
			git clone -q "$setup_installed_top/origin.git" "$setup_installed_dir" 2>/dev/null &&
				: >"$setup_installed_dir/.gitignore" &&
				git -C "$setup_installed_dir" add .gitignore &&
				test_tick &&
				git -C "$setup_installed_dir" commit -q -m "Memory repository" &&
				git -C "$setup_installed_dir" push -q origin main || return 1
		else
			git clone -q "$setup_installed_top/origin.git" "$setup_installed_dir" || return 1
		fi
		git -C "$setup_installed_dir" config crdtmem.host "$setup_installed_clone" &&
			crdtmem install -q --repo "$setup_installed_dir" || return 1
	done
}

# live_entity NAME [OBSERVATION...]: an entity as the memory server writes it.
live_entity() {
	live_entity_name_=$1
	shift
	printf '{"type":"entity","name":"%s","entityType":"person","observations":[%s]}\n' \
		"$live_entity_name_" "$(json_strings "$@")"
}

# live_relation FROM RELATIONTYPE TO
live_relation() {
	printf '{"type":"relation","from":"%s","to":"%s","relationType":"%s"}\n' "$1" "$3" "$2"
}

# save_memory CLONE: the entry lines on stdin become CLONE's
# memory-CLONE.json (server JSONL, no final newline), committed with the
# hooks running.
save_memory() {
	save_memory_host_=$(cd "$1" && basename "$(pwd)") &&
		write_server_jsonl "$1/memory-$save_memory_host_.json" &&
		git -C "$1" add "memory-$save_memory_host_.json" &&
		test_tick &&
		git -C "$1" commit -q -m "$save_memory_host_: backup"
}

# check_stamped FILE: every entry of FILE carries _crdt_metadata with a
# timestamp, a version and a host.
check_stamped() {
	if grep '^{' "$1" | grep -v '"_crdt_metadata":{"host":"[^"]*","timestamp":"[^"]*","version":[0-9]*,' >"$TRASH/.unstamped"; then
		echo "error: '$1' has unstamped entries:" >&2
		cat "$TRASH/.unstamped" >&2
		return 1
	fi
}

# check_unified DIR: DIR's unified-memory.json is exactly the join of the
# host files beside it.
check_unified() {
	crdtmem join --format json "$1"/memory-*.json >"$TRASH/.join" &&
		test_cmp "$TRASH/.join" "$1/unified-memory.json"
}

# check_memory_clone DIR: no conflict, nothing modified, every memory file
# valid, canonical and stamped, the unified file the join, verify passing
# on the whole history.
check_memory_clone() {
	check_no_conflict "$1" &&
		check_clean "$1" &&
		for check_memory_f_ in "$1"/memory-*.json "$1/unified-memory.json"; do
			check_valid_canonical "$check_memory_f_" &&
				check_stamped "$check_memory_f_" || return 1
		done &&
		check_unified "$1" &&
		(cd "$1" && crdtmem verify -q --merges HEAD)
}
