#!/bin/sh
# make demo: two machines, "laptop" and "desktop", back up their AI
# assistant's memory to one git repository at the same time. Both edit the
# shared unified-memory.json, and the same entity in it; with the crdtmem
# merge driver the pull merges without a conflict and every file stays
# valid. Runs in a scratch folder (kept if CRDTMEM_KEEP=1); exits non-zero
# if anything went wrong.
#
#	CRDTMEM_BIN=/abs/path/to/git-merge-crdtmem sh tests/demo.sh

set -eu

if test -z "${CRDTMEM_BIN:-}"; then
	echo "error: CRDTMEM_BIN is not set: give the path of the built git-merge-crdtmem (make demo does)" >&2
	exit 2
fi
case $CRDTMEM_BIN in
/*) ;;
*) CRDTMEM_BIN=$(pwd)/$CRDTMEM_BIN ;;
esac
if ! test -f "$CRDTMEM_BIN" || ! test -x "$CRDTMEM_BIN"; then
	echo "error: '$CRDTMEM_BIN' is not an executable file: run make first" >&2
	exit 2
fi
BIN=$CRDTMEM_BIN

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/crdtmem-demo.XXXXXX")
finish() {
	status=$?
	if test "$status" != 0; then
		echo
		echo "demo FAILED (status $status); its files are in $DEMO" >&2
	elif test "${CRDTMEM_KEEP:-}" = 1; then
		echo "(the demo's files are kept in $DEMO)"
	else
		rm -rf "$DEMO"
	fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private git setup: no personal or system configuration, fixed dates.
HOME=$DEMO/home
mkdir "$HOME"
GIT_CONFIG_NOSYSTEM=1
TZ=UTC
LC_ALL=C
GIT_AUTHOR_NAME='Demo User'
GIT_AUTHOR_EMAIL=demo@example.com
GIT_COMMITTER_NAME='Demo User'
GIT_COMMITTER_EMAIL=demo@example.com
GIT_MERGE_AUTOEDIT=no
GIT_EDITOR=:
export HOME GIT_CONFIG_NOSYSTEM TZ LC_ALL GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_MERGE_AUTOEDIT GIT_EDITOR
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_GLOBAL XDG_CONFIG_HOME
git config --global init.defaultBranch main
git config --global advice.detachedHead false
tick=1795000000

step() {
	echo
	echo "== $*"
}
say() {
	echo "   $*"
}
fail() {
	echo "demo: $*" >&2
	exit 1
}

# commit DIR MESSAGE: commit everything in DIR, one minute after the last.
commit() {
	tick=$((tick + 60))
	git -C "$1" add -A
	GIT_AUTHOR_DATE="$tick +0000" GIT_COMMITTER_DATE="$tick +0000" \
		git -C "$1" commit -q -m "$2"
}

# entity NAME HOST TIME VERSION OBSERVATION...: an MCP memory entity with
# its CRDT stamp (written by hand here; the pre-commit hook stamps them).
entity() {
	name=$1 host=$2 time=$3 version=$4
	shift 4
	obs=$(printf '"%s"\n' "$@" | sort | paste -s -d , -)
	printf '{"type":"entity","name":"%s","entityType":"person","observations":[%s],"_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":%s,"unique_id":"%s-%s-%s"}}\n' \
		"$name" "$obs" "$host" "$time" "$version" "$host" "$name" "$version"
}
relation() {
	printf '{"type":"relation","from":"%s","to":"%s","relationType":"%s","_crdt_metadata":{"host":"%s","timestamp":"2026-11-21T%sZ","version":1,"unique_id":"%s-%s-%s"}}\n' \
		"$1" "$3" "$2" "$4" "$5" "$4" "$1" "$3"
}
# as_jsonl FILE: stdin lines as the memory server writes them (JSONL, no
# final newline); as_array FILE: as a JSON array, one entry a line.
as_jsonl() {
	awk 'NR > 1 { printf "\n" } { printf "%s", $0 }' >"$1"
}
as_array() {
	awk 'BEGIN { printf "[" } NR > 1 { printf "," } { printf "\n%s", $0 }
		END { if (NR) printf "\n]\n"; else printf "]\n" }' >"$1"
}

cd "$DEMO"
echo "git-merge-crdtmem demo: two machines back up AI memory to one git repository"
say "binary:  $BIN ($("$BIN" --version))"
say "scratch: $DEMO"

step "1. The backup remote: a bare repository, origin.git"
git init -q --bare origin.git

step "2. Two machines clone it: laptop and desktop"
git clone -q origin.git laptop 2>/dev/null
git clone -q origin.git desktop 2>/dev/null

step "3. Each clone configures the merge driver (git config), the repository says which files use it (.gitattributes)"
for clone in laptop desktop; do
	git -C $clone config merge.crdtmem.name "CRDT merge for memory files"
	git -C $clone config merge.crdtmem.driver "'$BIN' %O %A %B %L %P"
	git -C $clone config merge.crdtmem.recursive crdtmem
done
printf '%s\n' 'memory-*.json merge=crdtmem' 'unified-memory.json merge=crdtmem' \
	>laptop/.gitattributes
say "git config merge.crdtmem.name \"CRDT merge for memory files\""
say "git config merge.crdtmem.driver \"'$BIN' %O %A %B %L %P\""
say "git config merge.crdtmem.recursive crdtmem"
sed 's/^/   .gitattributes: /' laptop/.gitattributes

step "4. laptop makes the first backup (Alice) and pushes; desktop pulls it"
entity Alice laptop 10:00:00.000 1 "likes green tea" | as_jsonl laptop/memory-laptop.json
entity Alice laptop 10:00:00.000 1 "likes green tea" | as_array laptop/unified-memory.json
commit laptop "laptop: first backup"
git -C laptop push -q origin main
git -C desktop pull -q
say "both machines now hold the same memory"

step "5. Both machines work at the same time, without syncing"
say "laptop learns about Bob, that Alice knows Bob, and that Alice plays chess"
{
	entity Alice laptop 10:05:00.000 2 "likes green tea" "plays chess"
	entity Bob laptop 10:05:00.000 1 "maintains the build system"
	relation Alice knows Bob laptop 10:05:00.000
} >laptop.entries
as_jsonl laptop/memory-laptop.json <laptop.entries
as_array laptop/unified-memory.json <laptop.entries
commit laptop "laptop: backup"
say "desktop learns about Carol, and that Alice works on the compiler team"
{
	entity Alice desktop 10:07:00.000 2 "likes green tea" "works on the compiler team"
	entity Carol desktop 10:07:00.000 1 "reviews the parser"
} >desktop.entries
as_jsonl desktop/memory-desktop.json <desktop.entries
{
	entity Alice desktop 10:07:00.000 2 "likes green tea" "works on the compiler team"
	entity Carol desktop 10:07:00.000 1 "reviews the parser"
} | as_array desktop/unified-memory.json
commit desktop "desktop: backup"
say "both changed unified-memory.json, and both changed Alice in it"

step "6. laptop pushes first"
git -C laptop push -q origin main

step "7. desktop pushes too: rejected, its copy is behind"
if git -C desktop push -q origin main 2>/dev/null; then
	fail "desktop's push should have been rejected"
fi
say "rejected (not a fast-forward), as expected"

step "8. desktop pulls: git calls the crdtmem driver for unified-memory.json"
git -C desktop fetch -q
base=$(git -C desktop merge-base HEAD origin/main)
git -C desktop cat-file blob "$base:unified-memory.json" >base.json
git -C desktop cat-file blob "HEAD:unified-memory.json" >ours.json
git -C desktop cat-file blob "origin/main:unified-memory.json" >theirs.json
conflicts=0
git merge-file -q -p ours.json base.json theirs.json >/dev/null || conflicts=$?
test "$conflicts" -gt 0 || fail "the demo meant to make git's text merge conflict"
say "(plain git's text merge of this file would stop with $conflicts conflict(s))"
tick=$((tick + 60))
if ! GIT_AUTHOR_DATE="$tick +0000" GIT_COMMITTER_DATE="$tick +0000" \
	git -C desktop pull --no-rebase >pull.out 2>&1; then
	sed 's/^/   | /' pull.out
	fail "git pull failed"
fi
sed 's/^/   | /' pull.out
test -z "$(git -C desktop ls-files -u)" || fail "git left unmerged files"
test -z "$(git -C desktop status --porcelain)" || fail "desktop's work tree is not clean"
say "no conflict: git made the merge commit by itself"

step "9. desktop pushes the merge; laptop pulls it (a fast-forward)"
git -C desktop push -q origin main
git -C laptop pull -q --ff-only
say "laptop and desktop are at the same commit: $(git -C laptop rev-parse --short HEAD)"

step "10. The merged files"
for f in memory-laptop.json memory-desktop.json unified-memory.json; do
	echo "--- $f"
	cat "desktop/$f"
	# The memory server's JSONL has no final newline.
	test -z "$(tail -c 1 "desktop/$f")" || echo
done
echo "---"

step "11. Checks"
for f in memory-laptop.json memory-desktop.json unified-memory.json; do
	"$BIN" join "desktop/$f" >canonical.out ||
		fail "$f is not valid"
	if test "$f" = unified-memory.json; then
		cmp -s canonical.out "desktop/$f" || fail "$f is not in canonical form"
		say "$f: valid, canonical, $(grep -c '^{' "desktop/$f") entries, still a JSON array"
	else
		say "$f: valid, $(grep -c '^{' canonical.out) entries, JSONL as the memory server writes it"
	fi
	cmp -s "desktop/$f" "laptop/$f" || fail "$f differs between laptop and desktop"
done
say "both clones hold byte-identical files"
alice=$(grep '"name":"Alice"' desktop/unified-memory.json)
for obs in "likes green tea" "plays chess" "works on the compiler team"; do
	case $alice in
	*"\"$obs\""*) ;;
	*) fail "Alice lost the observation '$obs'" ;;
	esac
done
say "Alice kept the observations of both machines"
for name in Alice Bob Carol; do
	grep -q "\"name\":\"$name\"" desktop/unified-memory.json ||
		fail "$name is missing from unified-memory.json"
done
grep -q '"type":"relation","from":"Alice","to":"Bob","relationType":"knows"' \
	desktop/unified-memory.json || fail "the relation Alice knows Bob is missing"
say "unified-memory.json holds Alice, Bob, Carol and the relation: nothing lost"
test -z "$(git -C laptop status --porcelain)" || fail "laptop's work tree is not clean"

step "12. History (desktop)"
git -C desktop log --graph --format='%h %s' | sed 's/^/   /'

echo
echo "demo OK: parallel backups merged without a conflict, every file valid, nothing lost"
