#!/bin/sh
# Many machines backing up at the same time into one bare repository: N
# clones (one host each) each run M backups concurrently with the others,
# every backup adding, editing and deleting entries of its own live file
# and replacing its own observation on one shared entity. At the end every
# clone holds the same unified file, the join of the host files, with
# exactly every host's final live state: nothing lost, nothing resurrected,
# nothing twice.
#
#	CRDTMEM_PARALLEL_CLONES (default 4), CRDTMEM_PARALLEL_BACKUPS (default 5)
#
# "make stress" runs it with 10 clones of 20 backups each and prints the
# retries and the time taken.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

CLONES=${CRDTMEM_PARALLEL_CLONES:-4}
BACKUPS=${CRDTMEM_PARALLEL_BACKUPS:-5}
export CLONES BACKUPS

# gen_live HOST STEP FILE: HOST's live memory after STEP backups. Step k
# adds HOST-k ("made k"); step k+1 edits it ("edited k+1") and, for every
# third k, deletes it; HOST-1 knows HOST-2 from step 2 on; the entity
# Shared holds one observation per host, replaced at every step.
gen_live() {
	gen_k_=1
	{
		while test "$gen_k_" -le "$2"; do
			if test "$gen_k_" -lt "$2"; then
				if test $((gen_k_ % 3)) != 0; then
					live_entity "$1-$gen_k_" "made $gen_k_" "edited $((gen_k_ + 1))" || return 1
				fi
			else
				live_entity "$1-$gen_k_" "made $gen_k_" || return 1
			fi
			gen_k_=$((gen_k_ + 1))
		done
		live_entity Shared "$1 was here $2" &&
			if test "$2" -ge 2; then
				live_relation "$1-1" knows "$1-2"
			fi
	} | write_server_jsonl "$3"
}

test_expect_success "setup: $CLONES clones of one bare repository" '
	i=1 &&
	names= &&
	while test $i -le $CLONES; do
		names="$names m$i" &&
		i=$((i + 1)) || return 1
	done &&
	echo "$names" >names &&
	setup_backup par $names
'

test_expect_success "every clone runs $BACKUPS backups at the same time as the others" '
	cd par &&
	start=$(date +%s) &&
	for m in $(cat ../names); do
		(
			k=1 &&
			while test $k -le $BACKUPS; do
				gen_live "$m" $k "live-$m" &&
				if ! backup_of "$m" 2>>"err-$m"; then
					echo "$m $k" >>"$TRASH/failed-backups"
				fi &&
				k=$((k + 1)) || exit 1
			done
		) &
	done &&
	wait &&
	# Backups that gave up (too many rejections) kept their commit: push now.
	for m in $(cat ../names); do
		backup_of "$m" || return 1
	done &&
	for m in $(cat ../names); do
		git -C "$m" pull -q || return 1
	done &&
	end=$(date +%s) &&
	tries=$(log_lines backup | sed -n "s/.* tries=\([0-9]*\) .*/\1/p" | awk "{ s += \$1 } END { print s + 0 }") &&
	runs=$(log_lines backup | wc -l) &&
	most=$(log_lines backup | sed -n "s/.* tries=\([0-9]*\) .*/\1/p" | sort -n | tail -n 1) &&
	echo "stats: $CLONES clones x $BACKUPS backups: $runs runs, $((tries - runs)) retries" \
		"(at most $most tries in one run), $(cat "$TRASH/failed-backups" 2>/dev/null | wc -l)" \
		"gave up (their commits pushed by a later backup), $((end - start)) s" |
		tee "$TRASH/stats" &&
	cat err-* | sed "s/[0-9a-f]\{40\}/<id>/g" | sort | uniq -c | sort -rn | head -n 5
'

test_expect_success 'every clone holds the same unified file, the join of the host files' '
	cd par &&
	first= &&
	for m in $(cat ../names); do
		check_memory_clone "$m" &&
		if test -z "$first"; then
			first=$m
		else
			test_cmp "$first/unified-memory.json" "$m/unified-memory.json"
		fi || return 1
	done
'

test_expect_success 'the unified file holds every entry once' '
	cd par &&
	m1=$(cut -d " " -f 2 ../names) &&
	echo "stats: unified-memory.json: $(count_entries "$m1/unified-memory.json") entries," \
		"$(grep -c "\"deleted\":true" "$m1/unified-memory.json") of them tombstones" &&
	crdtmem join "$m1/unified-memory.json" >once &&
	test_cmp once "$m1/unified-memory.json"
'

test_expect_success 'each host file restores to exactly its final live file' '
	cd par &&
	m1=$(cut -d " " -f 2 ../names) &&
	for m in $(cat ../names); do
		crdtmem restore --repo "$m1" --host "$m" --to - >"restored-$m" &&
		check_same_set "live-$m" "restored-$m" || return 1
	done
'

test_expect_success 'the unified memory is every final live file, Shared holding each host once' '
	cd par &&
	m1=$(cut -d " " -f 2 ../names) &&
	crdtmem restore --repo "$m1" --to - >restored-all &&
	check_server_format restored-all &&
	shared= &&
	for m in $(cat ../names); do
		shared="$shared|$m was here $BACKUPS" &&
		{ cat "live-$m" && echo; } | grep -v -e "^$" -e "\"name\":\"Shared\"" || return 1
	done >expect-all &&
	(
		IFS="|" &&
		live_entity Shared ${shared#|}
	) >>expect-all &&
	check_same_set expect-all restored-all &&
	test "$(grep -c "\"name\":\"Shared\"" restored-all)" = 1
'

test_done
