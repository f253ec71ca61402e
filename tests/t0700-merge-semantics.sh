#!/bin/sh
# What a merge through git keeps, entry by entry: observation sets are
# merged, the newest stamp wins (by instant, not by string), a newer
# tombstone beats an older edit, an edit beats a plain deletion, relations
# and seed-format entries are unioned, and the file keeps its format.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# scenario TOP FILE WRITER: in $TRASH/TOP, FILE starts as the entries of
# $TRASH/TOP.base (committed and shared); laptop commits $TRASH/TOP.laptop
# and pushes; desktop commits $TRASH/TOP.desktop and runs git pull, which
# must finish without a conflict and leave a canonical FILE. WRITER is
# write_array, write_jsonl or write_server_jsonl.
scenario() {
	setup_repos "$1" &&
		"$3" "$TRASH/$1/laptop/$2" <"$TRASH/$1.base" &&
		commit_all "$TRASH/$1/laptop" "base" &&
		git -C "$TRASH/$1/laptop" push -q &&
		git -C "$TRASH/$1/desktop" pull -q &&
		"$3" "$TRASH/$1/laptop/$2" <"$TRASH/$1.laptop" &&
		commit_all "$TRASH/$1/laptop" "laptop's edit" &&
		git -C "$TRASH/$1/laptop" push -q &&
		"$3" "$TRASH/$1/desktop/$2" <"$TRASH/$1.desktop" &&
		commit_all "$TRASH/$1/desktop" "desktop's edit" &&
		test_tick &&
		git -C "$TRASH/$1/desktop" pull &&
		check_no_conflict "$TRASH/$1/desktop" &&
		check_clean "$TRASH/$1/desktop" &&
		check_valid_canonical "$TRASH/$1/desktop/$2"
}

test_expect_success 'observations added on both sides: the pull merges cleanly' '
	entity Alice laptop 10:00:00.000 1 "likes tea" >obs.base &&
	entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" >obs.laptop &&
	entity Alice desktop 10:02:00.000 2 "likes tea" "speaks french" >obs.desktop &&
	scenario obs memory-laptop.json write_array
'

test_expect_success 'observations added on both sides are unioned, newest metadata kept' '
	entity Alice desktop 10:02:00.000 2 "likes tea" "plays chess" "speaks french" >expect &&
	entry_line obs/desktop/memory-laptop.json Alice >actual &&
	test_cmp expect actual
'

test_expect_success 'an observation removed on one side, another added on the other: clean pull' '
	entity Alice laptop 10:00:00.000 1 "likes tea" "plays chess" >obsrm.base &&
	entity Alice laptop 10:01:00.000 2 "likes tea" >obsrm.laptop &&
	entity Alice desktop 10:02:00.000 2 "likes tea" "plays chess" "speaks french" >obsrm.desktop &&
	scenario obsrm memory-laptop.json write_array
'

test_expect_success 'the removed observation stays removed, the added one is kept' '
	f=obsrm/desktop/memory-laptop.json &&
	lacks_observation $f Alice "plays chess" &&
	has_observation $f Alice "likes tea" &&
	has_observation $f Alice "speaks french" &&
	entry_line $f Alice | grep -q "\"removed_observations\":\[\"plays chess\"\]"
'

test_expect_success 'a newer tombstone pulled in against an older edit: clean pull' '
	entity Alice laptop 10:00:00.000 1 "likes tea" >tombt.base &&
	tombstone Alice laptop 10:05:00.000 2 "likes tea" >tombt.laptop &&
	entity Alice desktop 10:03:00.000 2 "likes tea" "plays chess" >tombt.desktop &&
	scenario tombt memory-laptop.json write_array
'

test_expect_success 'the newer tombstone (theirs) beats the older edit (ours)' '
	f=tombt/desktop/memory-laptop.json &&
	is_tombstone $f Alice &&
	entry_line $f Alice | grep -q "\"host\":\"laptop\",\"timestamp\":\"2026-11-21T10:05:00.000Z\""
'

test_expect_success 'a newer local tombstone against an older pulled edit: clean pull' '
	entity Alice laptop 10:00:00.000 1 "likes tea" >tombo.base &&
	entity Alice laptop 10:03:00.000 2 "likes tea" "plays chess" >tombo.laptop &&
	tombstone Alice desktop 10:05:00.000 2 "likes tea" >tombo.desktop &&
	scenario tombo memory-laptop.json write_array
'

test_expect_success 'the newer tombstone (ours) beats the older edit (theirs)' '
	f=tombo/desktop/memory-laptop.json &&
	is_tombstone $f Alice &&
	entry_line $f Alice | grep -q "\"host\":\"desktop\",\"timestamp\":\"2026-11-21T10:05:00.000Z\""
'

test_expect_success 'an older tombstone against a newer edit: clean pull' '
	entity Alice laptop 10:00:00.000 1 "likes tea" >tombold.base &&
	tombstone Alice laptop 10:03:00.000 2 "likes tea" >tombold.laptop &&
	entity Alice desktop 10:05:00.000 2 "likes tea" "plays chess" >tombold.desktop &&
	scenario tombold memory-laptop.json write_array
