#!/bin/sh
# git cherry-pick and git revert are three-way merges too (for a revert %O
# is the reverted commit and %B its parent): they go through the driver and
# never stop on a memory file.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# Base: memory-laptop.json holds Alice. laptop adds Bob and pushes; desktop
# adds Carol and commits.
test_expect_success 'setup: laptop pushed Bob, desktop committed Carol' '
	laptop_pushed_bob pick &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1
	} | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Carol" &&
	git -C desktop fetch -q
'

test_expect_success 'git cherry-pick of laptop'\''s commit finishes without a conflict' '
	cd pick/desktop &&
	test_tick &&
	git cherry-pick origin/main &&
	check_no_conflict . &&
	check_clean . &&
	test "$(git log -1 --format=%s)" = "laptop: Bob"
'

test_expect_success 'after cherry-pick the file is canonical and holds every entry' '
	f=pick/desktop/memory-laptop.json &&
	check_valid_canonical $f &&
	has_entry $f Alice &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	check_entry_count $f 3
'

# Revert of an added entity: laptop added Bob (commit B), desktop added
# Carol and merged laptop's work; reverting B removes Bob and keeps Carol.
test_expect_success 'setup: desktop merged laptop'\''s commit adding Bob' '
	laptop_pushed_bob revert &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1
	} | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Carol" &&
	test_tick &&
	git -C desktop pull -q &&
	has_entry desktop/memory-laptop.json Bob
'

test_expect_success 'git revert of the commit adding Bob finishes without a conflict' '
	cd revert/desktop &&
	test_tick &&
	git revert --no-edit origin/main &&
	check_no_conflict . &&
	check_clean .
'

test_expect_success 'the revert takes effect: Bob is gone, Alice and Carol stay' '
	f=revert/desktop/memory-laptop.json &&
	check_valid_canonical $f &&
	lacks_entry $f Bob &&
	has_entry $f Alice &&
	has_entry $f Carol &&
	check_entry_count $f 2
'

# Revert of an edit: the reverted entity gets its earlier version back,
# while the other side's later additions stay.
test_expect_success 'setup: laptop edits Alice, then desktop adds Dave on top' '
	setup_repos revedit &&
	cd revedit &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:00:00.000 1
	} | write_array laptop/unified-memory.json &&
	commit_all laptop "base" &&
	{
		entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" &&
		entity Bob laptop 10:00:00.000 1
	} | write_array laptop/unified-memory.json &&
	commit_all laptop "laptop: Alice plays chess" &&
	{
		entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" &&
		entity Bob laptop 10:00:00.000 1 &&
		entity Dave laptop 10:02:00.000 1
	} | write_array laptop/unified-memory.json &&
	commit_all laptop "laptop: Dave"
'

test_expect_success 'git revert of the edit finishes without a conflict and restores Alice'\''s earlier version' '
	cd revedit/laptop &&
	test_tick &&
	git revert --no-edit HEAD^ &&
	check_no_conflict . &&
	check_clean . &&
	check_valid_canonical unified-memory.json &&
	entity Alice laptop 10:00:00.000 1 "likes tea" >../expect &&
	entry_line unified-memory.json Alice >../actual &&
	test_cmp ../expect ../actual &&
	has_entry unified-memory.json Dave &&
	has_entry unified-memory.json Bob
'

test_done
