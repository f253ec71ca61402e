#!/bin/sh
# The binary's command line: --help, --version, usage errors, and the join
# subcommand the other tests use to check files.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

test_expect_success '--help exits 0 and prints the usage on stdout' '
	crdtmem --help >out 2>err &&
	grep -q "git-merge-crdtmem" out
'

test_expect_success '--version prints the version of driver/version.h' '
	crdtmem --version >out &&
	want=$(sed -n "s/.*CRDTMEM_VERSION \"\(.*\)\".*/\1/p" "$TEST_SRCDIR/../driver/version.h") &&
	if test -z "$want"; then
		grep -qE "^git-merge-crdtmem [0-9]+\.[0-9]+\.[0-9]+" out
	else
		echo "git-merge-crdtmem $want" >expect &&
		test_cmp expect out
	fi
'

test_expect_success 'an unknown option exits 2 with a message' '
	test_expect_code 2 crdtmem --no-such-option >out 2>err &&
	test -s err
'

test_expect_success 'a merge with too few operands exits 2' '
	entity Alice laptop 10:00:00.000 1 | write_array two-ops.json &&
	cp two-ops.json two-ops.orig &&
	test_expect_code 2 crdtmem two-ops.json two-ops.json 2>err &&
	test -s err &&
	check_untouched two-ops.json two-ops.orig
'

test_expect_success 'join of one canonical array file is the file itself' '
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob desktop 10:00:01.000 2
	} | write_array canon.json &&
	crdtmem join canon.json >out &&
	test_cmp canon.json out
'

test_expect_success 'join of two JSONL files is their union, as JSONL' '
	entity Alice laptop 10:00:00.000 1 | write_server_jsonl one.json &&
	entity Bob desktop 10:00:01.000 1 | write_server_jsonl two.json &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob desktop 10:00:01.000 1
	} | write_jsonl expect &&
	crdtmem join one.json two.json >out &&
	test_cmp expect out
'

test_expect_success 'join -o writes the file; unify is the same command' '
	entity Alice laptop 10:00:00.000 1 | write_array a.json &&
	entity Bob desktop 10:00:01.000 1 | write_array b.json &&
	crdtmem join -o joined.json a.json b.json &&
	crdtmem unify b.json a.json >unified.json &&
	is_array joined.json &&
	test_cmp joined.json unified.json &&
	check_entry_count joined.json 2
'

test_expect_success 'join --format json turns JSONL into an array' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob desktop 10:00:01.000 1
	} >lines &&
	write_server_jsonl in.jsonl <lines &&
	write_array expect <lines &&
	crdtmem join --format json in.jsonl >out &&
	test_cmp expect out
'

test_expect_success 'join reads server JSONL with CRLF and blank lines' '
	{
		entity Bob desktop 10:00:01.000 1 &&
		echo &&
		entity Alice laptop 10:00:00.000 1
	} | sed "s/\$/$CR/" | write_server_jsonl crlf.json &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob desktop 10:00:01.000 1
	} | write_jsonl expect &&
	crdtmem join crlf.json >out &&
	test_cmp expect out
'

test_expect_success 'an empty file is the empty set: nothing as JSONL, [] as an array' '
	: >empty.json &&
	crdtmem join empty.json >out &&
	test_cmp empty.json out &&
	printf "[]\n" >expect &&
	crdtmem join --format json empty.json >out &&
	test_cmp expect out
'

test_expect_success 'join of a file with bad JSON exits 1 naming line and column' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		echo "{\"type\":\"entity\",\"name\":\"Bob\" \"entityType\":\"person\"}"
	} >bad.json &&
	test_expect_code 1 crdtmem join bad.json >out 2>err &&
	grep -q "^error: .*bad\.json.*line 2, column [0-9][0-9]*" err
'


test_expect_success 'join options may come after the files, as in the README' '
	entity Alice laptop 10:00:00.000 1 | write_array a.json &&
	entity Bob desktop 10:00:01.000 1 | write_array b.json &&
	crdtmem join -o first.json a.json b.json &&
	crdtmem join a.json b.json -o last.json &&
	crdtmem join a.json --output=middle.json b.json &&
	test_cmp first.json last.json &&
	test_cmp first.json middle.json &&
	check_entry_count last.json 2
'

test_expect_success '-- ends the options: a file named like an option is read' '
	entity Carol laptop 10:00:02.000 1 | write_array ./-o &&
	crdtmem join -- -o >out &&
	test_cmp ./-o out
'

test_expect_success 'a mistyped command exits 2 with a hint and merges nothing' '
	git init -q typo &&
	entity Alice laptop 10:00:00.000 1 | write_array typo/a &&
	cp typo/a typo/b &&
	cp typo/a typo/a.orig &&
	(cd typo && test_expect_code 2 crdtmem jion a b 2>../err) &&
	grep -q "^error: unknown command .jion.$" err &&
	grep -q "did you mean .join." err &&
	check_untouched typo/a typo/a.orig &&
	test ! -e typo/.git/crdtmem
'

test_expect_success 'usage mistakes keep no copies of failed inputs' '
	git init -q usage &&
	entity Alice laptop 10:00:00.000 1 | write_array usage/a &&
	(
		cd usage &&
		test_expect_code 2 crdtmem merge a a 2>../err1 &&
		test_expect_code 2 crdtmem merge a a a 7 p extra 2>../err2 &&
		test_expect_code 2 crdtmem merge --bogus a a a 2>../err3
	) &&
	grep -q "^error: a merge takes" err1 &&
	grep -q "^error: a merge takes" err2 &&
	grep -q "^error: unknown option .--bogus." err3 &&
	test ! -e usage/.git/crdtmem
'

test_expect_success 'an option missing its value, and an unknown option, exit 2' '
	entity Alice laptop 10:00:00.000 1 | write_array one.json &&
	test_expect_code 2 crdtmem join one.json -o 2>err &&
	grep -q "^error: option .-o. needs a value" err &&
	test_expect_code 2 crdtmem join --colour one.json 2>err &&
	grep -q "^error: unknown option .--colour." err &&
	test_expect_code 2 crdtmem join --format yaml one.json 2>err &&
	grep -q "^error: --format takes json or jsonl" err
'

test_expect_success 'help for one command: COMMAND --help and help COMMAND agree' '
	crdtmem join --help >a &&
	crdtmem help join >b &&
	test_cmp a b &&
	grep -q "^usage: git-merge-crdtmem join" a &&
	crdtmem --help >all &&
	grep -q "^  join " all &&
	grep -q "^  merge " all &&
	test_expect_code 2 crdtmem help jion 2>err &&
	grep -q "unknown command .jion." err
'

test_expect_success 'hook NAME --help shows the help and runs no hook' '
	git init -q helped &&
	entity Alice laptop 10:00:00.000 1 | write_array helped/memory-laptop.json &&
	git -C helped add memory-laptop.json &&
	git -C helped ls-files -s >before &&
	(cd helped && crdtmem hook pre-commit --help >../out 2>../err) &&
	grep -q "^usage: git-merge-crdtmem hook" out &&
	test_must_be_empty err &&
	git -C helped ls-files -s >after &&
	test_cmp before after
'

test_expect_success 'a PATH that starts with a dash is a name, not an option' '
	git init -q dash &&
	entity Alice laptop 10:00:00.000 1 | write_array dash/O &&
	cp dash/O dash/A &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:01.000 1
	} | write_array dash/B &&
	(cd dash && crdtmem O A B 7 -memory-x.json) &&
	test_cmp dash/B dash/A
'

test_done
