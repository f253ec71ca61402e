#!/bin/sh
# With only the install command run in each clone, every git operation on
# memory files ends clean: no conflict, nothing modified, valid canonical
# stamped files, the unified file the join of the host files, and verify
# passing on the whole history.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"

test_expect_success 'setup: laptop and desktop, each set up by install, both back up Alice' '
	setup_installed ops laptop desktop &&
	cd ops &&
	live_entity Alice "likes tea" | save_memory laptop &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	live_entity Alice "likes tea" | save_memory desktop &&
	git -C desktop push -q &&
	git -C laptop pull -q &&
	check_memory_clone laptop &&
	check_memory_clone desktop
'

test_expect_success 'pull: two machines adding observations to one entity keep both' '
	cd ops &&
	live_entity Alice "likes tea" "likes cake" | save_memory laptop &&
	git -C laptop push -q &&
	live_entity Alice "likes tea" "likes coffee" | save_memory desktop &&
	test_tick &&
	git -C desktop pull -q &&
	check_memory_clone desktop &&
	has_observation desktop/unified-memory.json Alice "likes cake" &&
	has_observation desktop/unified-memory.json Alice "likes coffee" &&
	has_observation desktop/unified-memory.json Alice "likes tea" &&
	git -C desktop push -q &&
	git -C laptop pull -q &&
	check_memory_clone laptop &&
	test_cmp laptop/unified-memory.json desktop/unified-memory.json
'

test_expect_success 'a deletion on one machine reaches the unified file of every machine' '
	cd ops &&
	{
		live_entity Alice "likes tea" "likes cake" &&
		live_entity Bob "plays chess"
	} | save_memory laptop &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	has_entry desktop/unified-memory.json Bob &&
	live_entity Alice "likes tea" "likes cake" | save_memory laptop &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	is_tombstone desktop/unified-memory.json Bob &&
	check_memory_clone desktop
'

test_expect_success 'pull --rebase over a concurrent backup' '
	cd ops &&
	live_entity Carol "laptop" | save_memory laptop &&
	git -C laptop push -q &&
	{
		live_entity Alice "likes tea" "likes coffee" &&
		live_entity Dave "desktop"
	} | save_memory desktop &&
	test_tick &&
	git -C desktop pull -q --rebase &&
	check_memory_clone desktop &&
	has_entry desktop/unified-memory.json Carol &&
	has_entry desktop/unified-memory.json Dave &&
	git -C desktop push -q
'

test_expect_success 'rebase -i (with an editor that accepts the list)' '
	cd ops &&
	git -C laptop pull -q &&
	live_entity Erin "laptop" | save_memory laptop &&
	git -C laptop push -q &&
	{
		live_entity Alice "likes tea" "likes coffee" &&
		live_entity Dave "desktop" &&
		live_entity Fay "desktop"
	} | save_memory desktop &&
	git -C desktop fetch -q &&
	test_tick &&
	GIT_SEQUENCE_EDITOR=: git -C desktop rebase -q -i origin/main &&
	check_memory_clone desktop &&
	has_entry desktop/unified-memory.json Erin &&
	has_entry desktop/unified-memory.json Fay &&
	git -C desktop push -q
'

test_expect_success 'cherry-pick of a backup made on another branch' '
	cd ops/laptop &&
	git pull -q &&
	git checkout -q -b side &&
	{
		live_entity Alice "likes tea" "likes cake" &&
		live_entity Carol "laptop" &&
		live_entity Erin "laptop" &&
		live_entity Gus "on a branch"
	} | save_memory . &&
	git checkout -q main &&
	{
		live_entity Alice "likes tea" "likes cake" "reads" &&
		live_entity Carol "laptop" &&
		live_entity Erin "laptop"
	} | save_memory . &&
	test_tick &&
	git cherry-pick side >/dev/null &&
	has_entry memory-laptop.json Gus &&
	has_observation memory-laptop.json Alice reads &&
	cd .. &&
	check_memory_clone laptop
'

test_expect_success 'revert of an earlier backup' '
	cd ops/laptop &&
	test_tick &&
	git revert --no-edit HEAD >/dev/null &&
	lacks_entry memory-laptop.json Gus &&
	has_observation memory-laptop.json Alice reads &&
	cd .. &&
	check_memory_clone laptop &&
	git -C laptop push -q
'

test_expect_success 'stash pop over a pulled change, then commit' '
	cd ops &&
	git -C desktop pull -q &&
	{
		live_entity Alice "likes tea" "likes coffee" &&
		live_entity Dave "desktop" &&
		live_entity Fay "desktop" &&
		live_entity Hal "in the stash"
	} | write_server_jsonl desktop/memory-desktop.json &&
	git -C desktop stash -q &&
	live_entity Ivy "laptop" | save_memory laptop &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	git -C desktop stash pop -q &&
	check_no_conflict desktop &&
	git -C desktop add -A &&
	test_tick &&
	git -C desktop commit -q -m "desktop: Hal" &&
	has_entry desktop/unified-memory.json Hal &&
	has_entry desktop/unified-memory.json Ivy &&
	check_memory_clone desktop &&
	git -C desktop push -q
