#!/bin/sh
# A full disk, a file size limit and a read-only folder while the driver
# writes OURS: a clear one-line error, exit 1, OURS exactly as it was and
# no temporary file left. And the modes the driver keeps.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# A small tmpfs in the scratch folder, when mount is permitted (root).
mkdir "$TRASH/full"
if mount -t tmpfs -o size=1m tmpfs "$TRASH/full" 2>/dev/null; then
	test_set_prereq FULL_DISK
	# Unmounted by the last full-disk check, or here if the script stops.
	trap 'umount "$TRASH/full" 2>/dev/null; test_cleanup_' EXIT
else
	echo "# skipping the full-disk checks: cannot mount a tmpfs here (not root?)"
fi
# A folder the driver cannot write to (READONLY_DIR, RO_RUN: lib-memory.sh).
readonly_dir_prereq

# sides DIR N: O (empty), B (N entries) in the current folder, and DIR/A
# (N other entries) with its copy A.orig; the merge is about twice B.
sides() {
	: >O &&
		awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
			printf "{\"id\":\"b%06d\",\"content\":\"%0100d\"}\n", i, i }' >B &&
		awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
			printf "{\"id\":\"a%06d\",\"content\":\"%0100d\"}\n", i, i }' >"$1/A" &&
		cp "$1/A" A.orig
}

# no_temps DIR: no temporary file of the driver in DIR.
no_temps() {
	for no_temps_ in "$1"/.*.crdtmem-*; do
		if test -e "$no_temps_"; then
			echo "error: a temporary file was left: $no_temps_" >&2
			return 1
		fi
	done
}

test_expect_success FULL_DISK 'a full disk: exit 1, one message, OURS untouched, no temporary file' '
	git init -q fd &&
	cd fd &&
	sides "$TRASH/full" 5000 &&
	test "$(wc -c <"$TRASH/full/A")" -lt 700000 &&
	test_expect_code 1 crdtmem O "$TRASH/full/A" B 7 memory-x.json 2>err &&
	check_one_error_line err &&
	grep -q "^error: .*No space left on device" err &&
	check_untouched "$TRASH/full/A" A.orig &&
	no_temps "$TRASH/full"
'

test_expect_success FULL_DISK 'join -o onto a full disk: the same' '
	cd fd &&
	test_expect_code 1 crdtmem join -o "$TRASH/full/A" "$TRASH/full/A" B 2>err &&
	check_one_error_line err &&
	grep -q "No space left on device" err &&
	check_untouched "$TRASH/full/A" A.orig &&
	no_temps "$TRASH/full"
'

test_expect_success FULL_DISK 'cleanup: unmount the tmpfs' '
	umount "$TRASH/full"
'

test_expect_success 'a file size limit (ulimit -f): exit 1, not a signal; OURS untouched' '
	git init -q fs &&
	cd fs &&
	sides . 5000 &&
	(
		ulimit -f 1000 &&
		test_expect_code 1 crdtmem O A B 7 memory-x.json 2>err
	) &&
	check_one_error_line err &&
	grep -q "File too large" err &&
	check_untouched A A.orig &&
	no_temps .
'

test_expect_success READONLY_DIR 'a read-only folder: exit 1, one message, OURS untouched' '
	chmod 755 "$TRASH" &&
	mkdir ro &&
	cd ro &&
	git init -q &&
	mkdir top &&
	sides top 100 &&
	chmod 644 O B top/A &&
	chmod 555 top &&
	test_expect_code 1 $RO_RUN "$CRDTMEM_BIN" O top/A B 7 memory-x.json 2>err &&
	grep -q "^error: '\''top/A'\'': cannot create a temporary file in '\''top'\'': Permission denied" err &&
	check_untouched top/A A.orig &&
	no_temps top &&
	chmod 755 top
'

test_expect_success 'a 0600 OURS stays 0600, a 0640 one 0640, a 0444 one 0444' '
	git init -q modes &&
	cd modes &&
	for m in 600 640 444 755; do
		sides . 10 &&
		chmod $m A &&
		crdtmem O A B 7 memory-x.json &&
		test "$(stat -c %a A)" = $m &&
		check_entry_count A 20 || return 1
	done
'

test_expect_success 'join -o makes a new file with 0666 less the umask' '
	mkdir new &&
	cd new &&
	entity Alice laptop 10:00:00.000 1 | write_jsonl in &&
	(umask 077 && crdtmem join -o out077 in) &&
	(umask 022 && crdtmem join -o out022 in) &&
	test "$(stat -c %a out077)" = 600 &&
	test "$(stat -c %a out022)" = 644
'

test_done
