#!/bin/sh
# The pre-commit hook: stamps what is staged (never the unstaged work),
# turns removals into tombstones, keeps unified-memory.json the join, and
# refuses invalid files and credentials without changing anything.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"

test_expect_success 'setup: one clone set up by the install command' '
	setup_installed pc laptop
'

test_expect_success 'the first commit stamps every entry and creates the unified file' '
	cd pc &&
	{
		live_entity Alice "likes tea" &&
		live_entity Bob "plays chess" &&
		live_relation Alice knows Bob
	} | save_memory laptop &&
	check_stamped laptop/memory-laptop.json &&
	check_valid_canonical laptop/memory-laptop.json &&
	grep -q "\"host\":\"laptop\"" laptop/memory-laptop.json &&
	check_entry_count laptop/memory-laptop.json 3 &&
	git -C laptop cat-file -e HEAD:unified-memory.json &&
	check_unified laptop &&
	check_clean laptop
'

test_expect_success 'unchanged entries keep their metadata; changed ones get version 2' '
	cd pc &&
	entry_line laptop/memory-laptop.json Bob >bob.before &&
	{
		live_entity Alice "likes coffee" &&
		live_entity Bob "plays chess" &&
		live_relation Alice knows Bob
	} | save_memory laptop &&
	entry_line laptop/memory-laptop.json Bob >bob.after &&
	test_cmp bob.before bob.after &&
	entry_line laptop/memory-laptop.json Alice | grep -q "\"version\":2," &&
	has_observation laptop/memory-laptop.json Alice "likes coffee" &&
	lacks_observation laptop/memory-laptop.json Alice "likes tea" &&
	entry_line laptop/memory-laptop.json Alice |
		grep -q "\"removed_observations\":\[\"likes tea\"\]" &&
	check_unified laptop &&
	check_clean laptop
'

test_expect_success 'a removed entity becomes a tombstone in the host and unified files' '
	cd pc &&
	{
		live_entity Alice "likes coffee" &&
		live_relation Alice knows Bob
	} | save_memory laptop &&
	is_tombstone laptop/memory-laptop.json Bob &&
	is_tombstone laptop/unified-memory.json Bob &&
	entry_line laptop/memory-laptop.json Bob |
		grep -q "\"removed_observations\":\[\"plays chess\"\]" &&
	check_clean laptop
'

test_expect_success 'a partly staged file: the staged part is stamped, the unstaged work is untouched' '
	cd pc/laptop &&
	git show HEAD:memory-laptop.json >staged.json &&
	live_entity Carol "staged" >>staged.json &&
	cp staged.json memory-laptop.json &&
	git add memory-laptop.json &&
	live_entity Dave "not staged" >>memory-laptop.json &&
	cp memory-laptop.json ../worktree.before &&
	test_tick &&
	git commit -q -m "Carol" &&
	rm staged.json &&
	test_cmp ../worktree.before memory-laptop.json &&
	git show HEAD:memory-laptop.json >../committed &&
	has_entry ../committed Carol &&
	lacks_entry ../committed Dave &&
	check_stamped ../committed &&
	git show :memory-laptop.json >../index &&
	test_cmp ../committed ../index &&
	git status --porcelain >../status &&
	echo " M memory-laptop.json" >../expect &&
	test_cmp ../expect ../status
'

test_expect_success 'commit -a stamps the work tree file and leaves nothing to commit' '
	cd pc/laptop &&
	test_tick &&
	git commit -q -a -m "Dave" &&
	has_entry memory-laptop.json Dave &&
	check_stamped memory-laptop.json &&
	check_unified . &&
	check_clean .
'

test_expect_success 'commit PATH stamps it and the index ends in step with the commit' '
	cd pc/laptop &&
	git show HEAD:memory-laptop.json >memory-laptop.json &&
	live_entity Erin "by path" >>memory-laptop.json &&
	test_tick &&
	git commit -q -m "Erin" memory-laptop.json &&
	git show HEAD:memory-laptop.json >../committed &&
	has_entry ../committed Erin &&
	check_stamped ../committed &&
	check_unified . &&
	check_clean .
'

