#!/bin/sh
# A memory file with bad JSON on one side of a git merge: the driver exits 1
# (git records a conflict), prints one error line naming the side, the path,
# the line and the column, leaves %A (ours) exactly as it was, and keeps the
# three inputs under $GIT_DIR/crdtmem/failed/<time>-<pid>/.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# broken_file NAME: a JSON array whose line 3 lacks a comma.
broken_file() {
	echo "[" &&
		entity Alice laptop 10:00:00.000 1 "likes tea" | sed "s/\$/,/" &&
		echo "{\"type\":\"entity\",\"name\":\"$1\" \"entityType\":\"person\",\"observations\":[]}" &&
		echo "]"
}

test_expect_success 'setup: laptop pushes a broken memory-laptop.json, desktop edits it validly' '
	setup_repos bad &&
	cd bad &&
	entity Alice laptop 10:00:00.000 1 "likes tea" |
		write_array laptop/memory-laptop.json &&
	commit_all laptop "base" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	broken_file Bob >laptop/memory-laptop.json &&
	commit_all laptop "laptop: hand-edited, broken" &&
	git -C laptop push -q &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol desktop 10:02:00.000 1
	} | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Carol"
'

test_expect_success 'git pull stops with the file unmerged' '
	cd bad/desktop &&
	test_tick &&
	test_must_fail git pull >../pull.out 2>../pull.err &&
	git ls-files -u memory-laptop.json >../unmerged &&
	test_file_lines ../unmerged 3
'

test_expect_success 'the driver printed one error line naming theirs, the path, line and column' '
	grep "^error: " bad/pull.err >errors &&
	test_file_lines errors 1 &&
	grep -E "^error: '\''memory-laptop\.json'\'' \(theirs\): line 3, column [0-9]+: [^ ]" errors
'

test_expect_success 'the work tree holds ours, untouched (no markers, no partial merge)' '
	cd bad/desktop &&
	git cat-file blob HEAD:memory-laptop.json >../ours &&
	test_cmp ../ours memory-laptop.json
'

test_expect_success 'the three inputs and the path are saved under $GIT_DIR/crdtmem/failed/' '
	cd bad/desktop &&
	ls .git/crdtmem/failed >../saved &&
	test_file_lines ../saved 1 &&
	dir=.git/crdtmem/failed/$(cat ../saved) &&
	base=$(git merge-base HEAD MERGE_HEAD) &&
	git cat-file blob "$base:memory-laptop.json" >../expect.base &&
	git cat-file blob HEAD:memory-laptop.json >../expect.ours &&
	git cat-file blob MERGE_HEAD:memory-laptop.json >../expect.theirs &&
	test_cmp ../expect.base "$dir/base" &&
	test_cmp ../expect.ours "$dir/ours" &&
	test_cmp ../expect.theirs "$dir/theirs" &&
	grep -qxF memory-laptop.json "$dir/path"
'

test_expect_success 'the saved folder is named <UTC time>-<pid>' '
	cd bad/desktop &&
	ls .git/crdtmem/failed | grep -qE "^[0-9][0-9TZ:.-]*-[0-9]+\$"
'

test_expect_success 'git merge --abort brings desktop back to its own commit' '
	cd bad/desktop &&
	git merge --abort &&
	check_no_conflict . &&
	check_clean . &&
	has_entry memory-laptop.json Carol
'

test_expect_success 'broken JSON on our side: git merge stops, the error names ours' '
	laptop_pushed_bob badours &&
	broken_file Carol >desktop/memory-laptop.json &&
	commit_all desktop "desktop: hand-edited, broken" &&
	git -C desktop fetch -q &&
	test_tick &&
	test_must_fail git -C desktop merge origin/main >merge.out 2>merge.err &&
	grep "^error: " merge.err >errors &&
	test_file_lines errors 1 &&
	grep -E "^error: '\''memory-laptop\.json'\'' \(ours\): line 3, column [0-9]+: " errors &&
	git -C desktop cat-file blob HEAD:memory-laptop.json >ours &&
	test_cmp ours desktop/memory-laptop.json &&
	test -d desktop/.git/crdtmem/failed
'

test_done
