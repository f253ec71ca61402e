#!/bin/sh
# The README's quick start, run as written in a scratch HOME: a clone of a
# shared repository, crdtmem.host, install, then plain git.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"

# The README calls the installed binary by name.
mkdir "$TRASH/bin" &&
	ln -s "$CRDTMEM_BIN" "$TRASH/bin/git-merge-crdtmem" || exit 2
PATH=$TRASH/bin:$PATH
export PATH

test_expect_success 'setup: a shared repository and the memory server file' '
	git init -q --bare "$HOME/shared.git" &&
	git clone -q "$HOME/shared.git" first 2>/dev/null &&
	echo "Memory backups" >first/README &&
	git -C first add README &&
	test_tick &&
	git -C first commit -q -m "Memory repository" &&
	git -C first push -q origin main &&
	git clone -q "$HOME/shared.git" "$HOME/memory-backup" &&
	mkdir -p "$HOME/.cache/mcp-memory" &&
	{
		live_entity Alice "likes tea" &&
		live_relation Alice knows Bob
	} | write_server_jsonl "$HOME/.cache/mcp-memory/memory.json"
'

test_expect_success 'the quick start, as written' '
	cd ~/memory-backup &&
	git config crdtmem.host laptop &&
	git-merge-crdtmem install &&
	cp ~/.cache/mcp-memory/memory.json memory-laptop.json &&
	git add memory-laptop.json &&
	test_tick &&
	git commit -m "laptop: backup" &&
	git pull && git push &&
	check_memory_clone .
'

test_expect_success 'the README verify examples run' '
	cd ~/memory-backup &&
	git-merge-crdtmem verify --merges HEAD &&
	git-merge-crdtmem verify --merges origin/main..HEAD
'

test_done
