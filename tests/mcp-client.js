// A minimal MCP client for the tests: starts the memory server (node
// SERVER_JS, with the environment as given, so MEMORY_FILE_PATH picks the
// file), sends initialize, the initialized notification, then one
// tools/call per TOOL ARGS_JSON pair, waiting for each reply before the
// next (the server loses updates on concurrent requests), and prints the
// text of each reply on its own line. Exits 1 on an error reply or when
// the server does not answer within 30 seconds.
//
//	node mcp-client.js SERVER_JS TOOL ARGS_JSON [TOOL ARGS_JSON]...
'use strict';
const { spawn } = require('child_process');
const readline = require('readline');

const [server, ...calls] = process.argv.slice(2);
if (!server || calls.length % 2) {
	console.error('usage: node mcp-client.js SERVER_JS TOOL ARGS_JSON [TOOL ARGS_JSON]...');
	process.exit(2);
}
const child = spawn(process.execPath, [server], { stdio: ['pipe', 'pipe', 'inherit'] });
const waiting = new Map();
let lastId = 0;

readline.createInterface({ input: child.stdout }).on('line', (line) => {
	let msg;
	try {
		msg = JSON.parse(line);
	} catch (e) {
		return; // not a JSON-RPC message
	}
	if (msg.id !== undefined && waiting.has(msg.id)) {
		waiting.get(msg.id)(msg);
		waiting.delete(msg.id);
	}
});

function send(msg) {
	child.stdin.write(JSON.stringify(msg) + '\n');
}

function request(method, params) {
	return new Promise((resolve) => {
		const id = ++lastId;
		waiting.set(id, resolve);
		send({ jsonrpc: '2.0', id, method, params });
	});
}

// JSON text made compact, so the tests can grep it; other text as it is.
function compact(text) {
	try {
		return JSON.stringify(JSON.parse(text));
	} catch (e) {
		return text.replace(/\n/g, ' ');
	}
}

function fail(message) {
	console.error('error: ' + message);
	child.kill();
	process.exit(1);
}

(async () => {
	const timer = setTimeout(() => fail('the memory server did not answer within 30 s'), 30000);
	const init = await request('initialize', {
		protocolVersion: '2025-06-18',
		capabilities: {},
		clientInfo: { name: 'git-merge-crdtmem-tests', version: '1' },
	});
	if (init.error)
		fail('initialize: ' + JSON.stringify(init.error));
	send({ jsonrpc: '2.0', method: 'notifications/initialized' });
	for (let i = 0; i < calls.length; i += 2) {
		const reply = await request('tools/call', { name: calls[i], arguments: JSON.parse(calls[i + 1]) });
		if (reply.error || (reply.result && reply.result.isError))
			fail(calls[i] + ': ' + JSON.stringify(reply.error || reply.result));
		for (const part of (reply.result && reply.result.content) || [])
			if (part.type === 'text')
				console.log(compact(part.text));
	}
	clearTimeout(timer);
	child.stdin.end();
	child.kill();
})();
