#!/bin/sh
# git-merge-crdtmem backup: the live memory file is stamped against what
# the clone knows, committed as memory-<host>.json with the unified file,
# and shared; unchanged entries keep their stamps, deletions propagate, and
# what a person left in the clone is never committed or lost.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

test_expect_success 'setup: laptop, desktop and phone, set up by install' '
	setup_backup bk laptop desktop phone
'

test_expect_success 'the first backup commits memory-<host>.json and the unified file, and pushes' '
	cd bk &&
	{
		live_entity Alice "likes tea" &&
		live_entity Bob "plays chess" &&
		live_relation Alice knows Bob
	} | write_server_jsonl live-laptop &&
	before=$(git -C laptop rev-parse HEAD) &&
	backup_of laptop &&
	git -C laptop diff --name-only "$before" HEAD >changed &&
	printf "%s\n" memory-laptop.json unified-memory.json >expect &&
	test_cmp expect changed &&
	is_array laptop/memory-laptop.json &&
	check_stamped laptop/memory-laptop.json &&
	has_entry laptop/memory-laptop.json Alice &&
	has_relation laptop/unified-memory.json Alice knows Bob &&
	test "$(git -C laptop rev-parse HEAD)" = "$(git --git-dir=origin.git rev-parse main)" &&
	check_memory_clone laptop &&
	log_lines backup | grep -q "host=laptop .*added=3 .*commit=yes pushed=yes .*result=ok"
'

test_expect_success 'the log holds counts, never memory contents' '
	! grep -e Alice -e tea -e chess "$HOME/.local/state/git-merge-crdtmem/log" &&
	test "$(stat -c %a "$HOME/.local/state/git-merge-crdtmem")" = 700
'

test_expect_success 'a backup with nothing changed makes no commit' '
	cd bk &&
	before=$(git -C laptop rev-parse HEAD) &&
	backup_of laptop &&
	test "$(git -C laptop rev-parse HEAD)" = "$before" &&
	log_lines backup | tail -n 1 | grep -q "commit=no pushed=no .*result=ok"
'

test_expect_success 'MEMORY_FILE_PATH is the default live file; without it, the message names --memory' '
	cd bk &&
	MEMORY_FILE_PATH=$PWD/live-laptop crdtmem backup -q --repo laptop &&
	(
		unset MEMORY_FILE_PATH &&
		test_expect_code 2 crdtmem backup --repo laptop 2>err
	) &&
	grep -q "pass --memory FILE" err
'

test_expect_success 'a second machine backs up its own memory; both are in the unified file' '
	cd bk &&
	{
		live_entity Alice "likes coffee" &&
		live_entity Carol "sings"
	} | write_server_jsonl live-desktop &&
	backup_of desktop &&
	check_memory_clone desktop &&
	has_observation desktop/unified-memory.json Alice "likes coffee" &&
	has_observation desktop/unified-memory.json Alice "likes tea" &&
	has_entry desktop/unified-memory.json Bob &&
	has_entry desktop/unified-memory.json Carol &&
	lacks_entry desktop/memory-desktop.json Bob
'

test_expect_success 'restore then backup commits nothing and re-stamps nothing' '
	cd bk &&
	restore_of desktop &&
	cp desktop/unified-memory.json unified.before &&
	before=$(git -C desktop rev-parse HEAD) &&
	backup_of desktop &&
	test "$(git -C desktop rev-parse HEAD)" = "$before" &&
	test_cmp unified.before desktop/unified-memory.json &&
	git -C phone pull -q &&
	restore_of phone &&
	backup_of phone &&
	check_missing phone/memory-phone.json &&
	check_memory_clone phone
'

test_expect_success 'after a restore, a change commits the whole memory with its old stamps kept' '
	cd bk &&
	{
		cat live-desktop && echo &&
		live_entity Dave "new on desktop"
	} | grep -v "^$" | write_server_jsonl live-desktop.new &&
	mv live-desktop.new live-desktop &&
	backup_of desktop &&
	has_entry desktop/memory-desktop.json Bob &&
	entry_line laptop/memory-laptop.json Bob >bob.laptop &&
	entry_line desktop/memory-desktop.json Bob >bob.desktop &&
	test_cmp bob.laptop bob.desktop &&
	git -C desktop show HEAD --stat --format=%s | head -n 1 >subject &&
	grep -q "1 added, 0 changed, 0 deleted" subject &&
	check_memory_clone desktop
