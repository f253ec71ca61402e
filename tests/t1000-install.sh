#!/bin/sh
# git-merge-crdtmem install: sets up the merge driver, the attributes and the
# hooks of a repository (or the global git config), idempotently, without
# clobbering what was there, and --uninstall puts back every byte.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"

# shellcheck disable=SC2034 # used in the check bodies
HOOK_NAMES='pre-commit post-commit post-merge post-rewrite'

# fresh_home NAME: a new scratch HOME $TRASH/NAME with test-lib's global
# config, for the rest of the check.
fresh_home() {
	mkdir "$TRASH/$1" &&
		cp "$TRASH/home/.gitconfig" "$TRASH/$1/.gitconfig" &&
		HOME=$TRASH/$1 &&
		export HOME
}

# snapshot DIR OUT: what install may change in DIR's repository, in OUT:
# the config file, and every file (mode and bytes) of the hooks folder and
# of the folder of info/attributes, or that a folder is missing.
snapshot() {
	(
		cd "$1" &&
			snapshot_common_=$(git rev-parse --git-common-dir) &&
			snapshot_hooks_=$(git rev-parse --git-path hooks) &&
			snapshot_info_=$(dirname "$(git rev-parse --git-path info/attributes)") &&
			echo "== config" &&
			cat "$snapshot_common_/config" &&
			for snapshot_dir_ in "$snapshot_hooks_" "$snapshot_info_"; do
				echo "== folder $snapshot_dir_" &&
					if test -d "$snapshot_dir_"; then
						snapshot_files "$snapshot_dir_"
					else
						echo "(missing)"
					fi || return 1
			done
	) >"$2"
}

