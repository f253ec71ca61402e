#!/bin/sh
# The binary's command line: --help, --version, usage errors, and the join
# subcommand the other tests use to check files.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/lib.sh"

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

test_done