'

test_expect_success 'two machines adding observations to one entity at once keep both' '
	cd bk &&
	backup_of laptop &&
	restore_of laptop &&
	sed "s/\"likes tea\"/\"likes tea\",\"laptop note\"/" live-laptop >x && mv x live-laptop &&
	sed "s/\"likes tea\"/\"desktop note\",\"likes tea\"/" live-desktop >x && mv x live-desktop &&
	backup_of laptop &&
	backup_of desktop &&
	backup_of laptop &&
	has_observation laptop/unified-memory.json Alice "laptop note" &&
	has_observation laptop/unified-memory.json Alice "desktop note" &&
	test_cmp laptop/unified-memory.json desktop/unified-memory.json &&
	restore_of laptop &&
	grep "\"name\":\"Alice\"" live-laptop | grep "desktop note" | grep -q "laptop note"
'

test_expect_success 'a deletion on one machine reaches the others after backup, restore and backup' '
	cd bk &&
	grep -v "\"name\":\"Bob\"" live-laptop | grep -v "\"relation\"" | write_server_jsonl x &&
	mv x live-laptop &&
	backup_of laptop &&
	is_tombstone laptop/unified-memory.json Bob &&
	backup_of desktop &&
	restore_of desktop &&
	! grep -q "\"Bob\"" live-desktop &&
	backup_of desktop &&
	is_tombstone desktop/unified-memory.json Bob &&
	backup_of phone &&
	restore_of phone &&
	! grep -q "\"Bob\"" live-phone &&
	check_memory_clone desktop
'

test_expect_success 'a causally later edit wins even from a clock an hour behind' '
	cd bk &&
	backup_of phone &&
	restore_of phone &&
	grep -v "\"name\":\"Carol\"" live-phone | write_server_jsonl x &&
	{ cat x && echo && live_entity Carol "sings" "edited on a slow clock"; } |
		grep -v "^$" | write_server_jsonl live-phone &&
	CRDTMEM_NOW=$(($(date +%s) - 3600)) backup_of phone &&
	backup_of desktop &&
	has_observation desktop/unified-memory.json Carol "edited on a slow clock" &&
	entry_line desktop/unified-memory.json Carol | grep -q "\"host\":\"phone\""
'

test_expect_success '--dry-run says what would change and touches nothing' '
	cd bk &&
	{ cat live-laptop && echo && live_entity Erin "dry"; } | grep -v "^$" | write_server_jsonl x &&
	mv x live-laptop &&
	before=$(git -C laptop rev-parse HEAD) &&
	git -C laptop status --porcelain >status.before &&
	crdtmem backup --dry-run --repo laptop --memory live-laptop >out &&
	grep -q "memory-laptop.json: 1 added" out &&
	grep -q "+ \[\"entity\",\"Erin\"\]" out &&
	test "$(git -C laptop rev-parse HEAD)" = "$before" &&
	git -C laptop status --porcelain >status.after &&
	test_cmp status.before status.after &&
	check_missing laptop/.git/crdtmem/backup.lock
'

test_expect_success 'a live file cut short is refused without --force, recorded with it' '
	cd bk &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		live_entity "Many$i" "n$i" || return 1
	done | write_server_jsonl live-laptop &&
	backup_of laptop &&
	live_entity Many1 n1 | write_server_jsonl live-laptop &&
	before=$(git -C laptop rev-parse HEAD) &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "holds 1 entries where this machine.s last backup had 12" err &&
	grep -q -- "--force" err &&
	test "$(git -C laptop rev-parse HEAD)" = "$before" &&
	backup_of laptop --force &&
	is_tombstone laptop/memory-laptop.json Many2 &&
	check_memory_clone laptop
'

test_expect_success 'an empty live file after a non-empty one is refused' '
	cd bk &&
	: >live-laptop &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "holds 0 entries" err &&
	live_entity Many1 n1 | write_server_jsonl live-laptop
'

