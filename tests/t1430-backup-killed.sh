#!/bin/sh
# backup killed with SIGKILL at random points (cron's timeout, a shutdown):
# the clone stays usable, the memory file is valid, the next backup undoes a
# rebase the killed one left half done and finishes the job, and nothing the
# live file held is lost; a full disk stops it cleanly. CRDTMEM_KILLS sets
# how many kills (default 8).

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

KILLS=${CRDTMEM_KILLS:-8}

# add_live CLONE NAME: one more entity in CLONE's live file (run in TOP).
add_live() {
	{
		cat "live-$1" && echo &&
			live_entity "$2" "from $1"
	} | grep -v '^$' | write_server_jsonl "live-$1.new" &&
		mv "live-$1.new" "live-$1"
}

# settle CLONE: wait (up to 10 s) for git commands the killed backup had
# started to finish: they run in process groups of their own and outlive it.
settle() {
	settle_n_=0
	while test -e "$1/.git/index.lock" || ! test -e "$1/memory-$1.json"; do
		settle_n_=$((settle_n_ + 1))
		test $settle_n_ -le 50 || return 1
		sleep 0.2
	done
	sleep 0.3
}

test_expect_success 'setup: two clones, desktop backs up often so pushes race' '
	setup_backup kb laptop desktop &&
	cd kb &&
	live_entity Alice "first" | write_server_jsonl live-laptop &&
	backup_of laptop &&
	live_entity Dora "first" | write_server_jsonl live-desktop &&
	backup_of desktop
'

test_expect_success "$KILLS backups killed at random points lose nothing" '
	cd kb &&
	i=0 &&
	killed=0 &&
	while test $i -lt $KILLS; do
		i=$((i + 1)) &&
		{
			cat live-laptop && echo &&
			live_entity "Lap$i" "entry $i"
		} | grep -v "^$" | write_server_jsonl live-laptop.new &&
		mv live-laptop.new live-laptop &&
		{
			cat live-desktop && echo &&
			live_entity "Desk$i" "entry $i"
		} | grep -v "^$" | write_server_jsonl live-desktop.new &&
		mv live-desktop.new live-desktop &&
		backup_of desktop &&
		{ crdtmem backup -q --repo laptop --memory live-laptop >/dev/null 2>&1 & } &&
		pid=$! &&
		sleep "0.$(awk -v s=$i "BEGIN { srand(s); printf \"%03d\", int(rand() * 600) }")" &&
		{ kill -9 "$pid" 2>/dev/null && killed=$((killed + 1)) || :; } &&
		{ wait "$pid" 2>/dev/null || :; } &&
		settle laptop &&
		crdtmem join laptop/memory-laptop.json >/dev/null &&
		git -C laptop status --porcelain >/dev/null &&
		{ backup_of laptop 2>err || {
			cat err
			return 1
		}; } &&
		cat err >>all-err
	done &&
	echo "killed $killed of $KILLS backups; $(grep -c "undid the rebase" all-err) rebases left half done were undone" &&
	git --git-dir=origin.git show main:unified-memory.json >pushed &&
	j=0 &&
	while test $j -lt $KILLS; do
		j=$((j + 1)) &&
		has_entry pushed "Lap$j" &&
		has_entry pushed "Desk$j" || return 1
	done &&
	has_entry pushed Alice &&
	has_entry pushed Dora &&
	git -C laptop pull -q &&
	check_memory_clone laptop
'

test_expect_success 'a rebase left half done by a killed backup is undone by the next one' '
	cd kb &&
	add_live desktop Zoe &&
	backup_of desktop &&
	add_live laptop Yan &&
	backup_of laptop --no-push &&
	git -C laptop fetch -q &&
	GIT_SEQUENCE_EDITOR="sed -i 1ibreak" git -C laptop rebase -q -i origin/main &&
	test -d laptop/.git/rebase-merge &&
	: >laptop/.git/crdtmem/backup-rebase &&
	backup_of laptop 2>err &&
	grep -q "^warning: undid the rebase an interrupted backup left in" err &&
	! test -d laptop/.git/rebase-merge &&
	git --git-dir=origin.git show main:unified-memory.json >pushed &&
	has_entry pushed Yan &&
	has_entry pushed Zoe
'

test_expect_success 'a rebase a person started is left alone, with a message that says so' '
	cd kb &&
	add_live desktop Xia &&
	backup_of desktop &&
	git -C laptop commit -q --allow-empty -m "a person works here" &&
	git -C laptop fetch -q &&
	GIT_SEQUENCE_EDITOR="sed -i 1ibreak" git -C laptop rebase -q -i origin/main &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "^error: a rebase is in progress in" err &&
	test -d laptop/.git/rebase-merge &&
	git -C laptop rebase --abort
'

test_expect_success 'a file size limit (a full disk) stops backup cleanly; nothing is lost' '
	cd kb &&
	{
		cat live-laptop && echo &&
		live_entity Wes "a long observation that makes the file bigger than the limit"
	} | grep -v "^$" | write_server_jsonl live-laptop.new &&
	mv live-laptop.new live-laptop &&
	cp live-laptop live.before &&
	cp laptop/memory-laptop.json host.before &&
	head=$(git -C laptop rev-parse HEAD) &&
	test_must_fail sh -c "ulimit -f 2 && exec \"\$0\" backup -q --repo laptop --memory live-laptop" \
		"$CRDTMEM_BIN" 2>err &&
	grep -q "^error: " err &&
	test_cmp live.before live-laptop &&
	if test "$(git -C laptop rev-parse HEAD)" = "$head"; then
		test_cmp host.before laptop/memory-laptop.json
	else
		crdtmem join laptop/memory-laptop.json >/dev/null
	fi &&
	! ls laptop/.*.crdtmem-* 2>/dev/null &&
	backup_of laptop &&
	git --git-dir=origin.git show main:unified-memory.json >pushed &&
	has_entry pushed Wes
'

test_done