# snapshot_files DIR: mode, name and bytes of each file in DIR.
snapshot_files() {
	for snapshot_f_ in "$1"/* "$1"/.[!.]*; do
		if test -e "$snapshot_f_" || test -L "$snapshot_f_"; then
			# shellcheck disable=SC2012 # the mode, of names made here
			ls -ld "$snapshot_f_" | cut -c 1-10 &&
				echo "-- $snapshot_f_" &&
				if test -f "$snapshot_f_"; then cat "$snapshot_f_"; fi ||
				return 1
		fi
	done
}

# snapshot_global OUT: the global config, the attributes file and the
# folders install may create under HOME.
snapshot_global() {
	{
		echo "== .gitconfig" &&
			if test -f "$HOME/.gitconfig"; then cat "$HOME/.gitconfig"; else echo "(missing)"; fi &&
			echo "== .config" &&
			if test -d "$HOME/.config"; then
				find "$HOME/.config" | sort &&
					find "$HOME/.config" -type f -exec cat {} +
			else
				echo "(missing)"
			fi
	} >"$1"
}

# fake_binary DIR: DIR/git-merge-crdtmem, a stand-in that appends its
# arguments (and, for post-rewrite, its stdin) to $TRASH/DIR.log.
fake_binary() {
	mkdir -p "$TRASH/$1" &&
		cat >"$TRASH/$1/git-merge-crdtmem" <<-EOF &&
		#!/bin/sh
		echo "\$*" >>"$TRASH/$1.log"
		if test "\$2" = post-rewrite; then
			sed "s/^/stdin: /" >>"$TRASH/$1.log"
		fi
		exit 0
		EOF
		chmod +x "$TRASH/$1/git-merge-crdtmem"
}

# install_with BIN ARGS...: git-merge-crdtmem install ARGS... recording BIN
# (CRDTMEM_INSTALL_BIN) as the program to run.
install_with() {
	(
		CRDTMEM_INSTALL_BIN=$1 &&
			export CRDTMEM_INSTALL_BIN &&
			shift &&
			crdtmem install "$@"
	)
}

# foreign_hook FILE MARKER [STATUS]: a hook that appends its name,
# arguments and stdin (post-rewrite) to MARKER, then exits STATUS.
foreign_hook() {
	mkdir -p "$(dirname "$1")" &&
		cat >"$1" <<-EOF &&
		#!/bin/sh
		echo "foreign \$(basename "\$0") \$*" >>"$2"
		case \$0 in *post-rewrite*) sed "s/^/foreign stdin: /" >>"$2" ;; esac
		exit ${3:-0}
		EOF
		chmod +x "$1"
}

test_expect_success 'install sets the driver, the attributes and the four hooks' '
	fresh_home h1 &&
	git init -q one &&
	(cd one && crdtmem install >../out) &&
	test "$(git -C one config merge.crdtmem.name)" = "CRDT merge for memory files" &&
	test "$(git -C one config merge.crdtmem.driver)" = "$(sq "$CRDTMEM_BIN") %O %A %B %L %P" &&
	test "$(git -C one config merge.crdtmem.recursive)" = crdtmem &&
	(cd one && git check-attr merge -- memory-host.json unified-memory.json) >attr &&
	printf "%s\n" "memory-host.json: merge: crdtmem" "unified-memory.json: merge: crdtmem" >expect &&
	test_cmp expect attr &&
	for h in $HOOK_NAMES; do
		test -x one/.git/hooks/$h &&
		grep -q "^installed hook .*/one/.git/hooks/$h.$" out || return 1
	done &&
	grep -q "^set merge.crdtmem.driver$" out &&
	grep -q "^added attribute lines to .*one/.git/info/attributes.$" out &&
	git -C one status --porcelain >status &&
	test ! -s status
'

test_expect_success 'installed hooks are the files of hooks/ with the binary path filled in' '
	fresh_home h2 &&
	git init -q two &&
	crdtmem install -q --repo two >out &&
	test ! -s out &&
	for h in $HOOK_NAMES; do
		sed "s|^crdtmem=git-merge-crdtmem\$|crdtmem=$(sq "$CRDTMEM_BIN")|" \
			"$TEST_SRCDIR/../hooks/$h" >expect &&
		test_cmp expect two/.git/hooks/$h &&
		test "$(ls -l two/.git/hooks/$h | cut -c 1-10)" = "-rwxr-xr-x" || return 1
	done
'

test_expect_success 'install twice is install once: the second run changes nothing and says so' '
	fresh_home h3 &&
	git init -q twice &&
	crdtmem install --repo twice >first &&
	snapshot twice before &&
	crdtmem install --repo twice >second &&
	snapshot twice after &&
	test_cmp before after &&
	grep -q "already installed" second &&
	test_file_lines second 1
'

test_expect_success 'uninstall puts back every byte of a fresh repository' '
	fresh_home h4 &&
	git init -q fresh &&
	snapshot fresh before &&
	crdtmem install --repo fresh >out &&
	crdtmem install --repo fresh --uninstall >out &&
	snapshot fresh after &&
	test_cmp before after &&
	grep -q "^removed hook " out &&
	crdtmem uninstall --repo fresh >again &&
	grep -q "not installed" again
'

test_expect_success 'uninstall keeps a foreign hook and an attributes file that were there' '
	fresh_home h5 &&
	git init -q kept &&
	foreign_hook kept/.git/hooks/pre-commit "$TRASH/kept.marker" &&
	foreign_hook kept/.git/hooks/post-rewrite "$TRASH/kept.marker" &&
	mkdir -p kept/.git/info &&
	printf "*.bin binary\n*.txt text" >kept/.git/info/attributes &&
	snapshot kept before &&
	crdtmem install --repo kept >out &&
	grep -q "^installed hook .*pre-commit. (chained to the existing one)$" out &&
	test -x kept/.git/hooks/pre-commit.crdtmem-chained &&
	grep -q "^\\*\\.txt text$" kept/.git/info/attributes &&
	grep -q "^memory-\\*\\.json *merge=crdtmem" kept/.git/info/attributes &&
	crdtmem install --repo kept --uninstall &&
	snapshot kept after &&
	test_cmp before after
'

test_expect_success 'a foreign pre-commit keeps running, and our hook runs after it' '
	fresh_home h6 &&
	fake_binary fake6 &&
	git init -q chain &&
	foreign_hook chain/.git/hooks/pre-commit "$TRASH/chain.marker" &&
	install_with $TRASH/fake6/git-merge-crdtmem --repo chain &&
	echo one >chain/file &&
	git -C chain add file &&
	test_tick &&
	git -C chain commit -q -m one &&
	grep -q "^foreign pre-commit" chain.marker &&
	grep -qx "hook pre-commit" fake6.log &&
	grep -qx "hook post-commit" fake6.log
'

test_expect_success 'a failing foreign pre-commit still blocks the commit' '
	fresh_home h7 &&
	fake_binary fake7 &&
	git init -q block &&
	foreign_hook block/.git/hooks/pre-commit "$TRASH/block.marker" 3 &&
	install_with $TRASH/fake7/git-merge-crdtmem --repo block &&
	echo one >block/file &&
	git -C block add file &&
	test_tick &&
	test_must_fail git -C block commit -q -m one &&
	grep -q "^foreign pre-commit" block.marker &&
	test_must_fail git -C block rev-parse -q --verify HEAD &&
	! grep -q "hook pre-commit" fake7.log 2>/dev/null
'

test_expect_success 'post-rewrite: the chained hook and ours both get the rewritten list' '
	fresh_home h8 &&
	fake_binary fake8 &&
	git init -q rewrite &&
	foreign_hook rewrite/.git/hooks/post-rewrite "$TRASH/rewrite.marker" &&
	install_with $TRASH/fake8/git-merge-crdtmem --repo rewrite &&
	echo one >rewrite/file &&
	git -C rewrite add file &&
	test_tick &&
	git -C rewrite commit -q -m one &&
	old=$(git -C rewrite rev-parse HEAD) &&
	test_tick &&
	git -C rewrite commit -q --amend -m "one, amended" &&
	new=$(git -C rewrite rev-parse HEAD) &&
	grep -qx "foreign post-rewrite.crdtmem-chained amend" rewrite.marker &&
	grep -qx "foreign stdin: $old $new" rewrite.marker &&
	grep -qx "hook post-rewrite amend" fake8.log &&
	grep -qx "stdin: $old $new" fake8.log
'

test_expect_success 'core.hooksPath (relative): hooks go to that folder, created if missing' '
	fresh_home h9 &&
	fake_binary fake9 &&
	git init -q relpath &&
	git -C relpath config core.hooksPath my-hooks &&
	mkdir relpath/sub &&
	(cd relpath/sub && install_with $TRASH/fake9/git-merge-crdtmem) &&
	for h in $HOOK_NAMES; do
		test -x relpath/my-hooks/$h || return 1
	done &&
	test ! -e relpath/.git/hooks/pre-commit &&
	echo one >relpath/file &&
	git -C relpath add file &&
	test_tick &&
	git -C relpath commit -q -m one &&
	grep -qx "hook pre-commit" fake9.log &&
	crdtmem install --repo relpath --uninstall &&
	test ! -e relpath/my-hooks
'

test_expect_success 'core.hooksPath (absolute) is honoured' '
	fresh_home h10 &&
	fake_binary fake10 &&
	git init -q abspath &&
	git -C abspath config core.hooksPath "$TRASH/shared hooks" &&
	snapshot abspath before &&
	install_with $TRASH/fake10/git-merge-crdtmem --repo abspath &&
	test -x "shared hooks/pre-commit" &&
	echo one >abspath/file &&
	git -C abspath add file &&
	test_tick &&
	git -C abspath commit -q -m one &&
	grep -qx "hook pre-commit" fake10.log &&
	crdtmem install --repo abspath --uninstall &&
	snapshot abspath after &&
	test_cmp before after
'

test_expect_success 'a linked worktree: hooks and config go to the common repository' '
	fresh_home h11 &&
	fake_binary fake11 &&
	git init -q main-wt &&
	echo one >main-wt/file &&
	git -C main-wt add file &&
	test_tick &&
	git -C main-wt commit -q -m one &&
	git -C main-wt worktree add -q ../linked-wt &&
	(cd linked-wt && install_with $TRASH/fake11/git-merge-crdtmem) &&
	test -x main-wt/.git/hooks/pre-commit &&
	test "$(git -C main-wt config merge.crdtmem.recursive)" = crdtmem &&
	(cd linked-wt && git check-attr merge -- memory-x.json) >attr &&
	grep -q ": merge: crdtmem$" attr &&
	echo two >linked-wt/file &&
	test_tick &&
	git -C linked-wt commit -q -a -m two &&
	grep -qx "hook pre-commit" fake11.log
'

test_expect_success 'a repository path and a binary path with spaces' '
	fresh_home h12 &&
	mkdir "bin dir" &&
	cp "$CRDTMEM_BIN" "bin dir/git-merge-crdtmem" &&
	git init -q "my repo" &&
	cd "my repo" &&
	printf "%s\n" "memory-*.json merge=crdtmem" >.gitattributes &&
	entity Alice laptop 10:00:00.000 1 | write_array memory-laptop.json &&
	commit_all . base &&
	git checkout -q -b other &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Bob laptop 10:01:00.000 1
	} | write_array memory-laptop.json &&
	commit_all . bob &&
	git checkout -q main &&
	{
		entity Alice laptop 10:00:00.000 1 &&
		entity Carol laptop 10:02:00.000 1
	} | write_array memory-laptop.json &&
	commit_all . carol &&
	cd .. &&
	"$TRASH/bin dir/git-merge-crdtmem" install --repo "my repo" >out &&
	test "$(git -C "my repo" config merge.crdtmem.driver)" = "$(sq "$TRASH/bin dir/git-merge-crdtmem") %O %A %B %L %P" &&
	grep -qF "crdtmem=$(sq "$TRASH/bin dir/git-merge-crdtmem")" "my repo/.git/hooks/pre-commit" &&
	test_tick &&
	git -C "my repo" merge -q --no-edit other 2>err &&
	check_no_conflict "my repo" &&
	has_entry "my repo/memory-laptop.json" Bob &&
	has_entry "my repo/memory-laptop.json" Carol &&
	check_valid_canonical "my repo/memory-laptop.json"