'

test_expect_success 'the newer edit beats the older tombstone: the entity is live' '
	f=tombold/desktop/memory-laptop.json &&
	has_entry $f Alice &&
	has_observation $f Alice "plays chess"
'

test_expect_success 'a plain line deletion (theirs) against an edit (ours): clean pull' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1 "likes tea"
	} >deledit.base &&
	entity Alice laptop 10:00:00.000 1 >deledit.laptop &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob desktop 10:02:00.000 2 "likes tea" "plays chess"
	} >deledit.desktop &&
	scenario deledit memory-laptop.json write_array
'

test_expect_success 'the edit (ours) beats the plain deletion (theirs)' '
	entity Bob desktop 10:02:00.000 2 "likes tea" "plays chess" >expect &&
	entry_line deledit/desktop/memory-laptop.json Bob >actual &&
	test_cmp expect actual
'

test_expect_success 'an edit (theirs) against a plain line deletion (ours): clean pull' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1 "likes tea"
	} >editdel.base &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:02:00.000 2 "likes tea" "plays chess"
	} >editdel.laptop &&
	entity Alice laptop 10:00:00.000 1 >editdel.desktop &&
	scenario editdel memory-laptop.json write_array
'

test_expect_success 'the edit (theirs) beats the plain deletion (ours)' '
	entity Bob laptop 10:02:00.000 2 "likes tea" "plays chess" >expect &&
	entry_line editdel/desktop/memory-laptop.json Bob >actual &&
	test_cmp expect actual
'

test_expect_success 'a plain deletion of an entry the other side left alone: clean pull' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1
	} >del.base &&
	entity Alice laptop 10:00:00.000 1 >del.laptop &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1 &&
		entity Carol desktop 10:02:00.000 1
	} >del.desktop &&
	scenario del memory-laptop.json write_array
'

test_expect_success 'the deletion takes effect and the other side'\''s addition stays' '
	f=del/desktop/memory-laptop.json &&
	lacks_entry $f Bob &&
	has_entry $f Alice &&
	has_entry $f Carol
'

test_expect_success 'seed-format entries edited on both sides: clean pull' '
	seed_entry x1 "first" laptop 10:00:00.000 1 >seed.base &&
	{
		seed_entry x1 "from laptop" laptop 10:05:00 2 &&
		seed_entry x2 "laptop note" laptop 10:05:00 1
	} >seed.laptop &&
	{
		seed_entry x1 "from desktop" desktop 10:05:00.500 2 &&
		seed_entry x3 "desktop note" desktop 10:05:00.500 1
	} >seed.desktop &&
	scenario seed memory-laptop.json write_array
'

test_expect_success 'the newer instant wins though its timestamp string sorts lower' '
	f=seed/desktop/memory-laptop.json &&
	entry_line $f x1 | grep -q "\"content\":\"from desktop\""
'

test_expect_success 'seed-format entries added on both sides are all kept' '
	f=seed/desktop/memory-laptop.json &&
	has_entry $f x1 &&
	has_entry $f x2 &&
	has_entry $f x3 &&
	check_entry_count $f 3
'

test_expect_success 'relations added on both sides: clean pull' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1
	} >rel.base &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1 &&
		relation Alice knows Bob laptop 10:01:00.000 1
	} >rel.laptop &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:00:00.000 1 &&
		relation Bob mentors Alice desktop 10:02:00.000 1
	} >rel.desktop &&
	scenario rel unified-memory.json write_jsonl
'

test_expect_success 'both relations are kept' '
	f=rel/desktop/unified-memory.json &&
	has_relation $f Alice knows Bob &&
	has_relation $f Bob mentors Alice &&
	check_entry_count $f 4
'

test_expect_success 'server-format JSONL (no final newline) on both sides: clean pull' '
	entity Alice laptop 10:00:00.000 1 >jsonl.base &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:01:00.000 1
	} >jsonl.laptop &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Carol desktop 10:02:00.000 1
	} >jsonl.desktop &&
	scenario jsonl memory-laptop.json write_server_jsonl
'

test_expect_success 'a JSONL file stays JSONL (canonical: one entry a line, final newline)' '
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:01:00.000 1 &&
		entity Carol desktop 10:02:00.000 1
	} >expect &&
	test_cmp expect jsonl/desktop/memory-laptop.json
'

test_expect_success 'a JSON array file stays a JSON array' '
	is_array obs/desktop/memory-laptop.json &&
	is_array seed/desktop/memory-laptop.json
'

test_expect_success 'a file holding one entity twice: clean pull' '
	entity Alice laptop 10:00:00.000 1 "likes tea" >dup.base &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" &&
		entity Bob laptop 10:01:00.000 1
	} >dup.laptop &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1
	} >dup.desktop &&
	scenario dup memory-laptop.json write_jsonl
'

test_expect_success 'the duplicate is joined into one entry, nothing dropped' '
	f=dup/desktop/memory-laptop.json &&
	has_entry $f Alice &&
	has_observation $f Alice "plays chess" &&
	has_entry $f Bob &&
	has_entry $f Carol &&
	check_entry_count $f 3
'

test_done
