#!/bin/sh
# The driver killed with SIGKILL at random points of a large merge: OURS
# always holds its old bytes or the merged ones, never a mix, and the
# temporary file a killed run leaves is removed by the next run.
#
# CRDTMEM_KILLS (default 30) sets the number of kills; CRDTMEM_KILL_SEED
# the random seed (printed). The binary runs without CRDTMEM_WRAPPER here:
# a kill must hit the driver itself.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

KILLS=${CRDTMEM_KILLS:-30}
SEED=${CRDTMEM_KILL_SEED:-$(date +%s)}
export KILLS SEED

# gen SIDE: about 15 MB of seed-format entries; ours and theirs each change
# a tenth of the base's and add their own.
gen() {
	awk -v side="$1" 'BEGIN {
		pad = sprintf("%150s", ""); gsub(/ /, "x", pad)
		for (i = 0; i < 80000; i++) {
			v = 1; h = "base"
			if (side == "ours" && i % 10 == 1) { v = 2; h = "ours" }
			if (side == "theirs" && i % 10 == 2) { v = 2; h = "theirs" }
			printf "{\"id\":\"e%06d\",\"content\":\"%s %s\",\"_crdt_metadata\":{\"host\":\"%s\",\"timestamp\":\"2026-11-21T10:00:0%d.000Z\",\"version\":%d,\"unique_id\":\"%s-%d\"}}\n", i, h, pad, h, v, v, h, i
		}
		if (side != "base")
			for (i = 0; i < 1000; i++)
				printf "{\"id\":\"%s%04d\",\"content\":\"new\"}\n", side, i
	}'
}

# temps: the number of temporary files of A in the current folder.
temps() {
	n=0
	for t in .A.crdtmem-*; do
		if test -e "$t"; then
			n=$((n + 1))
		fi
	done
	echo $n
}

test_expect_success 'setup: a 15 MB merge and its expected result' '
	git init -q k &&
	cd k &&
	gen base >O &&
	gen ours >A.old &&
	gen theirs >B &&
	test "$(wc -c <A.old)" -gt 10000000 &&
	cp A.old A &&
	start=$(date +%s%N) &&
	"$CRDTMEM_BIN" O A B 7 memory-big.json &&
	end=$(date +%s%N) &&
	echo $(((end - start) / 1000000)) >ms &&
	mv A A.new &&
	check_entry_count A.new 82000 &&
	! cmp -s A.old A.new &&
	test "$(temps)" = 0
'

test_expect_success "killed $KILLS times at random points: OURS is old or new, never partial" '
	cd k &&
	ms=$(cat ms) &&
	echo "seed $SEED, a merge takes ${ms} ms" &&
	awk -v n="$KILLS" -v seed="$SEED" -v ms="$ms" "BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) printf \"%.3f\\n\", rand() * ms * 1.3 / 1000
	}" >delays &&
	old=0 new=0 most=0 &&
	while read -r delay; do
		cp A.old A &&
		{ "$CRDTMEM_BIN" O A B 7 memory-big.json 2>/dev/null & } &&
		pid=$! &&
		sleep "$delay" &&
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		if cmp -s A A.old; then
			old=$((old + 1))
		elif cmp -s A A.new; then
			new=$((new + 1))
		else
			echo "error: after a kill at ${delay}s, A is neither old nor new" >&2
			cp A A.partial
			return 1
		fi &&
		n=$(temps) &&
		if test "$n" -gt "$most"; then most=$n; fi &&
		if test "$n" -gt 1; then
			echo "error: $n temporary files left after a kill at ${delay}s" >&2
			ls -la >&2
			return 1
		fi || return 1
	done <delays &&
	echo "kills: $KILLS, old: $old, new: $new, lost: 0, most temporary files at once: $most" &&
	echo "$KILLS $old $new $most" >../kill-stats
'

test_expect_success 'the next run removes the temporary file a killed run left' '
	cd k &&
	cp A.old A &&
	: >.A.crdtmem-999999999-abcdef &&
	{ sh -c "exit 0" & } &&
	dead=$! &&
	wait $dead &&
	: >".A.crdtmem-$dead-ghijkl" &&
	: >.A.crdtmem-mnopqr &&
	touch -d "2 minutes ago" .A.crdtmem-mnopqr &&
	: >".B.crdtmem-$dead-stuvwx" &&
	: >".A.crdtmem-$$-livexx" &&
	"$CRDTMEM_BIN" O A B 7 memory-big.json &&
	test_cmp A.new A &&
	test ! -e .A.crdtmem-999999999-abcdef &&
	test ! -e ".A.crdtmem-$dead-ghijkl" &&
	test ! -e .A.crdtmem-mnopqr &&
	test -e ".B.crdtmem-$dead-stuvwx" &&
	test -e ".A.crdtmem-$$-livexx" &&
	rm ".B.crdtmem-$dead-stuvwx" ".A.crdtmem-$$-livexx" &&
	test "$(temps)" = 0
'

test_expect_success 'a temporary file of a live writer is removed once an hour old' '
	cd k &&
	: >".A.crdtmem-$$-oldold" &&
	touch -d "2 hours ago" ".A.crdtmem-$$-oldold" &&
	cp A.old A &&
	"$CRDTMEM_BIN" O A B 7 memory-big.json &&
	test "$(temps)" = 0
'

test_done
