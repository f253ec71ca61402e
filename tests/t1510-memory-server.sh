#!/bin/sh
# Backup and restore with the real memory server (npm
# @modelcontextprotocol/server-memory), driven over stdio as an assistant
# drives it: two machines write their memory through the server, both back
# up, a third restores, and the server there reads everything back. Skipped
# where npm or its registry cannot be reached.

# Check bodies are single-quoted on purpose: they are eval'd later.
# shellcheck disable=SC1091,SC2016

. "$(dirname "$0")/test-lib.sh"
. "$TEST_SRCDIR/lib-memory.sh"
. "$TEST_SRCDIR/lib-hooks.sh"
. "$TEST_SRCDIR/lib-backup.sh"

SERVER=$TRASH/npm/node_modules/@modelcontextprotocol/server-memory/dist/index.js
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	echo "# npm or node is not installed: the memory server checks are skipped"
elif ! timeout 60 npm view @modelcontextprotocol/server-memory version >/dev/null 2>&1; then
	echo "# the npm registry cannot be reached: the memory server checks are skipped"
elif ! timeout 300 npm install --prefix "$TRASH/npm" --no-audit --no-fund --loglevel=error \
	@modelcontextprotocol/server-memory >"$TRASH/npm.log" 2>&1 || ! test -f "$SERVER"; then
	echo "# npm install @modelcontextprotocol/server-memory failed: the checks are skipped"
	sed 's/^/#   /' "$TRASH/npm.log"
else
	echo "# memory server $(cd "$TRASH/npm" && npm ls --depth=0 2>/dev/null | grep server-memory)"
	test_set_prereq MEMORY_SERVER
fi
export SERVER

# mcp CLONE TOOL ARGS_JSON [TOOL ARGS_JSON]...: calls to the memory server
# of machine CLONE, whose file is live-CLONE (run in TOP).
mcp() {
	mcp_clone_=$1
	shift
	MEMORY_FILE_PATH=$PWD/live-$mcp_clone_ node "$TEST_SRCDIR/mcp-client.js" "$SERVER" "$@" 2>/dev/null
}

test_expect_success MEMORY_SERVER 'setup: three machines' '
	setup_backup srv laptop desktop phone
'

test_expect_success MEMORY_SERVER 'two machines write their memory through the server and back it up' '
	cd srv &&
	mcp laptop create_entities "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes tea\"]},{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":[\"plays chess\"]}]}" \
		create_relations "{\"relations\":[{\"from\":\"Alice\",\"to\":\"Bob\",\"relationType\":\"knows\"}]}" >/dev/null &&
	mcp desktop create_entities "{\"entities\":[{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":[\"likes coffee\"]},{\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":[]}]}" \
		add_observations "{\"observations\":[{\"entityName\":\"Carol\",\"contents\":[\"sings\"]}]}" >/dev/null &&
	backup_of laptop &&
	backup_of desktop &&
	has_entry desktop/unified-memory.json Carol &&
	has_relation desktop/unified-memory.json Alice knows Bob
'

test_expect_success MEMORY_SERVER 'a third machine restores, and its server reads everything from both' '
	cd srv &&
	git -C phone pull -q &&
	restore_of phone &&
	mcp phone read_graph "{}" >graph &&
	grep -q "{\"name\":\"Alice\",\"entityType\":\"person\",\"observations\":\[\"likes coffee\",\"likes tea\"\]}" graph &&
	grep -q "{\"name\":\"Bob\",\"entityType\":\"person\",\"observations\":\[\"plays chess\"\]}" graph &&
	grep -q "{\"name\":\"Carol\",\"entityType\":\"person\",\"observations\":\[\"sings\"\]}" graph &&
	grep -q "{\"from\":\"Alice\",\"to\":\"Bob\",\"relationType\":\"knows\"}" graph
'

test_expect_success MEMORY_SERVER 'changes the server writes after a restore back up without re-stamping the rest' '
	cd srv &&
	cp phone/unified-memory.json unified.before &&
	mcp phone add_observations "{\"observations\":[{\"entityName\":\"Bob\",\"contents\":[\"moved to Oslo\"]}]}" \
		delete_entities "{\"entityNames\":[\"Carol\"]}" >/dev/null &&
	backup_of phone &&
	is_tombstone phone/unified-memory.json Carol &&
	has_observation phone/unified-memory.json Bob "moved to Oslo" &&
	entry_line unified.before Alice >alice.before &&
	entry_line phone/unified-memory.json Alice >alice.after &&
	test_cmp alice.before alice.after &&
	check_memory_clone phone
'

test_expect_success MEMORY_SERVER 'the first machine restores: its server sees the new observation, not Carol' '
	cd srv &&
	backup_of laptop &&
	restore_of laptop &&
	mcp laptop read_graph "{}" >graph &&
	grep -q "\"moved to Oslo\"" graph &&
	! grep -q "Carol" graph &&
	grep -q "\"likes coffee\"" graph
'

test_expect_success MEMORY_SERVER 'what the server writes and what restore writes are the same lines' '
	cd srv &&
	cp live-laptop restored &&
	mcp laptop create_entities "{\"entities\":[{\"name\":\"Dan\",\"entityType\":\"person\",\"observations\":[]}]}" \
		delete_entities "{\"entityNames\":[\"Dan\"]}" >/dev/null &&
	check_same_set restored live-laptop
'

test_done
