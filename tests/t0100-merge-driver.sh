#!/bin/sh
# The merge driver called directly, as git calls it: git-merge-crdtmem
# BASE OURS THEIRS MARKER_SIZE PATH, from the top of a work tree. It writes
# only OURS, keeps OURS's format, and on bad input exits 1 leaving OURS as
# it was.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# A folder the driver cannot write to (READONLY_DIR, RO_RUN: lib-memory.sh).
readonly_dir_prereq

# The three sides of a typical merge: base has Alice, ours adds Bob,
# theirs adds Carol and a newer observation on Alice.
base_entries() {
	entity Alice laptop 10:00:00.000 1 "likes tea"
}
ours_entries() {
	entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1 "plays chess"
}
theirs_entries() {
	entity Alice desktop 10:02:00.000 2 "likes tea" "reads novels" &&
		entity Carol desktop 10:02:00.000 1
}

# make_sides DIR FORMAT: DIR/O, DIR/A, DIR/B in FORMAT (array or jsonl), and
# DIR/A.orig, a copy of A. DIR is a git repository, as git's cwd would be.
make_sides() {
	git init -q "$1" &&
		base_entries | "write_$2" "$1/O" &&
		ours_entries | "write_$2" "$1/A" &&
		theirs_entries | "write_$2" "$1/B" &&
		cp "$1/A" "$1/A.orig"
}

# The bytes of A after the merge above, in FORMAT.
expect_merged() {
	{
		entity Alice desktop 10:02:00.000 2 "likes tea" "reads novels" &&
			entity Bob laptop 10:01:00.000 1 "plays chess" &&
			entity Carol desktop 10:02:00.000 1
	} | "write_$1" "$2"
}

test_expect_success 'a three-way merge exits 0 and writes the union into OURS' '
	make_sides m1 array &&
	cp m1/O m1/O.orig && cp m1/B m1/B.orig &&
	(cd m1 && crdtmem O A B 7 memory-laptop.json) &&
	expect_merged array expect &&
	test_cmp expect m1/A
'

test_expect_success 'the merge leaves BASE and THEIRS untouched' '
	check_untouched m1/O m1/O.orig &&
	check_untouched m1/B m1/B.orig
'

test_expect_success 'the merge leaves no temporary file behind' '
	ls -a m1 >actual &&
	printf "%s\n" . .. .git A A.orig B B.orig O O.orig >expect &&
	test_cmp expect actual
'

test_expect_success 'the merge does not touch the work-tree file named by PATH' '
	make_sides mp array &&
	echo "not to be touched" >mp/memory-laptop.json &&
	cp mp/memory-laptop.json mp/path.orig &&
	(cd mp && crdtmem O A B 7 memory-laptop.json) &&
	check_untouched mp/memory-laptop.json mp/path.orig &&
	test_cmp m1/A mp/A
'

test_expect_success 'the merge replaces OURS by a rename (a new inode), keeping its mode' '
	make_sides m2 array &&
	chmod 640 m2/A &&
	before=$(ls -i m2/A | awk "{ print \$1 }") &&
	(cd m2 && crdtmem O A B 7 memory-laptop.json) &&
	after=$(ls -i m2/A | awk "{ print \$1 }") &&
	test "$before" != "$after" &&
	ls -l m2/A | cut -c 1-10 >mode &&
	echo "-rw-r-----" >expect &&
	test_cmp expect mode
'

test_expect_success 'the merge subcommand form gives the same bytes' '
	make_sides m3 array &&
	(cd m3 && crdtmem merge O A B 7 memory-laptop.json) &&
	test_cmp m1/A m3/A
'

test_expect_success 'MARKER_SIZE and PATH are optional' '
	make_sides m4 array &&
	(cd m4 && crdtmem O A B) &&
	test_cmp m1/A m4/A
'

test_expect_success 'swapping OURS and THEIRS gives the same bytes' '
	make_sides m5 array &&
	(cd m5 && crdtmem O B A 7 memory-laptop.json) &&
	test_cmp m1/A m5/B
'

test_expect_success 'JSONL in OURS stays JSONL' '
	make_sides j1 jsonl &&
	(cd j1 && crdtmem O A B 7 memory-laptop.json) &&
	expect_merged jsonl expect &&
	test_cmp expect j1/A
'

test_expect_success 'JSONL in OURS stays JSONL when THEIRS is an array' '
	make_sides j2 jsonl &&
	theirs_entries | write_array j2/B &&
	(cd j2 && crdtmem O A B 7 memory-laptop.json) &&
	expect_merged jsonl expect &&
	test_cmp expect j2/A
'

test_expect_success 'an array in OURS stays an array when THEIRS is JSONL' '
	make_sides j3 array &&
	theirs_entries | write_server_jsonl j3/B &&
	(cd j3 && crdtmem O A B 7 memory-laptop.json) &&
	expect_merged array expect &&
	test_cmp expect j3/A
'

