#!/bin/sh
# backup when things go wrong: an unreachable remote, pushes rejected again
# and again, a git call that hangs, a second backup of the same clone, no
# remote. The local commit is always kept, the message says what happened,
# the exit status is 1, and a later backup finishes the job.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

# add_entity CLONE NAME: one more entity in CLONE's live file (run in TOP).
add_entity() {
	{
		if test -s "live-$1"; then
			cat "live-$1" && echo
		fi &&
			live_entity "$2" "from $1"
	} | grep -v '^$' | write_server_jsonl "live-$1.new" &&
		mv "live-$1.new" "live-$1"
}

test_expect_success 'setup' '
	setup_backup ft laptop desktop &&
	cd ft &&
	add_entity laptop Alice &&
	backup_of laptop &&
	git -C desktop pull -q
'

test_expect_success 'an unreachable remote: the commit is kept, exit 1, and the next backup pushes it' '
	cd ft &&
	url=$(git -C laptop remote get-url origin) &&
	git -C laptop remote set-url origin "$TRASH/nowhere.git" &&
	add_entity laptop Bob &&
	test_expect_code 1 backup_of laptop 2>err &&
	grep -q "cannot fetch from .origin." err &&
	grep -q "the backup commit is kept" err &&
	has_entry laptop/memory-laptop.json Bob &&
	git -C laptop log -1 --format=%s | grep -q "1 added" &&
	log_lines backup | tail -n 1 | grep -q "commit=yes pushed=no .*result=failed" &&
	git -C laptop remote set-url origin "$url" &&
	backup_of laptop &&
	git --git-dir=origin.git show main:memory-laptop.json >pushed &&
	has_entry pushed Bob
'

test_expect_success 'setup: a remote whose pre-receive hook refuses the first pushes' '
	mkdir -p ft/origin.git/hooks &&
	cat >ft/origin.git/hooks/pre-receive <<-\EOF &&
	#!/bin/sh
	n=$(cat "$GIT_DIR/refusals-left" 2>/dev/null || echo 0)
	if test "$n" -gt 0; then
		echo $((n - 1)) >"$GIT_DIR/refusals-left"
		echo "busy, try again" >&2
		exit 1
	fi
	EOF
	chmod +x ft/origin.git/hooks/pre-receive
'

test_expect_success 'a push rejected three times is tried again until it goes through' '
	cd ft &&
	echo 3 >origin.git/refusals-left &&
	add_entity laptop Carol &&
	backup_of laptop &&
	log_lines backup | tail -n 1 | grep -q "pushed=yes tries=4 .*result=ok" &&
	git --git-dir=origin.git show main:memory-laptop.json >pushed &&
	has_entry pushed Carol
'

test_expect_success 'a push rejected more often than --retries: exit 1, commit kept, then pushed later' '
	cd ft &&
	echo 100 >origin.git/refusals-left &&
	add_entity laptop Dave &&
	test_expect_code 1 backup_of laptop --retries 2 2>err &&
	grep -q "was rejected 2 times" err &&
	grep -q "the backup commit is kept" err &&
	has_entry laptop/memory-laptop.json Dave &&
	echo 0 >origin.git/refusals-left &&
	backup_of laptop &&
	git --git-dir=origin.git show main:memory-laptop.json >pushed &&
	has_entry pushed Dave
'

test_expect_success 'concurrent pushes from another machine between tries are rebased onto' '
	cd ft &&
	echo 2 >origin.git/refusals-left &&
	add_entity desktop Erin &&
	backup_of desktop &&
	add_entity laptop Fay &&
	backup_of laptop &&
	has_entry laptop/unified-memory.json Erin &&
	has_entry laptop/unified-memory.json Fay &&
	check_memory_clone laptop
'

test_expect_success 'a push that hangs is stopped by --timeout, and the message says so' '
	cd ft &&
	mv origin.git/hooks/pre-receive origin.git/hooks/pre-receive.off &&
	printf "#!/bin/sh\nsleep 60\n" >origin.git/hooks/pre-receive &&
	chmod +x origin.git/hooks/pre-receive &&
	add_entity laptop Gus &&
	start=$(date +%s) &&
	test_expect_code 1 backup_of laptop --timeout 2 2>err &&
	test $(($(date +%s) - start)) -lt 20 &&
	grep -q "no answer within 2 s" err &&
	has_entry laptop/memory-laptop.json Gus &&
	rm origin.git/hooks/pre-receive &&
	backup_of laptop
'

test_expect_success 'a fetch that hangs (an ssh that never answers) is stopped too' '
	cd ft &&
	url=$(git -C laptop remote get-url origin) &&
	git -C laptop remote set-url origin "ssh://nowhere.invalid/memory.git" &&
	add_entity laptop Hal &&
	start=$(date +%s) &&
	printf "#!/bin/sh\nsleep 60\n" >slow-ssh &&
	chmod +x slow-ssh &&
	GIT_SSH_COMMAND=$PWD/slow-ssh test_expect_code 1 backup_of laptop --timeout 2 2>err &&
	test $(($(date +%s) - start)) -lt 20 &&
	grep -q "cannot fetch from .origin.: no answer within the timeout" err &&
	git -C laptop remote set-url origin "$url" &&
	backup_of laptop
'

test_expect_success 'a second backup of the same clone waits for the lock, then gives up' '
	cd ft &&
	{
		sleep 60 &
		echo $! >holder
	} &&
	holder=$(cat holder) &&
	echo "$holder" >laptop/.git/crdtmem/backup.lock &&
	add_entity laptop Ivy &&
	test_expect_code 1 backup_of laptop --timeout 1 2>err &&
	grep -q "is locked by process $holder" err &&
	kill "$holder" &&
	{ wait "$holder" 2>/dev/null || :; } &&
	lacks_entry laptop/memory-laptop.json Ivy &&
	backup_of laptop 2>err &&
	grep -q "removing the stale lock" err &&
	has_entry laptop/memory-laptop.json Ivy
'

test_expect_success 'no remote: refused with a hint, and --no-push commits only' '
	cd ft &&
	git clone -q origin.git lone &&
	git -C lone config crdtmem.host lone &&
	crdtmem install -q --repo lone &&
	git -C lone remote remove origin &&
	add_entity lone Jo &&
	test_expect_code 1 backup_of lone 2>err &&
	grep -q "has no remote .origin." err &&
	grep -q -- "--no-push" err &&
	backup_of lone --no-push &&
	has_entry lone/memory-lone.json Jo
'

test_expect_success 'a detached HEAD is refused unless --no-push' '
	cd ft &&
	git -C lone checkout -q --detach &&
	add_entity lone Kim &&
	test_expect_code 1 backup_of lone 2>err &&
	grep -q "detached HEAD" err &&
	backup_of lone --no-push &&
	has_entry lone/memory-lone.json Kim
'

test_done