'

test_expect_success 'am -3 of a patch made against an older state' '
	cd ops &&
	git -C laptop pull -q &&
	base=$(git -C laptop rev-parse HEAD) &&
	{
		live_entity Alice "likes tea" "likes cake" "reads" &&
		live_entity Carol "laptop" &&
		live_entity Erin "laptop" &&
		live_entity Ivy "laptop" &&
		live_entity Jo "from a patch"
	} | save_memory laptop &&
	git -C laptop format-patch -q -1 -o "$TRASH/patches" HEAD &&
	git -C laptop reset -q --hard "$base" &&
	{
		live_entity Alice "likes tea" "likes cake" "reads" &&
		live_entity Carol "laptop" "changed first" &&
		live_entity Erin "laptop" &&
		live_entity Ivy "laptop"
	} | save_memory laptop &&
	test_tick &&
	git -C laptop am -q -3 "$TRASH"/patches/*.patch &&
	has_entry laptop/memory-laptop.json Jo &&
	has_observation laptop/memory-laptop.json Carol "changed first" &&
	check_memory_clone laptop
'

test_expect_success 'post-merge commits the join when a pushed commit left the unified file short' '
	cd ops &&
	git -C laptop checkout -q main &&
	git -C laptop pull -q &&
	git -C desktop pull -q &&
	git -C desktop show HEAD:memory-desktop.json >desktop/memory-desktop.json &&
	git -C desktop show HEAD:memory-desktop.json >prev.json &&
	live_entity Mia "no hook ran" >>desktop/memory-desktop.json &&
	crdtmem stamp -q --host desktop --prev prev.json -o desktop/memory-desktop.json \
		desktop/memory-desktop.json &&
	git -C desktop add memory-desktop.json &&
	test_tick &&
	git -C desktop commit -q --no-verify -m "desktop: without the hooks" &&
	git -C desktop push -q &&
	test_tick &&
	git -C laptop pull -q 2>err &&
	git -C laptop log -1 --format=%s >subject &&
	echo "Update unified-memory.json to the join of the host files" >expect &&
	test_cmp expect subject &&
	has_entry laptop/unified-memory.json Mia &&
	check_no_conflict laptop &&
	check_clean laptop &&
	check_unified laptop
'

test_expect_success 'post-rewrite does the same after pull --rebase' '
	cd ops &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	git -C desktop show HEAD:memory-desktop.json >desktop/memory-desktop.json &&
	git -C desktop show HEAD:memory-desktop.json >prev.json &&
	live_entity Ned "no hook ran either" >>desktop/memory-desktop.json &&
	crdtmem stamp -q --host desktop --prev prev.json -o desktop/memory-desktop.json \
		desktop/memory-desktop.json &&
	git -C desktop add memory-desktop.json &&
	test_tick &&
	git -C desktop commit -q --no-verify -m "desktop: without the hooks again" &&
	git -C desktop push -q &&
	live_entity Ola "laptop" | save_memory laptop &&
	test_tick &&
	git -C laptop pull -q --rebase 2>err &&
	has_entry laptop/unified-memory.json Ned &&
	has_entry laptop/unified-memory.json Ola &&
	check_no_conflict laptop &&
	check_clean laptop &&
	check_unified laptop
'

test_expect_success 'a clone whose path has spaces works the same' '
	setup_installed "with space" "lap top" "desk top" &&
	cd "with space" &&
	live_entity Pat "spaces" | save_memory "lap top" &&
	git -C "lap top" push -q &&
	live_entity Quinn "spaces" | save_memory "desk top" &&
	test_tick &&
	git -C "desk top" pull -q &&
	has_entry "desk top/unified-memory.json" Pat &&
	has_entry "desk top/unified-memory.json" Quinn &&
	check_memory_clone "desk top"
'

test_expect_success 'a criss-cross merge' '
	cd ops/laptop &&
	git checkout -q -b x &&
	live_entity Kim "x" | save_memory . &&
	git checkout -q -b y main &&
	live_entity Lee "y" | save_memory . &&
	git checkout -q x &&
	test_tick &&
	git merge -q --no-edit y &&
	git checkout -q y &&
	test_tick &&
	git merge -q --no-edit x~1 &&
	live_entity Lee "y" "more" | save_memory . &&
	git checkout -q x &&
	live_entity Kim "x" "more" | save_memory . &&
	test "$(git merge-base --all x y | wc -l)" = 2 &&
	test_tick &&
	git merge -q --no-edit y &&
	cd .. &&
	check_memory_clone laptop
'

test_done
