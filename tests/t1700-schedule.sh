#!/bin/sh
# install --schedule / --unschedule: a crontab line for periodic backups,
# added the safe way (the rest of the crontab kept, every path quoted, a
# marked line that can be removed again, messages logged in a private
# folder), with a fake crontab program that keeps the table in a file.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016,SC1003

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

mkdir "$TRASH/bin" &&
	cat >"$TRASH/bin/crontab" <<-\EOF &&
	#!/bin/sh
	# A fake crontab: the table lives in $FAKE_CRONTAB.
	case $1 in
	-l)
		if test -f "$FAKE_CRONTAB"; then
			cat "$FAKE_CRONTAB"
		else
			echo "no crontab for $(id -un)" >&2
			exit 1
		fi
		;;
	-)
		cat >"$FAKE_CRONTAB.new" && mv "$FAKE_CRONTAB.new" "$FAKE_CRONTAB"
		;;
	*)
		echo "fake crontab: $*?" >&2
		exit 2
		;;
	esac
	EOF
	chmod +x "$TRASH/bin/crontab" || exit 2
FAKE_CRONTAB=$TRASH/crontab.txt
PATH=$TRASH/bin:$PATH
export FAKE_CRONTAB PATH

# shellcheck disable=SC2034 # used in the checks
STATE=$HOME/.local/state/git-merge-crdtmem

test_expect_success 'setup: a clone whose folder name has a space and a quote' '
	setup_backup sc laptop &&
	mv sc/laptop "sc/my o'"'"'repo" &&
	live_entity Alice "likes tea" | write_server_jsonl "sc/live 100%" &&
	printf "%s\n" "MAILTO=me@example.com" "0 4 * * * /usr/bin/true # mine" >"$FAKE_CRONTAB"
'

test_expect_success 'install --schedule adds one marked line and keeps the rest of the crontab' '
	cd sc &&
	crdtmem install --repo "my o'"'"'repo" --schedule --memory "live 100%" >out &&
	grep -q "scheduled a backup" out &&
	test "$(wc -l <"$FAKE_CRONTAB")" = 3 &&
	grep -q -x "MAILTO=me@example.com" "$FAKE_CRONTAB" &&
	grep -q -x "0 4 \* \* \* /usr/bin/true # mine" "$FAKE_CRONTAB" &&
	grep "# git-merge-crdtmem backup of $TRASH/sc/my o'"'"'repo\$" "$FAKE_CRONTAB" >line &&
	grep -q "^\*/30 \* \* \* \* " line &&
	grep -q " backup -q --repo '"'"'$TRASH/sc/my o'"'"'\\\\'"'"''"'"'repo'"'"' " line &&
	grep -q -- "--memory '"'"'$TRASH/sc/live 100\\\\%'"'"' " line &&
	test "$(stat -c %a "$STATE")" = 700
'

test_expect_success 'the scheduled line, run as cron runs it, backs up and logs privately' '
	cd sc &&
	cmd=$(sed -n "s/^\*\/30 \* \* \* \* \(.*\)/\1/p" "$FAKE_CRONTAB" | sed "s/\\\\%/%/g") &&
	env -i HOME="$HOME" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=cron GIT_AUTHOR_EMAIL=c@e \
		GIT_COMMITTER_NAME=cron GIT_COMMITTER_EMAIL=c@e sh -c "$cmd" &&
	has_entry "my o'"'"'repo/memory-laptop.json" Alice &&
	test -f "$STATE/cron.log" &&
	log_lines backup | tail -n 1 | grep -q "result=ok"
'

test_expect_success 'scheduling again replaces the line (a new time), never adds a second' '
	cd sc &&
	crdtmem install -q --repo "my o'"'"'repo" --schedule="0 * * * *" --memory "live 100%" &&
	test "$(grep -c "# git-merge-crdtmem backup of" "$FAKE_CRONTAB")" = 1 &&
	grep -q "^0 \* \* \* \* " "$FAKE_CRONTAB" &&
	crdtmem install --repo "my o'"'"'repo" --schedule="0 * * * *" --memory "live 100%" >out &&
	grep -q "already scheduled" out
'

test_expect_success 'a cron time that is not one is a usage error' '
	cd sc &&
	test_expect_code 2 crdtmem install --repo "my o'"'"'repo" --schedule="* * *" --memory x &&
	test_expect_code 2 crdtmem install --repo "my o'"'"'repo" --schedule="$(printf "0 * * * *\nx")" --memory x &&
	test_expect_code 2 crdtmem install --global --schedule
'

test_expect_success 'without --memory or MEMORY_FILE_PATH, the message says what to pass' '
	cd sc &&
	(
		unset MEMORY_FILE_PATH &&
		test_expect_code 1 crdtmem install --repo "my o'"'"'repo" --schedule 2>err
	) &&
	grep -q "pass --memory FILE" err
'

test_expect_success '--unschedule removes our line only' '
	cd sc &&
	crdtmem install -q --repo "my o'"'"'repo" --unschedule &&
	printf "%s\n" "MAILTO=me@example.com" "0 4 * * * /usr/bin/true # mine" >expect &&
	test_cmp expect "$FAKE_CRONTAB" &&
	crdtmem install --repo "my o'"'"'repo" --unschedule >out &&
	grep -q "nothing changed" out
'

test_expect_success 'without a crontab program: refused with a clear message' '
	cd sc &&
	mkdir nocron &&
	for tool in git sh cat; do
		ln -s "$(command -v $tool)" nocron/$tool || return 1
	done &&
	PATH=$PWD/nocron test_expect_code 1 "$CRDTMEM_BIN" install --repo "my o'"'"'repo" \
		--schedule --memory "live 100%" 2>err &&
	grep -q "the crontab program is not installed" err
'

test_done