'

test_expect_success 'CRDTMEM_INSTALL_BIN with a quote and a space is quoted for the shell' '
	fresh_home h13 &&
	fake_binary "it'"'"'s here" &&
	git init -q quote &&
	install_with "$TRASH/it'"'"'s here/git-merge-crdtmem" --repo quote &&
	echo one >quote/file &&
	git -C quote add file &&
	test_tick &&
	git -C quote commit -q -m one &&
	grep -qx "hook pre-commit" "it'"'"'s here.log"
'

test_expect_success 'an existing hook of ours with another binary path is updated' '
	fresh_home h14 &&
	fake_binary fake14 &&
	git init -q moved &&
	crdtmem install --repo moved &&
	install_with $TRASH/fake14/git-merge-crdtmem --repo moved >out &&
	grep -q "^updated hook .*pre-commit.$" out &&
	grep -q "^set merge.crdtmem.driver$" out &&
	test ! -e moved/.git/hooks/pre-commit.crdtmem-chained &&
	grep -qF "crdtmem=$(sq "$TRASH/fake14/git-merge-crdtmem")" moved/.git/hooks/pre-commit
'

test_expect_success 'a foreign merge.crdtmem.driver is refused without --force, nothing changed' '
	fresh_home h15 &&
	git init -q foreign &&
	git -C foreign config merge.crdtmem.driver "my-merger %O %A %B" &&
	snapshot foreign before &&
	test_expect_code 1 crdtmem install --repo foreign >out 2>err &&
	check_one_error_line err &&
	grep -q "^error: merge.crdtmem.driver is already set to .my-merger %O %A %B.*--force" err &&
	snapshot foreign after &&
	test_cmp before after &&
	crdtmem install --repo foreign --force >out &&
	test "$(git -C foreign config merge.crdtmem.driver)" = "$(sq "$CRDTMEM_BIN") %O %A %B %L %P" &&
	crdtmem install --repo foreign --uninstall &&
	test "$(git -C foreign config merge.crdtmem.driver)" = "my-merger %O %A %B" &&
	test_must_fail git -C foreign config merge.crdtmem.name &&
	test_must_fail git -C foreign config merge.crdtmem.recursive
