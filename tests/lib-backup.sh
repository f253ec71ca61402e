# Fixtures for the backup and restore tests: clones set up by install (from
# lib-hooks.sh), each with a live memory file beside it as the memory
# server writes it, and checks that compare memories as sets of lines.
# Sourced after test-lib.sh, lib-memory.sh and lib-hooks.sh.
#
# Layout of "setup_backup TOP CLONE...": $TRASH/TOP/origin.git, a clone
# $TRASH/TOP/CLONE per name (crdtmem.host = the name), and its live file
# $TRASH/TOP/live-CLONE (not created).

# setup_backup TOP [CLONE...]
setup_backup() {
	setup_installed "$@"
}

# backup_of CLONE [OPTION...]: back up CLONE's live file (run in TOP).
backup_of() {
	backup_of_clone_=$1
	shift
	crdtmem backup -q --repo "$backup_of_clone_" --memory "live-$backup_of_clone_" "$@"
}

# restore_of CLONE [OPTION...]: restore into CLONE's live file (run in TOP).
restore_of() {
	restore_of_clone_=$1
	shift
	crdtmem restore -q --repo "$restore_of_clone_" --to "live-$restore_of_clone_" "$@"
}

# as_set FILE: FILE's non-empty lines, sorted (the server's file has no
# final newline; restore's order is canonical, the server's is its own).
as_set() {
	{
		cat "$1" && echo
	} | grep -v '^$' | LC_ALL=C sort
}

# check_same_set EXPECTED ACTUAL: the same lines, in any order.
check_same_set() {
	as_set "$1" >"$TRASH/.set-expected" &&
		as_set "$2" >"$TRASH/.set-actual" &&
		test_cmp "$TRASH/.set-expected" "$TRASH/.set-actual"
}

# check_server_format FILE: JSON lines as the memory server writes them:
# no metadata, no tombstone, entities before relations, no final newline.
check_server_format() {
	if grep -q '_crdt_metadata' "$1"; then
		echo "error: '$1' holds metadata:" >&2
		cat "$1" >&2
		return 1
	fi &&
		if test -s "$1" && test "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n'; then
			echo "error: '$1' ends in a newline" >&2
			return 1
		fi &&
		if { cat "$1" && echo; } | grep -v '^$' |
			sed -n 's/^{"type":"\([a-z]*\)".*/\1/p' | uniq | paste -s -d ' ' - |
			grep -v -x -e '' -e entity -e relation -e 'entity relation' >/dev/null; then
			echo "error: '$1' does not hold entities first, then relations:" >&2
			cat "$1" >&2
			return 1
		fi
}

# log_lines COMMAND: the lines of the state log for COMMAND.
log_lines() {
	grep " $1 " "$HOME/.local/state/git-merge-crdtmem/log"
}

# check_missing PATH: nothing at PATH.
check_missing() {
	if test -e "$1"; then
		echo "error: '$1' exists" >&2
		return 1
	fi
}
