#!/bin/sh
# git pull --rebase and git rebase replay local commits onto the upstream:
# there %A is the upstream and %B the local commit. Every replayed commit
# that touched a memory file goes through the driver and none stops.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# diverge TOP: in $TRASH/TOP, laptop and desktop share memory-laptop.json
# and unified-memory.json holding Alice; laptop adds Bob to both and pushes;
# desktop adds Carol to both and commits.
diverge() {
	setup_repos "$1" &&
		for f in memory-laptop.json unified-memory.json; do
			entity Alice laptop 10:00:00.000 1 "likes tea" |
				write_array "$TRASH/$1/laptop/$f" || return 1
		done &&
		commit_all "$TRASH/$1/laptop" "base" &&
		git -C "$TRASH/$1/laptop" push -q &&
		git -C "$TRASH/$1/desktop" pull -q &&
		for f in memory-laptop.json unified-memory.json; do
			{
				entity Alice laptop 10:00:00.000 1 "likes tea" &&
					entity Bob laptop 10:01:00.000 1
			} | write_array "$TRASH/$1/laptop/$f" &&
				{
					entity Alice laptop 10:00:00.000 1 "likes tea" &&
						entity Carol desktop 10:02:00.000 1
				} | write_array "$TRASH/$1/desktop/$f" || return 1
		done &&
		commit_all "$TRASH/$1/laptop" "laptop: Bob" &&
		git -C "$TRASH/$1/laptop" push -q &&
		commit_all "$TRASH/$1/desktop" "desktop: Carol"
}

# check_all_entries DIR NAME...: both memory files in DIR are valid,
# canonical and hold every NAME, and nothing else.
check_all_entries() {
	check_all_entries_dir_=$1
	shift
	for check_all_entries_f_ in memory-laptop.json unified-memory.json; do
		check_valid_canonical "$check_all_entries_dir_/$check_all_entries_f_" &&
			check_entry_count "$check_all_entries_dir_/$check_all_entries_f_" $# ||
			return 1
		for check_all_entries_name_; do
			has_entry "$check_all_entries_dir_/$check_all_entries_f_" \
				"$check_all_entries_name_" || return 1
		done
	done
}

test_expect_success 'setup: laptop pushed Bob, desktop committed Carol' '
	diverge pullr
'

test_expect_success 'git pull --rebase finishes without a conflict' '
	cd pullr &&
	test_tick &&
	git -C desktop pull --rebase &&
	check_no_conflict desktop &&
	check_clean desktop
'

test_expect_success 'the history is linear: desktop'\''s commit sits on laptop'\''s' '
	cd pullr/desktop &&
	test "$(git rev-parse HEAD^)" = "$(git rev-parse origin/main)" &&
	test -z "$(git rev-list --merges HEAD)"
'

test_expect_success 'after pull --rebase both files are canonical and hold every entry' '
	check_all_entries pullr/desktop Alice Bob Carol
'

test_expect_success 'the rebased commit holds what the work tree holds' '
	cd pullr/desktop &&
	git cat-file blob HEAD:unified-memory.json >../committed &&
	test_cmp unified-memory.json ../committed
'

test_expect_success 'desktop pushes; laptop fast-forwards to identical bytes' '
	cd pullr &&
	git -C desktop push -q &&
	git -C laptop pull -q --ff-only &&
	test_cmp desktop/memory-laptop.json laptop/memory-laptop.json &&
	test_cmp desktop/unified-memory.json laptop/unified-memory.json
'

test_expect_success 'pull --rebase (ours = upstream) gives the bytes a merge gives' '
	diverge pullm &&
	test_tick &&
	git -C pullm/desktop pull -q --no-rebase &&
	check_no_conflict pullm/desktop &&
	test_cmp pullm/desktop/memory-laptop.json pullr/desktop/memory-laptop.json &&
	test_cmp pullm/desktop/unified-memory.json pullr/desktop/unified-memory.json
'

# Scenario "rebase": two local commits, each touching the same file, are
# replayed one by one with git rebase.
test_expect_success 'setup: desktop has two more local commits on the same files' '
	diverge rebase &&
	cd rebase/desktop &&
	for f in memory-laptop.json unified-memory.json; do
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Carol desktop 10:02:00.000 1 &&
			entity Dave desktop 10:03:00.000 1
		} | write_array $f || return 1
	done &&
	commit_all . "desktop: Dave" &&
	for f in memory-laptop.json unified-memory.json; do
		{
			entity Alice desktop 10:04:00.000 2 "likes tea" "speaks french" &&
			entity Carol desktop 10:02:00.000 1 &&
			entity Dave desktop 10:03:00.000 1
		} | write_array $f || return 1
	done &&
	commit_all . "desktop: Alice speaks french" &&
	git fetch -q
'

test_expect_success 'git rebase onto the upstream replays three commits without a conflict' '
	cd rebase/desktop &&
	test_tick &&
	git rebase origin/main &&
	check_no_conflict . &&
	check_clean . &&
	test "$(git rev-parse HEAD~3)" = "$(git rev-parse origin/main)"
'

test_expect_success 'after git rebase both files are canonical and hold every entry' '
	check_all_entries rebase/desktop Alice Bob Carol Dave &&
	has_observation rebase/desktop/unified-memory.json Alice "speaks french"
'

test_expect_success 'every replayed commit holds a canonical file with Bob in it' '
	cd rebase/desktop &&
	for rev in HEAD~2 HEAD~1 HEAD; do
		git cat-file blob $rev:memory-laptop.json >../at-rev &&
		check_valid_canonical ../at-rev &&
		has_entry ../at-rev Bob || return 1
	done
'

test_expect_success 'git rebase --apply (the am backend, 3-way fallback) finishes without a conflict' '
	diverge rebapply &&
	cd rebapply/desktop &&
	git fetch -q &&
	test_tick &&
	git rebase --apply origin/main &&
	check_no_conflict . &&
	check_clean . &&
	check_all_entries . Alice Bob Carol
'

test_done
