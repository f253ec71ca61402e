#!/bin/sh
# git pull and git merge between two clones of one bare repository, both
# having edited the same memory file: the driver merges, git records no
# conflict, and the result is canonical and holds every entry.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# Scenario "pull": memory-laptop.json (a JSON array) starts with Alice;
# laptop adds Bob and pushes, desktop adds Carol, then pulls.
test_expect_success 'setup: laptop and desktop add different entities to memory-laptop.json' '
	setup_repos pull &&
	cd pull &&
	entity Alice laptop 10:00:00.000 1 "likes tea" |
		write_array laptop/memory-laptop.json &&
	commit_all laptop "laptop: first backup" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1 "plays chess"
	} | write_array laptop/memory-laptop.json &&
	commit_all laptop "laptop: add Bob" &&
	git -C laptop push -q &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol laptop 10:02:00.000 1 "runs marathons"
	} | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: add Carol"
'

test_expect_success 'without the driver, git would conflict on this file (the test is meaningful)' '
	cd pull/desktop &&
	git fetch -q &&
	base=$(git merge-base HEAD origin/main) &&
	git cat-file blob "$base:memory-laptop.json" >../base.json &&
	git cat-file blob HEAD:memory-laptop.json >../ours.json &&
	git cat-file blob origin/main:memory-laptop.json >../theirs.json &&
	test_must_fail git merge-file -p ../ours.json ../base.json ../theirs.json >/dev/null
'

test_expect_success 'git pull merges the concurrent edits without a conflict' '
	cd pull &&
	test_tick &&
	git -C desktop pull 2>err &&
	check_no_conflict desktop &&
	check_clean desktop
'

test_expect_success 'the pull made a merge commit with both sides as parents' '
	cd pull/desktop &&
	git rev-parse HEAD^2 >/dev/null &&
	test "$(git rev-parse HEAD^2)" = "$(git rev-parse origin/main)"
'

test_expect_success 'the merged memory-laptop.json is valid and canonical' '
	check_valid_canonical pull/desktop/memory-laptop.json &&
	is_array pull/desktop/memory-laptop.json
'

test_expect_success 'the merged memory-laptop.json holds every entry' '
	f=pull/desktop/memory-laptop.json &&
	has_entry $f Alice &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	check_entry_count $f 3
'

test_expect_success 'the merge commit holds what the work tree holds' '
	cd pull/desktop &&
	git cat-file blob HEAD:memory-laptop.json >../committed &&
	test_cmp memory-laptop.json ../committed
'

test_expect_success 'after push and pull both clones hold the same bytes' '
	cd pull &&
	git -C desktop push -q &&
	git -C laptop pull -q --ff-only &&
	test_cmp desktop/memory-laptop.json laptop/memory-laptop.json
'

# Scenario "merge": unified-memory.json (JSONL) edited on both sides, each
# side adding an observation to Alice and an entity of its own, then
# git fetch + git merge.
test_expect_success 'setup: both clones edit unified-memory.json and the same entity' '
	setup_repos merge &&
	cd merge &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Dave laptop 10:00:00.000 1
	} | write_jsonl laptop/unified-memory.json &&
	commit_all laptop "base" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	{
		entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" &&
		entity Dave laptop 10:00:00.000 1 &&
		entity Erin laptop 10:01:00.000 1
	} | write_jsonl laptop/unified-memory.json &&
	commit_all laptop "laptop: Erin, Alice plays chess" &&
	git -C laptop push -q &&
	{
		entity Alice desktop 10:02:00.000 2 "likes tea" "speaks french" &&
		entity Dave laptop 10:00:00.000 1 &&
		entity Frank desktop 10:02:00.000 1
	} | write_jsonl desktop/unified-memory.json &&
	commit_all desktop "desktop: Frank, Alice speaks french"
'

test_expect_success 'git merge of the fetched branch finishes without a conflict' '
	cd merge/desktop &&
	git fetch -q &&
	test_tick &&
	git merge origin/main &&
	check_no_conflict . &&
	check_clean .
'

test_expect_success 'the merged unified-memory.json is valid, canonical and still JSONL' '
	check_valid_canonical merge/desktop/unified-memory.json &&
	is_jsonl merge/desktop/unified-memory.json
'

test_expect_success 'the merged unified-memory.json holds every entity' '
	f=merge/desktop/unified-memory.json &&
	has_entry $f Alice &&
	has_entry $f Dave &&
	has_entry $f Erin &&
	has_entry $f Frank &&
	check_entry_count $f 4
'

test_expect_success 'the entity edited on both sides keeps both new observations' '
	f=merge/desktop/unified-memory.json &&
	has_observation $f Alice "likes tea" &&
	has_observation $f Alice "plays chess" &&
	has_observation $f Alice "speaks french"
'

# Scenario "both": one commit per side touching both a host file and the
# unified file.
test_expect_success 'setup: each side edits memory-laptop.json and unified-memory.json in one commit' '
	setup_repos both &&
	cd both &&
	entity Alice laptop 10:00:00.000 1 | write_array laptop/memory-laptop.json &&
	entity Alice laptop 10:00:00.000 1 | write_array laptop/unified-memory.json &&
	commit_all laptop "base" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	for f in memory-laptop.json unified-memory.json; do
		{
			entity Alice laptop 10:00:00.000 1 &&
			entity Bob laptop 10:01:00.000 1
		} | write_array laptop/$f &&
		{
			entity Alice laptop 10:00:00.000 1 &&
			entity Carol desktop 10:02:00.000 1
		} | write_array desktop/$f || return 1
	done &&
	commit_all laptop "laptop: Bob" &&
	git -C laptop push -q &&
	commit_all desktop "desktop: Carol"
'

test_expect_success 'git pull merges both files without a conflict, each holding every entry' '
	cd both &&
	test_tick &&
	git -C desktop pull &&
	check_no_conflict desktop &&
	check_clean desktop &&
	for f in memory-laptop.json unified-memory.json; do
		check_valid_canonical desktop/$f &&
		has_entry desktop/$f Alice &&
		has_entry desktop/$f Bob &&
		has_entry desktop/$f Carol || return 1
	done
'

# Scenario "add/add": both clones create the same new file.
test_expect_success 'setup: both clones create memory-shared.json with different entries' '
	setup_repos addadd &&
	cd addadd &&
	{
		entity Alice laptop 10:01:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1
	} | write_array laptop/memory-shared.json &&
	commit_all laptop "laptop: new shared memory" &&
	git -C laptop push -q &&
	{
		entity Alice desktop 10:02:00.000 1 "speaks french" &&
		entity Carol desktop 10:02:00.000 1
	} | write_array desktop/memory-shared.json &&
	commit_all desktop "desktop: new shared memory"
'

test_expect_success 'git pull of an add/add merges without a conflict' '
	cd addadd &&
	test_tick &&
	git -C desktop pull &&
	check_no_conflict desktop &&
	check_clean desktop
'

test_expect_success 'the add/add result is valid, canonical and holds every entry' '
	f=addadd/desktop/memory-shared.json &&
	check_valid_canonical $f &&
	has_entry $f Alice &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	check_entry_count $f 3 &&
	has_observation $f Alice "likes tea" &&
	has_observation $f Alice "speaks french"
'

test_done
