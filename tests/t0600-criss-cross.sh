#!/bin/sh
# A criss-cross merge: two merge bases, so git first merges the bases into
# a virtual one (an inner merge, %L = 9, through the driver because of
# merge.crdtmem.recursive=crdtmem), then merges the two sides against it.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# Each side's version of memory-laptop.json is the canonical array of the
# entities named (from this fixed list, in key order).
people() {
	for people_; do
		case $people_ in
		Alice) entity Alice laptop 10:00:00.000 1 "likes tea" ;;
		Alice2) entity Alice desktop 10:02:00.000 2 "likes tea" "plays chess" "speaks french" ;;
		AliceL) entity Alice laptop 10:01:00.000 2 "likes tea" "plays chess" ;;
		AliceD) entity Alice desktop 10:02:00.000 2 "likes tea" "speaks french" ;;
		*) entity "$people_" laptop 10:05:00.000 1 ;;
		esac || return 1
	done
}

# laptop: base + Xavier (and Alice plays chess), pushed to main.
# desktop: base + Yvonne (and Alice speaks french), pushed to desktop-y.
# Each merges the other's commit (M1 on laptop, M2 on desktop), then
# laptop adds Paul and pushes, desktop adds Quinn.
test_expect_success 'setup: two clones merge each other'\''s commit, then both go on' '
	setup_repos criss &&
	cd criss &&
	people Alice | write_array laptop/memory-laptop.json &&
	commit_all laptop "base" &&
	git -C laptop push -q &&
	git -C desktop pull -q &&
	people AliceL Xavier | write_array laptop/memory-laptop.json &&
	commit_all laptop "laptop: Xavier" &&
	git -C laptop push -q &&
	people AliceD Yvonne | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Yvonne" &&
	git -C desktop push -q origin HEAD:desktop-y &&
	test_tick &&
	git -C desktop pull -q origin main &&
	test_tick &&
	git -C laptop pull -q origin desktop-y &&
	check_no_conflict laptop &&
	check_no_conflict desktop &&
	git -C laptop rev-parse HEAD:memory-laptop.json >m1 &&
	git -C desktop rev-parse HEAD:memory-laptop.json >m2 &&
	people Alice2 Xavier Yvonne | write_array expect &&
	test_cmp expect laptop/memory-laptop.json &&
	people Alice2 Paul Xavier Yvonne | write_array laptop/memory-laptop.json &&
	commit_all laptop "laptop: Paul" &&
	git -C laptop push -q &&
	people Alice2 Quinn Xavier Yvonne | write_array desktop/memory-laptop.json &&
	commit_all desktop "desktop: Quinn" &&
	git -C desktop fetch -q
'

test_expect_success 'both first merges wrote the same bytes, whichever side was ours' '
	test_cmp criss/m1 criss/m2
'

test_expect_success 'the two tips have two merge bases (a criss-cross)' '
	git -C criss/desktop merge-base --all HEAD origin/main >bases &&
	test_file_lines bases 2
'

test_expect_success 'the criss-cross pull finishes without a conflict' '
	cd criss &&
	cat >log-driver <<-EOF &&
	echo "\$4" >>"$TRASH/criss/driver.log"
	exec \$CRDTMEM_WRAPPER "\$CRDTMEM_BIN" "\$@"
	EOF
	git -C desktop config merge.crdtmem.driver \
		"sh $(sq "$TRASH/criss/log-driver") %O %A %B %L %P" &&
	test_tick &&
	git -C desktop pull &&
	check_no_conflict desktop &&
	check_clean desktop
'

test_expect_success 'the driver made the virtual base (%L 9) and the outer merge (%L 7)' '
	sort -u criss/driver.log >calls &&
	printf "%s\n" 7 9 >expect &&
	test_cmp expect calls
'

test_expect_success 'after the criss-cross merge the file is canonical and holds every entry' '
	f=criss/desktop/memory-laptop.json &&
	check_valid_canonical $f &&
	for name in Alice Paul Quinn Xavier Yvonne; do
		has_entry $f $name || return 1
	done &&
	check_entry_count $f 5 &&
	has_observation $f Alice "plays chess" &&
	has_observation $f Alice "speaks french"
'

test_expect_success 'after push and pull laptop holds the same bytes' '
	cd criss &&
	git -C desktop push -q &&
	git -C laptop pull -q --ff-only &&
	test_cmp desktop/memory-laptop.json laptop/memory-laptop.json
'

test_done