test_expect_success 'server-style JSONL (no final newline) merges to canonical JSONL' '
	make_sides j4 jsonl &&
	base_entries | write_server_jsonl j4/O &&
	ours_entries | write_server_jsonl j4/A &&
	theirs_entries | write_server_jsonl j4/B &&
	(cd j4 && crdtmem O A B 7 memory-laptop.json) &&
	expect_merged jsonl expect &&
	test_cmp expect j4/A
'

test_expect_success 'an empty BASE (add/add) merges to the union' '
	make_sides aa array &&
	: >aa/O &&
	(cd aa && crdtmem O A B 7 memory-new.json) &&
	expect_merged array expect &&
	test_cmp expect aa/A
'

test_expect_success 'the merged file is valid and canonical' '
	check_valid_canonical m1/A &&
	check_valid_canonical j1/A
'

# bad_sides DIR SIDE: make_sides, then break line 3 of SIDE (O, A or B).
bad_sides() {
	make_sides "$1" array &&
		{
			echo "[" &&
				entity Alice laptop 10:00:00.000 1 "likes tea" | sed "s/\$/,/" &&
				echo "{\"type\":\"entity\",\"name\":\"Bob\" \"entityType\":\"person\"}" &&
				echo "]"
		} >"$1/$2" &&
		cp "$1/A" "$1/A.orig"
}

# check_bad_input DIR SIDE-NAME: the driver exits 1 with a one-line error
# naming the side, the path, line 3 and a column (hint lines may follow),
# and A is untouched.
check_bad_input() {
	(cd "$1" && test_expect_code 1 crdtmem O A B 7 memory-laptop.json 2>../err) &&
		check_one_error_line err &&
		grep -E "^error: 'memory-laptop\.json' \($2\): line 3, column [0-9]+: [^ ]" err &&
		check_untouched "$1/A" "$1/A.orig"
}

test_expect_success 'bad JSON in THEIRS: exit 1, one error line naming theirs, OURS untouched' '
	bad_sides bt B &&
	check_bad_input bt theirs
'

test_expect_success 'bad JSON in OURS: exit 1, one error line naming ours, OURS untouched' '
	bad_sides bo A &&
	check_bad_input bo ours
'

test_expect_success 'bad JSON in BASE: exit 1, one error line naming base, OURS untouched' '
	bad_sides bb O &&
	check_bad_input bb base
'

test_expect_success 'metadata that is not an object is bad input (exit 1)' '
	make_sides bm array &&
	echo "{\"type\":\"entity\",\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[],\"_crdt_metadata\":\"x\"}" |
		write_array bm/B &&
	(cd bm && test_expect_code 1 crdtmem O A B 7 memory-laptop.json 2>../err) &&
	grep -q "^error: .*memory-laptop\.json.*(theirs)" err &&
	check_untouched bm/A bm/A.orig
'

test_expect_success 'a THEIRS that does not exist: exit 1, OURS untouched' '
	make_sides nt array &&
	rm nt/B &&
	(cd nt && test_expect_code 1 crdtmem O A B 7 memory-laptop.json 2>../err) &&
	grep -q "^error: " err &&
	check_untouched nt/A nt/A.orig
'

test_expect_success 'a BASE that does not exist: exit 1, OURS untouched' '
	make_sides nb array &&
	rm nb/O &&
	(cd nb && test_expect_code 1 crdtmem merge O A B 7 memory-laptop.json 2>../err) &&
	grep -q "^error: .*(base): cannot read" err &&
	check_untouched nb/A nb/A.orig &&
	test ! -e nb/.git/crdtmem/failed
'

test_expect_success 'without the command name, a first operand that is no file is an unknown command' '
	make_sides nc array &&
	rm nc/O &&
	(cd nc && test_expect_code 2 crdtmem O A B 7 memory-laptop.json 2>../err) &&
	grep -q "^error: unknown command .O.$" err &&
	check_untouched nc/A nc/A.orig
'

test_expect_success 'an OURS that does not exist: exit 1, no OURS made' '
	make_sides na array &&
	rm na/A &&
	(cd na && test_expect_code 1 crdtmem O A B 7 memory-laptop.json 2>../err) &&
	grep -q "^error: " err &&
	test ! -e na/A
'

test_expect_success READONLY_DIR 'OURS in a read-only folder: exit 1, OURS untouched' '
	chmod 755 "$TRASH" &&
	mkdir ro &&
	base_entries | write_array ro/O &&
	theirs_entries | write_array ro/B &&
	mkdir ro/top &&
	ours_entries | write_array ro/top/A &&
	cp ro/top/A ro/A.orig &&
	chmod 644 ro/O ro/B ro/top/A &&
	chmod 555 ro/top &&
	(
		cd ro/top &&
		test_expect_code 1 $RO_RUN $CRDTMEM_WRAPPER "$CRDTMEM_BIN" ../O A ../B 7 memory-laptop.json 2>../err
	) &&
	grep -q "^error: " ro/err &&
	check_untouched ro/top/A ro/A.orig &&
	ls -a ro/top >actual &&
	printf "%s\n" . .. A >expect &&
	test_cmp expect actual
'

test_done
