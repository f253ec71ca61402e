#!/bin/sh
# Hostile input: each bad file as the base, ours and theirs of a merge, and
# as an input of join. Every time: exit 1 (never a crash, never above
# 128), exactly one one-line error message naming the side, OURS and every
# other file exactly as they were, and no temporary file left behind. And
# input that is odd but valid is kept exactly as written.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# hostile NAME FORMAT [ARG...]: the bad file cases/NAME, from printf.
hostile() {
	hostile_name_=$1
	shift
	# shellcheck disable=SC2059 # the format is the point
	printf "$@" >"cases/$hostile_name_"
}

# deep N OPEN CLOSE: N OPENs then N CLOSEs.
deep() {
	awk -v n="$1" -v o="$2" -v c="$3" 'BEGIN {
		s = ""; for (i = 0; i < n; i++) s = s o; printf "%s", s
		s = ""; for (i = 0; i < n; i++) s = s c; printf "%s", s
	}'
}

test_expect_success 'setup: the hostile files' '
	mkdir cases &&
	hostile truncated-object "{\"id\":\"a\",\"content\":\"x" &&
	hostile truncated-jsonl "{\"id\":\"a\"}\n{\"id\":\"b\",\"con" &&
	hostile truncated-array "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}" &&
	hostile truncated-array-comma "[\n{\"id\":\"a\"}," &&
	hostile truncated-escape "{\"id\":\"a\\\\u12" &&
	hostile truncated-utf8 "{\"id\":\"\342\202" &&
	hostile top-level-pretty-object "{\n  \"id\": \"a\"\n}\n" &&
	hostile top-level-number "42\n" &&
	hostile top-level-string "\"memory\"\n" &&
	hostile top-level-null "null" &&
	hostile top-level-true "true" &&
	hostile array-of-numbers "[1,2,3]" &&
	hostile array-of-strings "[\"a\",\"b\"]" &&
	hostile array-of-arrays "[[{\"id\":\"a\"}]]" &&
	hostile array-of-nulls "[null]" &&
	hostile array-mixed "[{\"id\":\"a\"},7]" &&
	hostile invalid-utf8 "{\"id\":\"\377\"}\n" &&
	hostile overlong-utf8 "{\"id\":\"\300\257\"}\n" &&
	hostile overlong-utf8-nul "{\"id\":\"\300\200\"}\n" &&
	hostile utf8-surrogate "{\"id\":\"\355\240\200\"}\n" &&
	hostile utf8-above-10ffff "{\"id\":\"\364\220\200\200\"}\n" &&
	hostile lone-high-surrogate "{\"id\":\"\\\\ud800\"}\n" &&
	hostile lone-low-surrogate "{\"id\":\"\\\\udc00\"}\n" &&
	hostile high-then-letter "{\"id\":\"\\\\ud800\\\\u0041\"}\n" &&
	hostile nul-escape "{\"id\":\"a\\\\u0000b\"}\n" &&
	hostile nul-in-string "{\"id\":\"a\000b\"}\n" &&
	hostile nul-line "{\"id\":\"a\"}\n\000\n" &&
	hostile nul-first "\000{\"id\":\"a\"}\n" &&
	hostile conflict-markers "<<<<<<< HEAD\n{\"id\":\"a\"}\n=======\n{\"id\":\"b\"}\n>>>>>>> theirs\n" &&
	hostile conflict-markers-inside "{\"id\":\"x\"}\n<<<<<<< HEAD\n{\"id\":\"a\"}\n=======\n{\"id\":\"b\"}\n>>>>>>> theirs\n" &&
	hostile jsonl-line-is-array "{\"id\":\"a\"}\n[{\"id\":\"b\"}]\n" &&
	hostile jsonl-line-is-string "{\"id\":\"a\"}\n\"b\"\n" &&
	hostile trailing-garbage-array "[{\"id\":\"a\"}]x" &&
	hostile two-arrays "[{\"id\":\"a\"}][{\"id\":\"b\"}]" &&
	hostile two-objects-one-line "{\"id\":\"a\"}{\"id\":\"b\"}\n" &&
	hostile duplicate-member "{\"id\":\"a\",\"id\":\"b\"}\n" &&
	hostile number-leading-zero "{\"id\":\"a\",\"n\":01}\n" &&
	hostile number-plus "{\"id\":\"a\",\"n\":+1}\n" &&
	hostile number-nan "{\"id\":\"a\",\"n\":NaN}\n" &&
	hostile number-infinity "{\"id\":\"a\",\"n\":-Infinity}\n" &&
	hostile number-hex "{\"id\":\"a\",\"n\":0x10}\n" &&
	hostile number-dot "{\"id\":\"a\",\"n\":1.}\n" &&
	hostile single-quotes "{\x27id\x27:\x27a\x27}\n" &&
	hostile comment "{\"id\":\"a\"} // note\n" &&
	hostile trailing-comma "[{\"id\":\"a\"},]" &&
	hostile timestamp-word "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":\"yesterday\"}}\n" &&
	hostile timestamp-object "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":{}}}\n" &&
	hostile timestamp-null "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":null}}\n" &&
	hostile timestamp-empty "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":\"\"}}\n" &&
	hostile timestamp-month-13 "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":\"2026-13-01T00:00:00Z\"}}\n" &&
	hostile timestamp-year-9999 "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":\"9999-01-01T00:00:00Z\"}}\n" &&
	hostile timestamp-huge-number "{\"id\":\"a\",\"_crdt_metadata\":{\"timestamp\":1e300}}\n" &&
	hostile metadata-array "{\"id\":\"a\",\"_crdt_metadata\":[]}\n" &&
	hostile metadata-string "{\"id\":\"a\",\"_crdt_metadata\":\"x\"}\n" &&
	hostile metadata-null "{\"id\":\"a\",\"_crdt_metadata\":null}\n" &&
	hostile metadata-version-string "{\"id\":\"a\",\"_crdt_metadata\":{\"version\":\"2\"}}\n" &&
	hostile metadata-version-fraction "{\"id\":\"a\",\"_crdt_metadata\":{\"version\":1.5}}\n" &&
	hostile metadata-version-huge "{\"id\":\"a\",\"_crdt_metadata\":{\"version\":99999999999999999999}}\n" &&
	hostile metadata-host-number "{\"id\":\"a\",\"_crdt_metadata\":{\"host\":1}}\n" &&
	hostile metadata-deleted-string "{\"id\":\"a\",\"_crdt_metadata\":{\"deleted\":\"yes\"}}\n" &&
	hostile removed-observations-string "{\"_crdt_metadata\":{\"removed_observations\":\"\"}}\n" &&
	hostile removed-observations-numbers "{\"id\":\"k\",\"_crdt_metadata\":{\"removed_observations\":[1]}}\n" &&
	hostile observations-not-strings "{\"type\":\"entity\",\"name\":\"a\",\"entityType\":\"p\",\"observations\":[1]}\n" &&
	{ printf "{\"id\":\"a\",\"x\":" && deep 100000 "[" "]" && printf "}\n"; } >cases/nested-arrays-100000 &&
	{ printf "{\"id\":\"a\",\"x\":" && deep 100000 "{\"a\":" "}" && printf "}\n"; } >cases/nested-objects-100000 &&
	{ printf "[" && deep 100000 "[" "]" && printf "]\n"; } >cases/nested-top-array-100000 &&
	ls cases >list &&
	test "$(wc -l <list)" -ge 60
