// Hooks server catch-up benchmark (issue 12). Run with `npm run bench:catch-up` (builds dist/ first).
// Writes a synthetic hooks server database of --mb MiB (default 64) with --chat-mb MiB chats (default 1)
// on Stop events into a temp dir, serves it from a child process the way the Bun server does
// (bench/catch-up-server.mjs), and measures a bridge process (bench/catch-up-bridge.mjs) that
// stopped after the oldest event catching up on all the others: peak RSS added, time, events, windows.
//   --shape mixed  (default) a Stop with a chat every so often among small events: replay + windows
//   --shape chats  only Stop events with chats: the replay alone is the whole database, far above max_frame_bytes
// Loopback only; every loop is bounded.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { mb: { type: 'string', default: '64' }, 'chat-mb': { type: 'string', default: '1' }, shape: { type: 'string', default: 'mixed' }, runs: { type: 'string', default: '3' } },
});
const MiB = 1024 * 1024;
const totalBytes = Number(values.mb) * MiB;
const chatBytes = Number(values['chat-mb']) * MiB;
const dir = mkdtempSync(path.join(tmpdir(), 'bench-catch-up-'));

/** The database file: events sorted by timestamp (ids ascending), each followed by a comma. */
function writeDatabase() {
  const file = path.join(dir, 'events.json');
  const fd = openSync(file, 'w');
  const offsets = [0];
  let position = 0;
  let id = 0;
  let chats = 0;
  const start = Date.parse('2026-11-20T08:00:00Z');
  const message = 'Let me look at the failing test first. '.repeat(40);
  const chatEntry = (i) => ({ type: i % 2 ? 'assistant' : 'user', message: { role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: message }], usage: { input_tokens: 1200, output_tokens: 300 } }, uuid: `u-${i}` });
  const entrySize = JSON.stringify(chatEntry(1)).length + 1;
  const chat = Array.from({ length: Math.max(1, Math.round(chatBytes / entrySize)) }, (_, i) => chatEntry(i));
  const chatEvery = values.shape === 'chats' ? 1 : 200;
  while (position < totalBytes) {
    id += 1;
    // A session's rhythm: a prompt, tool calls (PreToolUse and PostToolUse share a tool_use_id), a notification, now and then a Stop with the transcript.
    const type = id % chatEvery === 0 || values.shape === 'chats' ? 'Stop' : ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Notification'][id % 4];
    const toolUseId = `toolu_${type === 'PostToolUse' ? id - 1 : id}`;
    const event = {
      id,
      source_app: `app-${id % 3}`,
      session_id: `session-${Math.floor(id / 500)}`,
      hook_event_type: type,
      payload: { session_id: `session-${Math.floor(id / 500)}`, hook_event_name: type, tool_name: 'Bash', tool_use_id: toolUseId, tool_input: { command: `npm test -- --run ${id}` } },
      timestamp: start + id * 1000,
      ...(type === 'Stop' && id > 1 ? { chat } : {}),
    };
    if (event.chat) chats += 1;
    const bytes = Buffer.from(`${JSON.stringify(event)},`);
    writeSync(fd, bytes);
    position += bytes.length;
    offsets.push(position);
  }
  closeSync(fd);
  const offsetsFile = path.join(dir, 'offsets.json');
  writeFileSync(offsetsFile, JSON.stringify(offsets));
  return { file, offsetsFile, events: id, chats, bytes: position };
}

function child(script, args, execArgv = []) {
  const proc = fork(path.join(here, script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (message) =>
    new Promise((resolve, reject) => {
      const exited = (code) => reject(new Error(`${script} exited with ${code}`));
      proc.once('exit', exited);
      proc.once('message', (answer) => {
        proc.off('exit', exited);
        resolve(answer);
      });
      if (message !== undefined) proc.send(message);
    });
  return { proc, ask, first: ask() };
}

const mb = (bytes) => (bytes / MiB).toFixed(1);

try {
  const db = writeDatabase();
  console.log(`node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`database: ${mb(db.bytes)} MiB, ${db.events} events, ${db.chats} chats of ${mb(chatBytes)} MiB (shape ${values.shape})`);
  const server = child('catch-up-server.mjs', [db.file, db.offsetsFile]);
  const { port } = await server.first;
  const url = `ws://127.0.0.1:${port}/stream`;
  for (let run = 1; run <= Number(values.runs); run++) {
    const stateDir = mkdtempSync(path.join(dir, 'state-'));
    // The bridge's last run ended after the oldest event: it takes its baseline on a one-event database.
    await server.ask({ rows: 1 });
    const first = child('catch-up-bridge.mjs', [url, stateDir], ['--expose-gc']);
    await first.first;
    await first.ask('run');
    first.proc.send('exit');
    await server.ask({ rows: db.events });
    const bridge = child('catch-up-bridge.mjs', [url, stateDir], ['--expose-gc', ...(process.env.BENCH_BRIDGE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]);
    await bridge.first;
    const result = await bridge.ask('run');
    bridge.proc.send('exit');
    await new Promise((resolve) => bridge.proc.once('exit', resolve));
    const { requests } = await server.ask('requests');
    console.log(
      `run ${run}: caught up on ${result.eventsTotal} events in ${(result.elapsedMs / 1000).toFixed(2)} s; RSS ${mb(result.rssBefore)} → peak ${mb(result.peak)} MiB (+${mb(result.peak - result.rssBefore)} MiB); windows ${JSON.stringify(requests)}; verdict ${result.catchUp?.verdict}`,
    );
  }
  const whole = child('catch-up-bridge.mjs', [url, mkdtempSync(path.join(dir, 'state-'))], ['--expose-gc']);
  await whole.first;
  const old = await whole.ask('whole');
  whole.proc.send('exit');
  console.log(`for comparison, GET /events/recent?limit=-1 + JSON.parse (before issue 12): ${old.events} events in ${(old.elapsedMs / 1000).toFixed(2)} s; RSS ${mb(old.rssBefore)} → peak ${mb(old.peak)} MiB (+${mb(old.peak - old.rssBefore)} MiB)`);
  await server.ask('stop').catch(() => undefined);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