'

test_expect_success 'a missing or non-executable CRDTMEM_INSTALL_BIN is refused, nothing changed' '
	fresh_home h16 &&
	git init -q nobin &&
	snapshot nobin before &&
	test_expect_code 1 install_with $TRASH/nowhere/git-merge-crdtmem --repo nobin 2>err &&
	check_one_error_line err &&
	grep -q "^error: .*nowhere/git-merge-crdtmem. (CRDTMEM_INSTALL_BIN) is not an executable file$" err &&
	mkdir noexec &&
	echo "#!/bin/sh" >noexec/git-merge-crdtmem &&
	chmod 644 noexec/git-merge-crdtmem &&
	test_expect_code 1 install_with $TRASH/noexec/git-merge-crdtmem --repo nobin 2>err &&
	grep -q "is not an executable file$" err &&
	fake_binary fake16 &&
	mv fake16/git-merge-crdtmem fake16/other-name &&
	test_expect_code 1 install_with $TRASH/fake16/other-name --repo nobin 2>err &&
	grep -q "is not named git-merge-crdtmem" err &&
	snapshot nobin after &&
	test_cmp before after
'

test_expect_success 'a foreign hook with a chained one already there is refused, nothing changed' '
	fresh_home h17 &&
	git init -q twochain &&
	foreign_hook twochain/.git/hooks/post-merge "$TRASH/m" &&
	foreign_hook twochain/.git/hooks/post-merge.crdtmem-chained "$TRASH/m" &&
	snapshot twochain before &&
	test_expect_code 1 crdtmem install --repo twochain 2>err &&
	check_one_error_line err &&
	grep -q "post-merge.crdtmem-chained. exists already" err &&
	snapshot twochain after &&
	test_cmp before after