test_expect_success 'a live file the server cannot read is refused' '
	cd bk &&
	cp live-laptop good &&
	printf "%s\n%s" "$(cat good)" "{\"type\":\"entity\",\"name\":" >live-laptop &&
	before=$(git -C laptop rev-parse HEAD) &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "not a memory file the memory server can read: line 2" err &&
	test "$(git -C laptop rev-parse HEAD)" = "$before" &&
	cp good live-laptop
'

test_expect_success 'a one-line JSON array is backed up, with a warning that the server reads it as empty' '
	cd bk &&
	printf "[%s,%s]" "$(live_entity Many1 n1)" "$(live_entity Gus "in an array")" >live-laptop &&
	backup_of laptop 2>err &&
	grep -q "reads it as an EMPTY memory" err &&
	has_entry laptop/memory-laptop.json Gus &&
	{
		live_entity Many1 n1 &&
		live_entity Gus "in an array"
	} | write_server_jsonl live-laptop
'

test_expect_success 'hand edits to memory-<host>.json are refused with what to do' '
	cd bk &&
	cp laptop/memory-laptop.json saved &&
	echo >>laptop/memory-laptop.json &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "memory-laptop.json. in .*laptop. has changes that are not committed" err &&
	grep -q "checkout -- memory-laptop.json" err &&
	! cmp -s saved laptop/memory-laptop.json
'

test_expect_success 'after the hand edit is dropped, backup works again' '
	cd bk &&
	git -C laptop checkout -- memory-laptop.json &&
	backup_of laptop &&
	check_memory_clone laptop
'

test_expect_success 'uncommitted work in the clone is never committed nor lost, even with a rebase' '
	cd bk &&
	echo "notes" >laptop/notes.txt &&
	git -C laptop add notes.txt &&
	test_tick &&
	git -C laptop commit -q -m "notes" &&
	echo "my draft" >>laptop/notes.txt &&
	echo "staged new" >laptop/staged.txt &&
	git -C laptop add staged.txt &&
	echo "untracked" >laptop/untracked.txt &&
	live_entity Hank "desktop" | write_server_jsonl live-desktop.more &&
	{ cat live-desktop && echo && cat live-desktop.more; } | grep -v "^$" | write_server_jsonl x &&
	mv x live-desktop &&
	backup_of desktop &&
	{ cat live-laptop && echo && live_entity Ida "laptop"; } | grep -v "^$" | write_server_jsonl x &&
	mv x live-laptop &&
	backup_of laptop &&
	has_entry laptop/unified-memory.json Hank &&
	has_entry laptop/unified-memory.json Ida &&
	printf "notes\nmy draft\n" >expect &&
	test_cmp expect laptop/notes.txt &&
	test "$(cat laptop/staged.txt)" = "staged new" &&
	test "$(cat laptop/untracked.txt)" = "untracked" &&
	git -C laptop log --format= --name-only origin/main >pushed &&
	! grep -e staged.txt -e untracked.txt pushed &&
	git -C laptop show --format= --name-only HEAD >last &&
	! grep -e notes -e staged -e untracked last &&
	git -C laptop reset -q --hard &&
	rm -f laptop/untracked.txt laptop/staged.txt
'

test_expect_success 'an entry that looks like a credential is refused unless allowed' '
	cd bk &&
	cp live-laptop good &&
	{ cat good && echo && live_entity Key "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"; } |
		grep -v "^$" | write_server_jsonl live-laptop &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "\[\"entity\",\"Key\"\] holds what looks like" err &&
	lacks_entry laptop/memory-laptop.json Key &&
	backup_of laptop --allow-secrets &&
	has_entry laptop/memory-laptop.json Key
'

test_expect_success 'a clone not set up by install is refused, with the command to run' '
	cd bk &&
	git clone -q origin.git bare-clone &&
	cp live-laptop live-bare-clone &&
	test_expect_code 1 backup_of bare-clone --host laptop 2>err &&
	grep -q "run .git-merge-crdtmem install --repo" err
'

test_expect_success 'bad options are usage errors' '
	cd bk &&
	test_expect_code 2 crdtmem backup --memory live-laptop --repo laptop --retries 0 &&
	test_expect_code 2 crdtmem backup --memory live-laptop --repo laptop --timeout x &&
	test_expect_code 2 crdtmem backup --memory live-laptop --repo laptop extra &&
	crdtmem backup --help >help &&
	grep -q -- "--no-push" help
'

test_done