'

# valid_sides DIR: a git repository DIR with valid sides O, A, B.
valid_sides() {
	git init -q "$1" &&
		entity Alice laptop 10:00:00.000 1 "likes tea" | write_jsonl "$1/O" &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Bob laptop 10:01:00.000 1
		} | write_jsonl "$1/A" &&
		{
			entity Alice laptop 10:00:00.000 1 "likes tea" &&
			entity Carol laptop 10:01:00.000 1
		} | write_jsonl "$1/B"
}

# refused_as SIDE FILE: FILE as SIDE (base, ours or theirs) of a merge in a
# fresh repository: exit 1, one error line naming the side, every input
# untouched, no temporary file left.
refused_as() {
	refused_dir_=$TRASH/run-$1-$(basename "$2") &&
		if ! test -d "$TRASH/template"; then
			valid_sides "$TRASH/template" || return 1
		fi &&
		cp -R "$TRASH/template" "$refused_dir_" &&
		case $1 in
		base) cp "$2" "$refused_dir_/O" ;;
		ours) cp "$2" "$refused_dir_/A" ;;
		theirs) cp "$2" "$refused_dir_/B" ;;
		esac &&
		for f in O A B; do
			cp "$refused_dir_/$f" "$refused_dir_/$f.orig" || return 1
		done &&
		(cd "$refused_dir_" && test_expect_code 1 crdtmem O A B 7 memory-x.json 2>err) &&
		check_one_error_line "$refused_dir_/err" &&
		grep -q "^error: 'memory-x.json' ($1): line [0-9]*, column [0-9]*: " \
			"$refused_dir_/err" &&
		for f in O A B; do
			check_untouched "$refused_dir_/$f" "$refused_dir_/$f.orig" || return 1
		done &&
		for refused_tmp_ in "$refused_dir_"/.*.crdtmem-*; do
			if test -e "$refused_tmp_"; then
				echo "error: a temporary file was left: $refused_tmp_" >&2
				return 1
			fi
		done &&
		rm -rf "$refused_dir_"
}