test_expect_success 'commit --amend stamps the amended content' '
	cd pc/laptop &&
	git show HEAD:memory-laptop.json >memory-laptop.json &&
	live_entity Frank "amended" >>memory-laptop.json &&
	git add memory-laptop.json &&
	test_tick &&
	git commit -q --amend -m "Erin and Frank" &&
	git show HEAD:memory-laptop.json >../committed &&
	has_entry ../committed Frank &&
	has_entry ../committed Erin &&
	check_stamped ../committed &&
	check_unified . &&
	check_clean .
'

test_expect_success 'a causally later edit wins even with the clock an hour behind' '
	cd pc/laptop &&
	entry_line memory-laptop.json Frank >../frank.before &&
	before=$(sed -n "s/.*\"timestamp\":\"\([^\"]*\)\".*/\1/p" ../frank.before) &&
	git show HEAD:memory-laptop.json | sed "s/\"amended\"/\"amended\",\"again\"/" >memory-laptop.json &&
	git add memory-laptop.json &&
	test_tick &&
	CRDTMEM_NOW=2000-01-01T00:00:00Z git commit -q -m "Frank again" &&
	entry_line memory-laptop.json Frank >../frank.after &&
	after=$(sed -n "s/.*\"timestamp\":\"\([^\"]*\)\".*/\1/p" ../frank.after) &&
	grep -q "\"version\":2," ../frank.after &&
	crdtmem join ../frank.before ../frank.after >../joined &&
	has_observation ../joined Frank again &&
	test "$after" != "$before" &&
	check_clean .
'

test_expect_success 'invalid JSON is refused with file, line and column; nothing changes' '
	cd pc/laptop &&
	{
		git show HEAD:memory-laptop.json &&
		echo "{\"type\":\"entity\",\"name\":\"Gina\" \"entityType\":\"x\"}"
	} >memory-laptop.json &&
	git add memory-laptop.json &&
	git ls-files -s >../index.before &&
	cp memory-laptop.json ../tree.before &&
	test_tick &&
	test_must_fail git commit -q -m "bad" 2>../err &&
	grep -q "^error: .memory-laptop.json. (staged): line [0-9]*, column [0-9]*: " ../err &&
	git ls-files -s >../index.after &&
	test_cmp ../index.before ../index.after &&
	test_cmp ../tree.before memory-laptop.json &&
	! test -e unified-memory.json.lock &&
	git reset -q --hard
'

test_expect_success 'a credential is refused, named with its entry; nothing changes' '
	cd pc/laptop &&
	{
		git show HEAD:memory-laptop.json &&
		live_entity Henry "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	} >memory-laptop.json &&
	git add memory-laptop.json &&
	git ls-files -s >../index.before &&
	cp memory-laptop.json ../tree.before &&
	test_tick &&
	test_must_fail git commit -q -m "secret" 2>../err &&
	grep -q "^error: .memory-laptop.json.: entry \[\"entity\",\"Henry\"\] holds what looks like a GitHub token" ../err &&
	grep -q "CRDTMEM_ALLOW_SECRETS=1" ../err &&
	git ls-files -s >../index.after &&
	test_cmp ../index.before ../index.after &&
	test_cmp ../tree.before memory-laptop.json
'

test_expect_success 'a private key block is refused too; the override lets it through' '
	cd pc/laptop &&
	{
		git show HEAD:memory-laptop.json &&
		live_entity Henry "-----BEGIN OPENSSH PRIVATE KEY-----"
	} >memory-laptop.json &&
	git add memory-laptop.json &&
	test_tick &&
	test_must_fail git commit -q -m "key" 2>../err &&
	grep -q "looks like a private key block" ../err &&
	CRDTMEM_ALLOW_SECRETS=1 git commit -q -m "key on purpose" &&
	has_entry memory-laptop.json Henry &&
	check_clean .
'

test_expect_success 'the hook does nothing in a repository without the attribute' '
	git init -q plain &&
	live_entity Ivy | write_server_jsonl plain/memory-x.json &&
	cp plain/memory-x.json plain/before &&
	git -C plain add memory-x.json &&
	(cd plain && crdtmem hook pre-commit) &&
	git -C plain show :memory-x.json >plain/staged &&
	test_cmp plain/before plain/staged &&
	! test -e plain/unified-memory.json
'

test_expect_success 'an unknown hook name is a usage error' '
	test_expect_code 2 crdtmem hook pre-comit 2>err &&
	grep -q "unknown hook .pre-comit." err
'

test_done
