#!/bin/sh
# verify: memory files valid, canonical and stamped; the unified file the
# join; and every merge commit what the driver gives, so a merge made
# without the driver is named and --fix brings back what it lost.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"

test_expect_success 'setup: an installed clone, and a clone made without the install command' '
	setup_installed vf laptop &&
	cd vf &&
	{
		live_entity Alice "likes tea" &&
		live_entity Bob "plays chess"
	} | save_memory laptop &&
	git -C laptop push -q &&
	git clone -q origin.git plain &&
	git -C plain config crdtmem.host plain
'

test_expect_success 'a clean repository passes, with one line per file' '
	cd vf/laptop &&
	crdtmem verify --merges HEAD >../out 2>../err &&
	grep -q "^ok: .memory-laptop.json.: 2 entries" ../out &&
	grep -q "^ok: .unified-memory.json. is the join of 1 host files" ../out &&
	crdtmem verify -q >../out 2>../err &&
	test_must_be_empty ../out &&
	test_must_be_empty ../err
'

test_expect_success 'a merge made without the driver is named by its commit' '
	cd vf &&
	{
		live_entity Alice "likes tea" &&
		live_entity Bob "plays chess" &&
		live_entity Carol "laptop"
	} | save_memory laptop &&
	git -C laptop push -q &&
	git -C plain show HEAD:memory-laptop.json >plain/memory-laptop.json &&
	entity Dave plain 11:00:00.000 1 "from the plain clone" >>plain/memory-laptop.json &&
	commit_all plain "plain: Dave" &&
	test_tick &&
	test_must_fail git -C plain pull -q --no-rebase >/dev/null 2>&1 &&
	git -C plain checkout -q --ours memory-laptop.json unified-memory.json &&
	git -C plain add memory-laptop.json unified-memory.json &&
	test_tick &&
	git -C plain commit -q --no-edit &&
	merge=$(git -C plain rev-parse --short HEAD) &&
	test_expect_code 1 crdtmem verify --repo plain --merges HEAD >out 2>err &&
	grep -q "^error: merge $merge (.*): .memory-laptop.json. is not what the driver gives: 1 entries missing" err
'

test_expect_success 'verify --fix brings back what the merge lost, and the result verifies' '
	cd vf/plain &&
	crdtmem verify --merges HEAD --fix >../out 2>../err &&
	has_entry memory-laptop.json Carol &&
	has_entry memory-laptop.json Dave &&
	has_entry unified-memory.json Carol &&
	git add -A &&
	test_tick &&
	git commit -q -m "Repair the memory files the merge lost" &&
	crdtmem verify -q
'

test_expect_success 'a unified file that lost an entry is reported and fixed' '
	cd vf/laptop &&
	grep "^{" unified-memory.json | grep -v "\"name\":\"Bob\"" | sed "s/,\$//" >../u &&
	write_array unified-memory.json <../u &&
	crdtmem join unified-memory.json >/dev/null &&
	git add unified-memory.json &&
	test_tick &&
	git commit -q --no-verify -m "hand edit" &&
	test_expect_code 1 crdtmem verify >../out 2>../err &&
	grep -q "^error: .unified-memory.json. is not the join of the 1 host files beside it: 1 entries missing" ../err &&
	crdtmem verify --fix >../out 2>../err &&
	has_entry unified-memory.json Bob &&
	check_unified .
'

test_expect_success 'a file committed without the hook is reported: not canonical, unstamped' '
	cd vf/laptop &&
	git checkout -q -- . &&
	live_entity Zed "raw" >memory-raw.json &&
	git add memory-raw.json &&
	test_tick &&
	git commit -q --no-verify -m "raw" &&
	test_expect_code 1 crdtmem verify >../out 2>../err &&
	grep -q "^error: .memory-raw.json.: 1 entries have no _crdt_metadata" ../err &&
	crdtmem verify --fix >../out 2>../err &&
	check_stamped memory-raw.json &&
	grep -q "\"host\":\"raw\"" memory-raw.json &&
	check_valid_canonical memory-raw.json
'

test_expect_success 'the setup of each clone is reported, not judged' '
	cd vf &&
	crdtmem verify --repo laptop >out 2>err &&
	grep -q "^setup: merge driver: .*git-merge-crdtmem.* %O %A %B %L %P" out &&
	grep -q "^setup: attributes: memory-\*.json merge=crdtmem, unified-memory.json merge=crdtmem" out &&
	grep -q "^setup: hooks: installed in " out &&
	crdtmem verify --repo plain >out 2>err &&
	grep -q "^setup: merge driver: not configured here" out &&
	grep -q "^setup: hooks missing in .*: pre-commit post-commit post-merge post-rewrite" out
'

test_expect_success 'outside a repository verify says so' '
	mkdir nowhere &&
	(cd nowhere && test_expect_code 1 crdtmem verify 2>../err) &&
	grep -q "^error: .*not in the work tree of a git repository" err
'

test_done