test_expect_success 'each hostile file as the base is refused cleanly' '
	for f in cases/*; do
		refused_as base "$f" || return 1
	done
'

test_expect_success 'each hostile file as ours is refused; ours is untouched' '
	for f in cases/*; do
		refused_as ours "$f" || return 1
	done
'

test_expect_success 'each hostile file as theirs is refused cleanly' '
	for f in cases/*; do
		refused_as theirs "$f" || return 1
	done
'

test_expect_success 'each hostile file given to join: exit 1, one message, OUT untouched' '
	echo "[]" >out &&
	cp out out.orig &&
	for f in cases/*; do
		test_expect_code 1 crdtmem join -o out "$f" 2>err &&
		check_one_error_line err &&
		grep -q "^error: .*line [0-9]*, column [0-9]*: " err &&
		check_untouched out out.orig || return 1
	done
'

test_expect_success 'non-regular inputs are refused at once: /dev/zero, a FIFO, a folder' '
	valid_sides nr &&
	cd nr &&
	cp A A.orig &&
	mkfifo fifo &&
	mkdir folder &&
	for f in /dev/zero /dev/urandom fifo folder; do
		test_expect_code 1 crdtmem O A "$f" 7 memory-x.json 2>err &&
		check_one_error_line err &&
		grep -q "(theirs): cannot read: " err &&
		check_untouched A A.orig &&
		test_expect_code 1 crdtmem join "$f" 2>err &&
		check_one_error_line err || return 1
	done
'

## Odd but valid

test_expect_success 'numbers are kept exactly as written, even those no double holds' '
	for n in 1e999999 -0 -0.0 1E+2 0.1e-999 123456789012345678901234567890 \
		9007199254740993 -1e-7; do
		printf "{\"id\":\"a\",\"n\":%s}\n" "$n" >num &&
		crdtmem join num >out &&
		test_cmp num out || return 1
	done
'

test_expect_success 'a 100 MB string merges and is kept byte for byte' '
	mb=100 &&
	if test -n "$CRDTMEM_WRAPPER"; then mb=10; fi &&
	valid_sides big &&
	cd big &&
	{
		printf "{\"id\":\"big\",\"content\":\"" &&
		head -c $((mb * 1024 * 1024)) /dev/zero | tr "\\000" x &&
		printf "\"}\n"
	} >big &&
	cat A big >B &&
	crdtmem O A B 7 memory-x.json &&
	test_cmp B A &&
	crdtmem join big >out &&
	test_cmp big out
'

test_expect_success 'a read-only OURS file is replaced atomically and stays read-only' '
	valid_sides ro &&
	cd ro &&
	chmod 444 A &&
	crdtmem O A B 7 memory-x.json &&
	has_entry A Bob &&
	has_entry A Carol &&
	test "$(stat -c %a A)" = 444
'

test_expect_success 'the reuse of base records checks where a record ends (JSONL and array)' '
	git init -q reuse &&
	cd reuse &&
	printf "{\"id\":\"a\"}\n{\"id\":\"b\"}\n" >O &&
	printf "{\"id\":\"a\"}x\n{\"id\":\"b\"}\n" >A &&
	cp O B &&
	cp A A.orig &&
	test_expect_code 1 crdtmem O A B 7 memory-x.json 2>err &&
	check_one_error_line err &&
	grep -q "^error: '\''memory-x.json'\'' (ours): line 1, column 11: " err &&
	check_untouched A A.orig &&
	printf "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n" >O &&
	printf "[\n{\"id\":\"a\"}x,\n{\"id\":\"b\"}\n]\n" >A &&
	cp O B &&
	cp A A.orig &&
	test_expect_code 1 crdtmem O A B 7 memory-x.json 2>err &&
	check_one_error_line err &&
	grep -q "^error: '\''memory-x.json'\'' (ours): line 2, column 11: " err &&
	check_untouched A A.orig
'

test_done
