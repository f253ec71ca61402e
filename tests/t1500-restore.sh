#!/bin/sh
# git-merge-crdtmem restore: the repository's memory written back into a
# live memory file in the memory server's own format, atomically, keeping
# the file's mode and a copy of what it replaced; and what it wrote is
# what the next backup measures deletions against.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

test_expect_success 'setup: laptop and desktop have each backed up their memory' '
	setup_backup rs laptop desktop &&
	cd rs &&
	{
		live_entity Alice "likes tea" &&
		live_entity Bob "plays chess" &&
		live_relation Alice knows Bob
	} | write_server_jsonl live-laptop &&
	backup_of laptop &&
	{
		live_entity Carol "sings" &&
		live_relation Carol knows Alice &&
		live_entity Alice "likes coffee"
	} | write_server_jsonl live-desktop &&
	backup_of desktop &&
	git -C laptop pull -q
'

test_expect_success 'restore writes the server format: no metadata, no final newline, entities first' '
	cd rs &&
	restore_of laptop &&
	check_server_format live-laptop &&
	cat >expect <<-\EOF &&
	{"type":"entity","name":"Alice","entityType":"person","observations":["likes coffee","likes tea"]}
	{"type":"entity","name":"Bob","entityType":"person","observations":["plays chess"]}
	{"type":"entity","name":"Carol","entityType":"person","observations":["sings"]}
	{"type":"relation","from":"Alice","to":"Bob","relationType":"knows"}
	EOF
	printf "%s\n%s" "$(cat expect)" "{\"type\":\"relation\",\"from\":\"Carol\",\"to\":\"Alice\",\"relationType\":\"knows\"}" >expect.server &&
	test_cmp expect.server live-laptop &&
	log_lines restore | tail -n 1 | grep -q "host=laptop source=unified-memory.json entities=3 relations=2 .*result=ok"
'

test_expect_success 'the replaced file is kept next to it, with its mode, and the new one keeps the mode' '
	cd rs &&
	live_entity Zed "only here" | write_server_jsonl live-desktop &&
	chmod 600 live-desktop &&
	cp live-desktop old &&
	restore_of desktop 2>err &&
	test "$(stat -c %a live-desktop)" = 600 &&
	copy=$(ls live-desktop.crdtmem-backup-*) &&
	test_cmp old "$copy" &&
	test "$(stat -c %a "$copy")" = 600 &&
	grep -q "1 entries of .live-desktop. were not in the repository" err
'

test_expect_success 'restoring what the file already holds changes nothing and keeps no copy' '
	cd rs &&
	rm -f live-laptop.crdtmem-backup-* &&
	restore_of laptop &&
	check_missing "$(echo live-laptop.crdtmem-backup-*)" 2>/dev/null &&
	! ls live-laptop.crdtmem-backup-* 2>/dev/null
'

test_expect_success 'MEMORY_FILE_PATH is the default target; without it, the message names --to' '
	cd rs &&
	rm -f target &&
	MEMORY_FILE_PATH=$PWD/target crdtmem restore -q --repo laptop &&
	test_cmp live-laptop target &&
	(
		unset MEMORY_FILE_PATH &&
		test_expect_code 2 crdtmem restore --repo laptop 2>err
	) &&
	grep -q "pass --to FILE" err
'

test_expect_success '--to - writes to standard output and remembers nothing' '
	cd rs &&
	ls laptop/.git/crdtmem >records.before &&
	crdtmem restore --repo laptop --to - >out &&
	test_cmp live-laptop out &&
	ls laptop/.git/crdtmem >records.after &&
	test_cmp records.before records.after
'

test_expect_success '--host restores one machine'"'"'s memory only' '
	cd rs &&
	crdtmem restore --repo laptop --host desktop --to - >out &&
	grep -q "\"Carol\"" out &&
	! grep -q "\"Bob\"" out &&
	grep "\"name\":\"Alice\"" out | grep -q "likes coffee" &&
	! grep "\"name\":\"Alice\"" out | grep -q "likes tea" &&
	test_expect_code 1 crdtmem restore --repo laptop --host nosuch --to - 2>err &&
	grep -q "has no .memory-nosuch.json.: no backup from that host" err
'

test_expect_success '--at reads an older commit, from git objects rather than the work tree' '
	cd rs &&
	echo "not json" >laptop/unified-memory.json &&
	crdtmem restore --repo laptop --at HEAD~1 --to - >older &&
	grep -q "\"Bob\"" older &&
	! grep -q "\"Carol\"" older &&
	crdtmem restore --repo laptop --to - >now &&
	grep -q "\"Carol\"" now &&
	git -C laptop checkout -- unified-memory.json &&
	test_expect_code 1 crdtmem restore --repo laptop --at nosuch --to - 2>err &&
	grep -q "is not a commit" err
'

test_expect_success '--dry-run says what would change and writes nothing' '
	cd rs &&
	live_entity Zed "only here" | write_server_jsonl live-desktop &&
	cp live-desktop before &&
	crdtmem restore --repo desktop --to live-desktop --dry-run >out &&
	grep -q "would write 3 entities and 2 relations" out &&
	grep -q "5 would come, 1 would go" out &&
	grep -q "1 entries of .live-desktop. are not in the repository" out &&
	test_cmp before live-desktop
'

test_expect_success 'a symbolic link to the live file stays a link' '
	cd rs &&
	mkdir -p real &&
	cp live-laptop real/memory.jsonl &&
	echo >>real/memory.jsonl &&
	ln -s real/memory.jsonl link &&
	crdtmem restore -q --repo laptop --to link &&
	test -h link &&
	test_cmp live-laptop real/memory.jsonl
'

test_expect_success 'a restore into another file does not change what a backup of the live file deletes' '
	cd rs &&
	restore_of laptop &&
	backup_of laptop &&
	crdtmem restore -q --repo laptop --host desktop --to scratch &&
	grep -v "\"Bob\"" live-laptop | grep -v "\"relation\"" | write_server_jsonl x &&
	{ cat x && echo && live_relation Alice knows Bob; } | write_server_jsonl live-laptop &&
	backup_of laptop &&
	is_tombstone laptop/memory-laptop.json Bob &&
	has_entry laptop/memory-laptop.json Carol &&
	has_entry laptop/unified-memory.json Carol &&
	check_memory_clone laptop
'

test_expect_success 'restore, then a deletion, then backup: the deletion is recorded' '
	cd rs &&
	git -C desktop pull -q &&
	restore_of desktop &&
	grep -v "\"name\":\"Carol\"" live-desktop | grep -v "\"from\":\"Carol\"" | write_server_jsonl x &&
	mv x live-desktop &&
	backup_of desktop &&
	is_tombstone desktop/unified-memory.json Carol &&
	is_tombstone desktop/memory-desktop.json Carol &&
	check_memory_clone desktop
'

test_done