'

test_expect_success 'lines already in .gitattributes: no attributes file is written' '
	fresh_home h18 &&
	git init -q committed &&
	printf "%s\n" "memory-*.json merge=crdtmem" "unified-memory.json merge=crdtmem" \
		>committed/.gitattributes &&
	crdtmem install --repo committed >out &&
	test ! -e committed/.git/info/attributes &&
	! grep -q "attribute" out
'

test_expect_success 'outside a repository: a clear error, exit 1' '
	fresh_home h19 &&
	mkdir norepo &&
	(cd norepo && test_expect_code 1 crdtmem install 2>../err) &&
	check_one_error_line err &&
	grep -q "^error: not in a git repository" err &&
	test_expect_code 1 crdtmem install --repo norepo 2>err &&
	grep -q "^error: .norepo. is not a git repository$" err &&
	test_expect_code 1 crdtmem install --repo no-such-dir 2>err &&
	grep -q "^error: .no-such-dir.: No such file" err
'

test_expect_success 'usage: --repo with --global, stray arguments, unknown options exit 2; --help 0' '
	fresh_home h20 &&
	test_expect_code 2 crdtmem install --global --repo . 2>err &&
	grep -q "cannot be used together" err &&
	test_expect_code 2 crdtmem install extra 2>err &&
	grep -q "^error: unexpected argument .extra." err &&
	test_expect_code 2 crdtmem install --bogus 2>err &&
	grep -q "^error: unknown option .--bogus." err &&
	test_expect_code 2 crdtmem install --repo 2>err &&
	grep -q "needs a value" err &&
	crdtmem install --help >help &&
	grep -q "^usage: git-merge-crdtmem install" help &&
	grep -q "core.hooksPath" help &&
	grep -q ".gitattributes" help &&
	crdtmem help install >help2 &&
	test_cmp help help2
'

test_expect_success '--global: config and attributes file, no hooks; uninstall restores' '
	fresh_home h21 &&
	snapshot_global before &&
	git init -q g-repo &&
	crdtmem install --global >out 2>err &&
	test "$(git config --global merge.crdtmem.driver)" = "$(sq "$CRDTMEM_BIN") %O %A %B %L %P" &&
	test "$(git config --global merge.crdtmem.recursive)" = crdtmem &&
	grep -q "^memory-\\*\\.json *merge=crdtmem" "$HOME/.config/git/attributes" &&
	grep -q "^unified-memory\\.json *merge=crdtmem" "$HOME/.config/git/attributes" &&
	grep -q "^hint: .*each memory repository" err &&
	test ! -e g-repo/.git/hooks/pre-commit &&
	(cd g-repo && git check-attr merge -- memory-x.json) >attr &&
	grep -q ": merge: crdtmem$" attr &&
	crdtmem install --global >again 2>/dev/null &&
	grep -q "already installed" again &&
	crdtmem install --global --uninstall >out &&
	snapshot_global after &&
	test_cmp before after
