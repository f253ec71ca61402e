#!/bin/sh
# Files of several MB: above the size at which a side is read on its own
# thread (1 MiB) and at which a file is read in two halves (4 MiB). Every
# entry must come through, whichever half or thread read it: the merge and
# the join are compared byte for byte with the expected file.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

N=${CRDTMEM_LARGE_N:-40000}

# gen MODE: canonical entity lines, in key order, for MODE base, ours,
# theirs or expect. Ours changes every 997th entity (a newer stamp and one
# more observation) and adds X00001..X00050; theirs changes every 991st
# and adds Y00001..Y00050; expect is the union with both changes.
gen() {
	awk -v n="$N" -v mode="$1" '
	function ent(name, obs, host, time, ver) {
		printf "{\"type\":\"entity\",\"name\":\"%s\",\"entityType\":\"person\",\"observations\":[%s],\"_crdt_metadata\":{\"host\":\"%s\",\"timestamp\":\"2026-11-21T%sZ\",\"version\":%d,\"unique_id\":\"%s-%s-%d\"}}\n", name, obs, host, time, ver, host, name, ver
	}
	BEGIN {
		pad = "a fairly long observation that makes each line about 180 bytes"
		for (i = 1; i <= n; i++) {
			name = sprintf("E%05d", i)
			base = sprintf("\"%s %d\"", pad, i)
			if (i % 997 == 0 && (mode == "ours" || mode == "expect"))
				ent(name, base ",\"ours\"", "laptop", "11:00:00.000", 2)
			else if (i % 991 == 0 && (mode == "theirs" || mode == "expect"))
				ent(name, base ",\"theirs\"", "desktop", "11:00:00.000", 2)
			else
				ent(name, base, "laptop", "10:00:00.000", 1)
		}
		for (i = 1; i <= 50; i++) {
			if (mode == "ours" || mode == "expect")
				ent(sprintf("X%05d", i), "\"new\"", "laptop", "11:00:00.000", 1)
		}
		for (i = 1; i <= 50; i++) {
			if (mode == "theirs" || mode == "expect")
				ent(sprintf("Y%05d", i), "\"new\"", "desktop", "11:00:00.000", 1)
		}
	}'
}

test_expect_success 'setup: three sides of 40,000 entities (about 7 MB each)' '
	for m in base ours theirs expect; do
		gen $m >$m.jsonl &&
		write_array $m.array <$m.jsonl || return 1
	done &&
	test "$(wc -c <ours.jsonl)" -gt 5000000 &&
	test "$(wc -c <theirs.array)" -gt 5000000 &&
	check_entry_count expect.jsonl $((N + 100))
'

# merge_check FORMAT: the driver merges the big sides in FORMAT into a copy
# of ours; the result is the expected file, byte for byte; swapping ours
# and theirs gives the same bytes.
merge_check() {
	git init -q "m-$1" &&
		cp "base.$1" "m-$1/O" && cp "ours.$1" "m-$1/A" && cp "theirs.$1" "m-$1/B" &&
		cp "theirs.$1" "m-$1/A2" && cp "ours.$1" "m-$1/B2" &&
		(cd "m-$1" && crdtmem O A B 7 memory-big.json &&
			crdtmem O A2 B2 7 memory-big.json) &&
		check_entry_count "m-$1/A" $((N + 100)) &&
		test_cmp "expect.$1" "m-$1/A" &&
		test_cmp "expect.$1" "m-$1/A2"
}

test_expect_success 'a JSONL merge of 7 MB sides keeps every entry' '
	merge_check jsonl
'

test_expect_success 'a canonical array merge of 7 MB sides keeps every entry' '
	merge_check array
'

test_expect_success 'a big THEIRS against a small OURS (THEIRS read on its own thread)' '
	git init -q t1 &&
	cp base.jsonl t1/O &&
	cp base.jsonl t1/A &&
	cp theirs.jsonl t1/B &&
	(cd t1 && crdtmem O A B 7 memory-big.json) &&
	test_cmp theirs.jsonl t1/A
'

test_expect_success 'a big OURS with an empty base and THEIRS (add/add)' '
	git init -q t2 &&
	: >t2/O &&
	cp ours.array t2/A &&
	: >t2/B &&
	(cd t2 && crdtmem O A B 7 memory-big.json) &&
	test_cmp ours.array t2/A
'

test_expect_success 'join of two 7 MB files keeps every entry, in either order' '
	crdtmem join ours.jsonl theirs.jsonl >joined1 &&
	crdtmem join theirs.jsonl ours.jsonl --format jsonl >joined2 &&
	crdtmem join -o joined3 ours.array theirs.array &&
	test_cmp expect.jsonl joined1 &&
	test_cmp expect.jsonl joined2 &&
	test_cmp expect.array joined3
'

test_expect_success 'join of one big file is the file itself (every line of both halves)' '
	crdtmem join base.jsonl >same.jsonl &&
	crdtmem join base.array >same.array &&
	test_cmp base.jsonl same.jsonl &&
	test_cmp base.array same.array
'

test_done
