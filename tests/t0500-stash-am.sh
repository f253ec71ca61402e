#!/bin/sh
# git stash pop and git am -3 merge a memory file three ways as well: a
# local uncommitted edit survives a pull, and a mailed patch applies on
# top of a diverged file.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# Scenario "stash": desktop has an uncommitted edit (Carol) when laptop's
# commit (Bob) arrives; stash, pull, stash pop.
test_expect_success 'setup: desktop stashes an uncommitted edit and pulls laptop'\''s' '
	laptop_pushed_bob stash &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1
	} | write_array desktop/memory-laptop.json &&
	test_tick &&
	git -C desktop stash -q &&
	git -C desktop pull -q --ff-only &&
	has_entry desktop/memory-laptop.json Bob
'

test_expect_success 'git stash pop finishes without a conflict and drops the stash' '
	cd stash/desktop &&
	git stash pop &&
	check_no_conflict . &&
	test -z "$(git stash list)" &&
	git diff --name-only >../changed &&
	echo memory-laptop.json >../expect &&
	test_cmp ../expect ../changed
'

test_expect_success 'after stash pop the file is canonical and holds every entry' '
	f=stash/desktop/memory-laptop.json &&
	check_valid_canonical $f &&
	has_entry $f Alice &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	check_entry_count $f 3
'

# Scenario "am": laptop mails a patch adding Bob; desktop has added Carol
# where the patch expects its context, so a plain apply fails and am -3
# falls back to a three-way merge.
test_expect_success 'setup: a patch from laptop that no longer applies on desktop' '
	setup_repos am &&
	cd am &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Zoe laptop 10:00:00.000 1
	} | write_array laptop/memory-laptop.json &&
	commit_all laptop "base" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1 &&
		entity Zoe laptop 10:00:00.000 1
	} | write_array laptop/memory-laptop.json &&
	commit_all laptop "laptop: Bob" &&
	git -C laptop format-patch -q -1 --stdout >bob.patch &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1 &&
		entity Zoe laptop 10:00:00.000 1
	} | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Carol" &&
	test_must_fail git -C desktop apply --check ../bob.patch 2>/dev/null
'

test_expect_success 'git am -3 applies the patch without a conflict' '
	cd am/desktop &&
	test_tick &&
	git am -3 ../bob.patch &&
	check_no_conflict . &&
	check_clean . &&
	test "$(git log -1 --format=%s)" = "laptop: Bob"
'

test_expect_success 'after am -3 the file is canonical and holds every entry' '
	f=am/desktop/memory-laptop.json &&
	check_valid_canonical $f &&
	has_entry $f Alice &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	has_entry $f Zoe &&
	check_entry_count $f 4
'

test_done
