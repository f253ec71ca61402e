#!/bin/sh
# git-merge-crdtmem migrate: a repository written by the earlier Python tool
# (pretty JSON arrays of {"id","content","_crdt_metadata"}) is rewritten in
# canonical form in one commit, every entry and every stamp kept, the
# unified file regenerated as the join; afterwards backups work on it and
# never delete the old entries a live file cannot hold.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

# seed_file HOST OFFSET: memory-HOST.json as the Python tool writes it
# (json.dump(indent=2), datetime.isoformat()), with OFFSET after each
# timestamp: "" for its naive timestamps, "+00:00" for aware ones.
seed_file() {
	cat <<EOF
[
  {
    "id": "$1-m1",
    "content": "User prefers dark mode",
    "_crdt_metadata": {
      "host": "$1",
      "timestamp": "2025-11-21T10:00:00.123456$2",
      "version": 1,
      "unique_id": "6f1c2a9e-0b7d-4c51-9a43-$1-000001"
    }
  },
  {
    "id": "shared",
    "content": "Project codename is $1",
    "_crdt_metadata": {
      "host": "$1",
      "timestamp": "2025-11-21T10:00:0$(test "$1" = laptop && echo 5 || echo 9)$2",
      "version": 2,
      "unique_id": "6f1c2a9e-0b7d-4c51-9a43-$1-000002"
    }
  },
  {
    "id": "$1-m2",
    "content": "Meeting notes: \"quarterly\" review\nsecond line",
    "_crdt_metadata": {
      "host": "$1",
      "timestamp": "2025-11-21T10:00:01$2",
      "version": 1,
      "unique_id": "6f1c2a9e-0b7d-4c51-9a43-$1-000003"
    }
  }
]
EOF
}

# seed_repo NAME OFFSET: a repository as the Python tool left it.
seed_repo() {
	git init -q "$1" &&
		seed_file laptop "$2" >"$1/memory-laptop.json" &&
		seed_file desktop "$2" >"$1/memory-desktop.json" &&
		seed_file laptop "$2" >"$1/unified-memory.json" &&
		git -C "$1" add . &&
		test_tick &&
		git -C "$1" commit -q -m "Backups by the earlier tool"
}

if echo '{"id":"x","content":"y","_crdt_metadata":{"timestamp":"2025-11-21T10:00:00.123456"}}' |
	"$CRDTMEM_BIN" join /dev/stdin >/dev/null 2>&1; then
	test_set_prereq NAIVE_TIMESTAMPS
else
	echo "# the reader refuses naive timestamps (2025-11-21T10:00:00.123456): those checks are skipped"
fi

test_expect_success 'setup: a repository of the earlier tool, with aware timestamps' '
	seed_repo aware +00:00 &&
	git -C aware show HEAD:memory-laptop.json >laptop.seed
'

test_expect_success 'migrate rewrites every memory file in canonical form, in one commit' '
	before=$(git -C aware rev-parse HEAD) &&
	crdtmem migrate --repo aware >out &&
	test "$(git -C aware rev-list --count "$before..HEAD")" = 1 &&
	git -C aware diff --name-only "$before" HEAD >changed &&
	printf "%s\n" memory-desktop.json memory-laptop.json unified-memory.json >expect &&
	test_cmp expect changed &&
	for f in aware/memory-laptop.json aware/memory-desktop.json aware/unified-memory.json; do
		check_valid_canonical "$f" && is_array "$f" || return 1
	done &&
	check_clean aware
'

test_expect_success 'every entry and every stamp is kept, to the byte' '
	check_entry_count aware/memory-laptop.json 3 &&
	grep -q "\"timestamp\":\"2025-11-21T10:00:00.123456+00:00\",\"version\":1,\"unique_id\":\"6f1c2a9e-0b7d-4c51-9a43-laptop-000001\"" aware/memory-laptop.json &&
	grep -q "Meeting notes: \\\\\"quarterly\\\\\" review\\\\nsecond line" aware/memory-laptop.json &&
	crdtmem join laptop.seed >seed.canonical &&
	test_cmp seed.canonical aware/memory-laptop.json
'

test_expect_success 'the unified file is the join: the later "shared" entry wins, nothing is lost' '
	check_entry_count aware/unified-memory.json 5 &&
	entry_line aware/unified-memory.json shared | grep -q "codename is desktop" &&
	crdtmem join --format json aware/memory-*.json >join &&
	test_cmp join aware/unified-memory.json &&
	(cd aware && crdtmem verify -q)
'

test_expect_success 'running it again changes nothing' '
	before=$(git -C aware rev-parse HEAD) &&
	crdtmem migrate --repo aware >out &&
	grep -q "already in canonical form" out &&
	test "$(git -C aware rev-parse HEAD)" = "$before"
'

test_expect_success 'after migrate, a backup of the live file keeps the old entries' '
	git init -q --bare aware-origin.git &&
	git -C aware remote add origin "$TRASH/aware-origin.git" &&
	git -C aware push -q -u origin main &&
	git -C aware config crdtmem.host laptop &&
	crdtmem install -q --repo aware &&
	live_entity Alice "likes tea" | write_server_jsonl live-aware &&
	crdtmem backup -q --repo aware --memory live-aware &&
	has_entry aware/memory-laptop.json laptop-m1 &&
	has_entry aware/memory-laptop.json Alice &&
	has_entry aware/unified-memory.json laptop-m2 &&
	check_memory_clone aware
'

test_expect_success 'a file with one id many times is refused without --force' '
	git init -q dup &&
	{
		echo "[" &&
		seed_file laptop +00:00 | sed -e 1d -e \$d -e "s/\"laptop-m[12]\"/\"same\"/" &&
		echo "]"
	} >dup/memory-laptop.json &&
	git -C dup add . &&
	test_tick &&
	git -C dup commit -q -m seed &&
	test_expect_code 1 crdtmem migrate --repo dup 2>err &&
	grep -q "keys appear more than once" err &&
	test "$(git -C dup rev-list --count HEAD)" = 1 &&
	crdtmem migrate -q --repo dup --force &&
	test "$(git -C dup rev-list --count HEAD)" = 2
'

test_expect_success 'uncommitted changes to a memory file are refused' '
	seed_repo dirty +00:00 &&
	echo >>dirty/memory-laptop.json &&
	test_expect_code 1 crdtmem migrate --repo dirty 2>err &&
	grep -q "memory-laptop.json. has changes that are not committed" err
'

test_expect_success NAIVE_TIMESTAMPS 'the earlier tool'"'"'s naive timestamps: migrated, kept as written' '
	seed_repo naive "" &&
	crdtmem migrate -q --repo naive &&
	grep -q "\"timestamp\":\"2025-11-21T10:00:00.123456\"" naive/memory-laptop.json &&
	check_entry_count naive/unified-memory.json 5 &&
	entry_line naive/unified-memory.json shared | grep -q "codename is desktop" &&
	(cd naive && crdtmem verify -q)
'

test_done
