// Hook events benchmark (issue 3). Run with `npm run bench:hooks` (builds dist/ first).
//   1. decision latency of POST /hooks/:event at 200 requests/s, recovery state normal
//   2. ingestion throughput over HTTP (POST /events, send_event.py bodies)
//   3. ingestion throughput over the hooks server WebSocket, and the bridge's RSS up to 1,000,000 events
// The bridge runs in a child process (bench/hooks-bridge.mjs); this process generates the load.
// Loopback only; every loop is bounded. BENCH_EVENTS overrides the WebSocket event count.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../test/fixtures');
const readJson = (...parts) => JSON.parse(readFileSync(path.join(fixtures, ...parts), 'utf8'));
const HOOK_INPUTS = ['PreToolUse', 'UserPromptSubmit', 'PostToolUse', 'Stop'].map((name) => readJson('claude-code', 'http-hook-inputs', `${name}.json`));
const POST_BODIES = readFileSync(path.join(fixtures, 'hooks-server', 'send_event-post-bodies.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.stringify(JSON.parse(line).body));

const LATENCY_RATE = 200;
const LATENCY_SECONDS = 15;
const HTTP_EVENTS = 50_000;
const HTTP_CONCURRENCY = 32;
const WS_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const WS_BATCH = 10_000;

class BridgeProcess {
  static async start(hooksUrl, extraArgs = []) {
    const execArgv = [...extraArgs, ...(process.env.BENCH_BRIDGE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]; // e.g. --cpu-prof
    const child = fork(path.join(here, 'hooks-bridge.mjs'), hooksUrl ? [hooksUrl] : [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`bridge exited with ${code}`)));
    });
    return new BridgeProcess(child, port);
  }
  constructor(child, port) {
    this.child = child;
    this.port = port;
  }
  stats(command = 'stats') {
    return new Promise((resolve) => {
      this.child.once('message', resolve);
      this.child.send(command);
    });
  }
  async stop() {
    this.child.send('stop');
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

function post(agent, port, pathname, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cpuSeconds = (a, b) => (b.user - a.user + b.system - a.system) / 1e6;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function decisionLatency() {
  const bridge = await BridgeProcess.start(null);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const bodies = HOOK_INPUTS.map((input) => [`/hooks/${input.hook_event_name}`, JSON.stringify(input)]);
  for (let i = 0; i < 200; i++) await post(agent, bridge.port, ...bodies[i % bodies.length]); // warm-up
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies = [];
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const [pathname, body] = bodies[i % bodies.length];
    const sent = performance.now();
    pending.push(
      post(agent, bridge.port, pathname, body).then((answer) => {
        if (answer !== '{}') throw new Error(`unexpected answer ${answer}`);
        latencies.push(performance.now() - sent);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  await bridge.stop();
  latencies.sort((a, b) => a - b);
  return {
    requests: total,
    achievedRate: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
  };
}

/** keepAlive false is how send_event.py posts: urllib opens one connection per event. */
async function httpIngestion({ keepAlive, events, concurrency }) {
  const bridge = await BridgeProcess.start(null);
  const agent = new Agent({ keepAlive, maxSockets: concurrency });
  for (let i = 0; i < 500; i++) await post(agent, bridge.port, '/events', POST_BODIES[i % POST_BODIES.length]);
  const before = await bridge.stats();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < events) {
      const i = next++;
      await post(agent, bridge.port, '/events', POST_BODIES[i % POST_BODIES.length]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - start) / 1000;
  const after = await bridge.stats();
  agent.destroy();
  await bridge.stop();
  if (after.eventsTotal - before.eventsTotal !== events) throw new Error('events went missing');
  const cpu = cpuSeconds(before.cpuMicros, after.cpuMicros);
  return { events, wall, perSecond: events / wall, cpu, perCpuSecond: events / cpu };
}

/** Synthetic hooks server frames: every event type, 500 sessions, 80 tools (MCP included), replays and id gaps. */
function* eventFrames(count) {
  const types = ['PreToolUse', 'PostToolUse', 'UserPromptSubmit', 'Notification', 'PreToolUse', 'PostToolUseFailure', 'SubagentStart', 'SubagentStop', 'PreCompact', 'Stop', 'SessionStart', 'SessionEnd', 'PermissionRequest', 'PreToolUse'];
  const tools = Array.from({ length: 80 }, (_, i) => (i % 4 === 0 ? `mcp__server${i}__tool${i}` : `Tool${i}`));
  const chat = JSON.stringify(Array.from({ length: 8 }, (_, i) => ({ type: 'assistant', message: { content: 'x'.repeat(200), i } })));
  let id = 0;
  for (let n = 0; n < count; n++) {
    id += n % 50_000 === 49_999 ? 2 : 1; // a row that is never broadcast: the dedupe must not grow
    const type = types[n % types.length];
    const session = `session-${n % 500}`;
    const tool = tools[n % tools.length];
    const payload = `{"session_id":"${session}","hook_event_name":"${type}","tool_name":"${tool}","tool_use_id":"toolu_${Math.floor(n / 2)}","notification_type":"idle_prompt","trigger":"auto","cwd":"/home/dev/proj","transcript_path":"/home/dev/.claude/projects/p/${session}.jsonl"}`;
    const extra = type === 'Stop' ? `,"chat":${chat}` : '';
    yield `{"type":"event","data":{"id":${id},"source_app":"app-${n % 30}","session_id":"${session}","hook_event_type":"${type}","payload":${payload},"timestamp":${1_795_600_000_000 + n}${extra}}}`;
    if (n % 1000 === 999) yield `{"type":"event","data":{"id":${id - 5},"source_app":"app-1","session_id":"s","hook_event_type":"HumanInTheLoop","payload":{},"timestamp":1}}`;
  }
}

async function websocketIngestion() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/stream' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const connected = new Promise((resolve) => wss.once('connection', resolve));
  const bridge = await BridgeProcess.start(`ws://127.0.0.1:${wss.address().port}/stream`, ['--expose-gc']);
  const socket = await connected;
  socket.send('{"type":"initial","data":[]}');
  const waitUntilCounted = async (target) => {
    for (let polls = 0; polls < 60_000; polls++) {
      const stats = await bridge.stats();
      if (stats.eventsTotal >= target) return stats;
      await sleep(5);
    }
    throw new Error(`the bridge did not count ${target} events`);
  };
  const before = await bridge.stats();
  const samples = [{ events: 0, rss: before.rssBytes, heap: before.heapUsedBytes, heapTotal: before.heapTotalBytes, external: before.externalBytes }];
  const start = performance.now();
  let sent = 0;
  let batch = [];
  let nextSample = WS_EVENTS / 10;
  let liveAfterFirstTenth = null;
  const flush = async () => {
    for (const frame of batch) socket.send(frame);
    batch = [];
    await waitUntilCounted(sent - WS_BATCH); // at most two batches in flight
    if (sent >= nextSample) {
      const stats = await waitUntilCounted(sent);
      samples.push({ events: sent, rss: stats.rssBytes, heap: stats.heapUsedBytes, heapTotal: stats.heapTotalBytes, external: stats.externalBytes });
      if (samples.length === 2) liveAfterFirstTenth = await bridge.stats('gc');
      nextSample += WS_EVENTS / 10;
    }
  };
  for (const frame of eventFrames(WS_EVENTS)) {
    batch.push(frame);
    if (!frame.includes('HumanInTheLoop')) sent += 1;
    if (batch.length >= WS_BATCH) await flush();
  }
  await flush();
  const after = await waitUntilCounted(WS_EVENTS);
  const wall = (performance.now() - start) / 1000;
  const liveAtEnd = await bridge.stats('gc');
  await bridge.stop();
  wss.close();
  const cpu = cpuSeconds(before.cpuMicros, after.cpuMicros);
  if (after.eventsTotal !== WS_EVENTS) throw new Error(`counted ${after.eventsTotal} of ${WS_EVENTS}`);
  const live = [liveAfterFirstTenth, liveAtEnd];
  return { events: WS_EVENTS, duplicates: after.duplicates, wall, perSecond: WS_EVENTS / wall, cpu, perCpuSecond: WS_EVENTS / cpu, samples, live };
}

const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${mb(os.totalmem())} MB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
console.log(`machine: ${machine}\n`);

const only = process.env.BENCH_ONLY; // latency | http | websocket: run one phase
if (only && !['latency', 'http', 'websocket'].includes(only)) throw new Error('BENCH_ONLY must be latency, http or websocket');

if (!only || only === 'latency') {
  const latency = await decisionLatency();
  console.log(`decision latency, ${latency.requests} requests at ${latency.achievedRate.toFixed(0)}/s (normal state, answer {}):`);
  console.log(`  p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms  (target p99 < 5 ms)\n`);
}

if (!only || only === 'http') {
  for (const [label, options] of [
    [`${HTTP_CONCURRENCY} keep-alive connections`, { keepAlive: true, events: HTTP_EVENTS, concurrency: HTTP_CONCURRENCY }],
    ['a new connection per event, like send_event.py, 8 at a time', { keepAlive: false, events: HTTP_EVENTS / 5, concurrency: 8 }],
  ]) {
    const http = await httpIngestion(options);
    console.log(`HTTP ingestion (POST /events, ${label}): ${http.events} events in ${http.wall.toFixed(2)} s`);
    console.log(`  ${http.perSecond.toFixed(0)} events/s wall, ${http.perCpuSecond.toFixed(0)} events per CPU-second of the bridge  (target >= 5,000/s on one core)\n`);
  }
}

if (!only || only === 'websocket') {
  const ws = await websocketIngestion();
  console.log(`WebSocket ingestion: ${ws.events} events (+${ws.duplicates} replayed duplicates dropped) in ${ws.wall.toFixed(2)} s`);
  console.log(`  ${ws.perSecond.toFixed(0)} events/s wall, ${ws.perCpuSecond.toFixed(0)} events per CPU-second of the bridge  (target >= 5,000/s on one core)`);
  console.log('  RSS by events counted (target < 150 MB, flat):');
  for (const s of ws.samples) {
    console.log(`    ${String(s.events).padStart(9)}  rss ${mb(s.rss)} MB  heap used ${mb(s.heap)} / total ${mb(s.heapTotal)} MB  external ${mb(s.external)} MB`);
  }
  const [tenth, end] = ws.live;
  console.log('  after a full GC (the live set):');
  console.log(`    ${String(ws.samples[1].events).padStart(9)}  rss ${mb(tenth.rssBytes)} MB  heap used ${mb(tenth.heapUsedBytes)} MB`);
  console.log(`    ${String(ws.events).padStart(9)}  rss ${mb(end.rssBytes)} MB  heap used ${mb(end.heapUsedBytes)} MB`);
}
