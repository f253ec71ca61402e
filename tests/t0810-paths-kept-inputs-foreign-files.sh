#!/bin/sh
# Messages quote a user's path the way git does; the inputs kept after a
# failed merge are bounded; files other tools write (naive timestamps, a
# byte-order mark) merge without a conflict; a symlinked OURS stays a link.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# bad_sides DIR: a git repository DIR with sides O, A (and its copy
# A.orig) and B, where B is not valid JSON.
bad_sides() {
	git init -q "$1" &&
		entity Alice laptop 10:00:00.000 1 "likes tea" | write_jsonl "$1/O" &&
		cp "$1/O" "$1/A" && cp "$1/O" "$1/A.orig" &&
		printf '{"id":\n' >"$1/B"
}

test_expect_success 'a %P holding a newline is quoted C-style on one line' '
	bad_sides q1 &&
	cd q1 &&
	test_expect_code 1 crdtmem O A B 7 "$(printf "memory-a\nb.json")" 2>err &&
	check_one_error_line err &&
	grep -F "error: \"memory-a\\nb.json\" (theirs): line 1, column" err &&
	check_untouched A A.orig
'

test_expect_success 'quotes, backslashes, tabs and escape bytes in %P are quoted' '
	bad_sides q2 &&
	cd q2 &&
	test_expect_code 1 crdtmem O A B 7 "$(printf "m\"q\\\\b\t\033[2J.json")" 2>err &&
	check_one_error_line err &&
	grep -F "error: \"m\\\"q\\\\b\\t\\033[2J.json\" (theirs):" err &&
	! grep -q "$(printf "\033")" err &&
	check_untouched A A.orig
'

test_expect_success 'bytes above 0x7f in %P are quoted as octal (core.quotePath)' '
	bad_sides q3 &&
	cd q3 &&
	test_expect_code 1 crdtmem O A B 7 "$(printf "caf\303\251.json")" 2>err &&
	check_one_error_line err &&
	grep -F "error: \"caf\\303\\251.json\" (theirs):" err
'