'

test_expect_success '--global honours core.attributesFile with ~/ and keeps its other lines' '
	fresh_home h22 &&
	git config --global core.attributesFile "~/my attrs" &&
	printf "*.png binary\n" >"$HOME/my attrs" &&
	cp "$HOME/my attrs" attrs.orig &&
	snapshot_global before &&
	crdtmem install --global >out 2>/dev/null &&
	grep -q "added attribute lines to .$HOME/my attrs.$" out &&
	grep -q "^unified-memory\\.json *merge=crdtmem" "$HOME/my attrs" &&
	test ! -e "$HOME/.config" &&
	crdtmem install --global --uninstall &&
	test_cmp attrs.orig "$HOME/my attrs" &&
	snapshot_global after &&
	test_cmp before after
'

test_expect_success '--global: fresh clones merge memory files with the driver' '
	fresh_home h23 &&
	crdtmem install -q --global 2>/dev/null &&
	mkdir gpull &&
	git init -q --bare gpull/origin.git &&
	git clone -q gpull/origin.git gpull/laptop 2>/dev/null &&
	entity Alice laptop 10:00:00.000 1 "likes tea" |
		write_array gpull/laptop/memory-laptop.json &&
	commit_all gpull/laptop base &&
	git -C gpull/laptop push -q origin main &&
	git clone -q gpull/origin.git gpull/desktop &&
	test_must_fail git -C gpull/desktop config --local merge.crdtmem.driver &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Bob laptop 10:01:00.000 1
	} | write_array gpull/laptop/memory-laptop.json &&
	commit_all gpull/laptop bob &&
	git -C gpull/laptop push -q &&
	{
		entity Alice laptop 10:00:00.000 1 "likes tea" &&
		entity Carol laptop 10:02:00.000 1
	} | write_array gpull/desktop/memory-laptop.json &&
	commit_all gpull/desktop carol &&
	test_tick &&
	git -C gpull/desktop pull -q 2>err &&
	check_no_conflict gpull/desktop &&
	check_clean gpull/desktop &&
	has_entry gpull/desktop/memory-laptop.json Bob &&
	has_entry gpull/desktop/memory-laptop.json Carol &&
	check_valid_canonical gpull/desktop/memory-laptop.json
'

test_expect_success 'repository install after --global adds nothing the global setup gives' '
	fresh_home h24 &&
	crdtmem install -q --global 2>/dev/null &&
	git init -q after-global &&
	crdtmem install --repo after-global >out &&
	! grep -q "^set " out &&
	test ! -e after-global/.git/info/attributes &&
	test -x after-global/.git/hooks/pre-commit
'

test_expect_success 'without CRDTMEM_INSTALL_BIN, the running binary is recorded' '
	fresh_home h25 &&
	git init -q self &&
	(unset CRDTMEM_INSTALL_BIN; crdtmem install -q --repo self) &&
	real=$(cd "$(dirname "$CRDTMEM_BIN")" && pwd -P)/$(basename "$CRDTMEM_BIN") &&
	test "$(git -C self config merge.crdtmem.driver)" = "$(sq "$real") %O %A %B %L %P"
'

test_expect_success 'keys set before install stay after uninstall; only the added ones go' '
	fresh_home h26 &&
	git init -q partial &&
	git -C partial config merge.crdtmem.name "CRDT merge for memory files" &&
	git -C partial config merge.crdtmem.recursive crdtmem &&
	snapshot partial before &&
	crdtmem install --repo partial >out &&
	test_file_lines out 6 &&
	grep -qx "set merge.crdtmem.driver" out &&
	crdtmem install --repo partial --uninstall >out &&
	grep -qx "unset merge.crdtmem.driver" out &&
	snapshot partial after &&
	test_cmp before after
'

test_done