test_expect_success 'a plain %P with spaces or a leading dash keeps single quotes' '
	bad_sides q4 &&
	cd q4 &&
	test_expect_code 1 crdtmem O A B 7 "--my memory.json" 2>err &&
	check_one_error_line err &&
	grep -F "error: '\''--my memory.json'\'' (theirs): line 1" err &&
	check_untouched A A.orig &&
	grep -qxF -- "--my memory.json" .git/crdtmem/failed/*/path
'

test_expect_success 'a path with a newline given to join is quoted too' '
	mkdir q5 &&
	printf "[{\"id\":1}" >"q5/$(printf "a\nb")" &&
	test_expect_code 1 crdtmem join "q5/$(printf "a\nb")" 2>err &&
	check_one_error_line err &&
	grep -F "error: \"q5/a\\nb\": line 1, column 10: " err
'

test_expect_success 'only the newest 10 failed merges keep their inputs' '
	bad_sides k1 &&
	cd k1 &&
	mkdir -p .git/crdtmem/failed/not-ours &&
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		mkdir ".git/crdtmem/failed/200001${i}T000000Z-1$i" &&
		echo old >".git/crdtmem/failed/200001${i}T000000Z-1$i/base" ||
		return 1
	done &&
	test_expect_code 1 crdtmem O A B 7 memory-new.json 2>err &&
	ls .git/crdtmem/failed >kept &&
	test "$(grep -c "^[0-9]" kept)" = 10 &&
	grep -qx not-ours kept &&
	! grep -q "^2000010[1-3]T" kept &&
	grep -q "^2000010[4-9]T" kept &&
	new=$(grep -v "^2000" kept | grep -v not-ours) &&
	grep -qxF memory-new.json ".git/crdtmem/failed/$new/path" &&
	check_untouched A A.orig
'

test_expect_success 'many failed merges in a row leave 10 folders' '
	bad_sides k2 &&
	cd k2 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		test_expect_code 1 crdtmem O A B 7 "memory-$i.json" 2>err || {
			cat err
			return 1
		}
	done &&
	ls .git/crdtmem/failed >kept &&
	test_file_lines kept 10
'

## Files other tools write

# naive_entity NAME HOST TIME VERSION OBS: an entity stamped with a naive
# timestamp (no offset), with a space or a T, as Python writes them.
naive_entity() {
	printf '{"type":"entity","name":"%s","entityType":"person","observations":["%s"],"_crdt_metadata":{"host":"%s","timestamp":"%s","version":%s,"unique_id":"%s-%s"}}\n' \
		"$1" "$5" "$2" "$3" "$4" "$2" "$4"
}

test_expect_success 'naive timestamps merge without a conflict; the newer wins' '
	setup_repos naive &&
	cd naive &&
	naive_entity Alice laptop "2025-11-21T10:00:00.123456" 1 tea |
		write_jsonl laptop/memory-laptop.json &&
	commit_all laptop base &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	naive_entity Alice laptop "2025-11-21 10:05:00" 2 coffee |
		write_jsonl laptop/memory-laptop.json &&
	commit_all laptop "laptop: coffee" &&
	git -C laptop push -q &&
	naive_entity Alice desktop "2025-11-21T10:03:00+00:00" 2 cocoa |
		write_jsonl desktop/memory-laptop.json &&
	commit_all desktop "desktop: cocoa" &&
	test_tick &&
	git -C desktop pull -q &&
	check_no_conflict desktop &&
	has_observation desktop/memory-laptop.json Alice coffee &&
	has_observation desktop/memory-laptop.json Alice cocoa &&
	grep -F "\"host\":\"laptop\",\"timestamp\":\"2025-11-21 10:05:00\"" \
		desktop/memory-laptop.json
'

# bom_sides DIR FORMAT: sides as make_sides in t0100, each file starting
# with a UTF-8 byte-order mark.
bom_sides() {
	git init -q "$1" &&
		entity Alice laptop 10:00:00.000 1 "likes tea" | "write_$2" "$1/o" &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Bob laptop 10:01:00.000 1
		} | "write_$2" "$1/a" &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Carol desktop 10:01:00.000 1
		} | "write_$2" "$1/b" &&
		for f in o a b; do
			{ printf "\357\273\277" && cat "$1/$f"; } >"$1/$(echo $f | tr oab OAB)" ||
			return 1
		done &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Bob laptop 10:01:00.000 1 &&
			entity Carol desktop 10:01:00.000 1
		} | "write_$2" "$1/expect"
}

test_expect_success 'a byte-order mark on every side of a JSONL merge is dropped' '
	bom_sides b1 jsonl &&
	cd b1 &&
	crdtmem O A B 7 memory-a.json &&
	test_cmp expect A
'

test_expect_success 'a byte-order mark on every side of an array merge is dropped' '
	bom_sides b2 array &&
	cd b2 &&
	crdtmem O A B 7 memory-a.json &&
	test_cmp expect A
'

## A symbolic link as OURS

test_expect_success 'OURS a symbolic link: it stays a link, its target gets the merge' '
	git init -q s1 &&
	cd s1 &&
	mkdir real &&
	entity Alice laptop 10:00:00.000 1 "likes tea" | write_array O &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1
	} | write_array real/memory.json &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol laptop 10:01:00.000 1
	} | write_array B &&
	chmod 600 real/memory.json &&
	ln -s real/memory.json A &&
	crdtmem O A B 7 memory.json &&
	test -h A &&
	test "$(readlink A)" = real/memory.json &&
	has_entry real/memory.json Bob &&
	has_entry real/memory.json Carol &&
	test "$(stat -c %a real/memory.json)" = 600 &&
	ls -a real >files &&
	test_file_lines files 3
'

test_expect_success 'join -o to a symbolic link writes through it' '
	mkdir s2 &&
	cd s2 &&
	entity Alice laptop 10:00:00.000 1 | write_jsonl in1 &&
	entity Bob laptop 10:00:00.000 1 | write_jsonl in2 &&
	: >target &&
	ln -s target out &&
	crdtmem join -o out in1 in2 &&
	test -h out &&
	has_entry target Alice &&
	has_entry target Bob
'

test_expect_success 'OURS keeping one of the base'"'"'s copies of a name merges after the base is let go' '
	mkdir d1 &&
	cd d1 &&
	# The base holds only copies of one name: its joined entry has text of
	# its own, while OURS shares the first copy, whose text is the base'"'"'s
	# mapped bytes. Those must stay mapped until the merge is written.
	printf "%s\n" \
		"{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"x\"]}" \
		"{\"type\":\"entity\",\"name\":\"A\",\"entityType\":\"t\",\"observations\":[\"y\"]}" \
		>O &&
	head -n 1 O >A &&
	cp O B &&
	crdtmem O A B 7 memory-a.json &&
	test "$(cat A)" = "$(head -n 1 O)"
'

test_done
