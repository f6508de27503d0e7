// Mixed HTTP load on `claude-bridge serve` (issue 10: "2,000 req/s for 30 s"). Run with
// `npm run bench:load` (builds dist/ first). BENCH_RATE (2000) and BENCH_SECONDS (30) override.
//
// The bridge is the real CLI with its default components (hooks server and usage subprocesses
// off, so only HTTP is measured), in its own process with its own state folder. This process
// sends an open-loop mix: each request leaves at its scheduled time whatever the previous ones
// did, and its latency is counted from that time (no coordinated omission). The mix is what a
// busy developer's bridge sees: Claude Code's HTTP hooks (distinct sessions), send_event.py
// bodies, status line updates, and Prometheus and health checks reading.
// Reported: latency percentiles per kind, errors, the rate achieved, the bridge's RSS (start,
// peak, end, and every 10 s) and CPU. Loopback only; bounded in time. The shares of GET /prometheus
// and /health are what many scrapers and probes would send, not what one Prometheus does (one
// scrape every 15 s): a scrape costs about 8 ms of CPU, so 200 scrapes/s would be the bench.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.mjs';
import { cpuSeconds, statusBytes } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const fixtures = path.join(root, 'test/fixtures');
const readJson = (...parts) => JSON.parse(readFileSync(path.join(fixtures, ...parts), 'utf8'));

const RATE = Number(process.env.BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const TICK_MS = 10;

const HOOK_EVENTS = ['PreToolUse', 'PostToolUse', 'UserPromptSubmit', 'Stop'];
const HOOK_INPUTS = Object.fromEntries(HOOK_EVENTS.map((name) => [name, readJson('claude-code', 'http-hook-inputs', `${name}.json`)]));
const SEND_EVENT_BODIES = readFileSync(path.join(fixtures, 'hooks-server', 'send_event-post-bodies.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line).body);
const STATUS_LINE = readJson('claude-code', 'statusline-input.json');

/** The mix, by share of requests; BENCH_ONLY=<kind> sends one kind alone (to see what each costs). */
const FULL_MIX = [
  { kind: 'POST /hooks/:event', share: 0.55 },
  { kind: 'POST /events', share: 0.3 },
  { kind: 'POST /statusline', share: 0.13 },
  { kind: 'GET /prometheus', share: 0.01 },
  { kind: 'GET /health', share: 0.01 },
];
const MIX = process.env.BENCH_ONLY ? [{ kind: process.env.BENCH_ONLY, share: 1 }] : FULL_MIX;


/** The n-th request of a kind: distinct sessions (100 of them) and tool calls, as many Claude Code sessions would send. */
function requestFor(kind, n) {
  const session = `load-session-${n % 100}`;
  switch (kind) {
    case 'POST /hooks/:event': {
      const event = HOOK_EVENTS[n % HOOK_EVENTS.length];
      return { method: 'POST', path: `/hooks/${event}`, body: { ...HOOK_INPUTS[event], session_id: session, tool_use_id: `toolu_load_${n}` } };
    }
    case 'POST /events': {
      const body = SEND_EVENT_BODIES[n % SEND_EVENT_BODIES.length];
      return { method: 'POST', path: '/events', body: { ...body, session_id: session } };
    }
    case 'POST /statusline':
      return { method: 'POST', path: '/statusline', body: { ...STATUS_LINE, session_id: session } };
    default:
      return { method: 'GET', path: kind.slice('GET '.length) };
  }
}

function send(agent, port, { method, path: pathname, body }) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const headers = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    const req = request({ host: '127.0.0.1', port, path: pathname, method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(text);
  });
}

/** VmRSS and VmHWM (peak) of a process, in bytes, and its CPU seconds (user + system). */
function processFigures(pid) {
  return { rss: statusBytes(pid, 'VmRSS'), peak: statusBytes(pid, 'VmHWM'), cpuSeconds: cpuSeconds(pid) };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startBridge() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bridge-load-'));
  const port = await freePort();
  const otlpPort = await freePort();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `server: { host: 127.0.0.1, port: ${port} }`,
      'hooks_server: { enabled: false }',
      'usage: { source: none }',
      `otlp: { host: 127.0.0.1, port: ${otlpPort} }`,
      `state: { dir: ${JSON.stringify(path.join(dir, 'state'))} }`,
      'logging: { level: warn }',
      '',
    ].join('\n'),
  );
  const nodeArgs = process.env.BENCH_BRIDGE_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/cli/main.js'), 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bridge exited with ${child.exitCode}`);
    if ((await send(undefined, port, { method: 'GET', path: '/health' })) !== 0) break;
    if (Date.now() > deadline) throw new Error('the bridge did not answer within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main() {
  const bridge = await startBridge();
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const latencies = Object.fromEntries(MIX.map((m) => [m.kind, []]));
  const errors = Object.fromEntries(MIX.map((m) => [m.kind, 0]));
  const counts = Object.fromEntries(MIX.map((m) => [m.kind, 0]));
  const atStart = processFigures(bridge.pid);
  const total = RATE * SECONDS;
  const perTick = (RATE * TICK_MS) / 1000;
  const pending = [];
  const started = performance.now();
  let sent = 0;
  const rssSamples = [];
  const sampler = setInterval(() => rssSamples.push(processFigures(bridge.pid).rss), 1000);
  // A weighted round robin over the mix, so that each kind gets its share exactly.
  const schedule = [];
  for (const { kind, share } of MIX) for (let i = 0; i < Math.round(share * 100); i += 1) schedule.push(kind);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / TICK_MS + 1) * perTick));
    for (; sent < due; sent += 1) {
      const kind = schedule[sent % schedule.length];
      const n = counts[kind]++;
      const scheduledAt = started + (sent / RATE) * 1000;
      pending.push(
        send(agent, bridge.port, requestFor(kind, n)).then((status) => {
          latencies[kind].push(performance.now() - scheduledAt);
          if (status < 200 || status >= 300) errors[kind] += 1;
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const atEnd = processFigures(bridge.pid);
  await bridge.stop();
  agent.destroy();

  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(`claude-bridge serve under mixed load: ${RATE} req/s offered for ${SECONDS} s (${total} requests), ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log(`achieved ${(total / elapsed).toFixed(0)} req/s (all answered after ${elapsed.toFixed(1)} s)`);
  console.log('| requests | share | p50 ms | p99 ms | max ms | non-2xx |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const all = [];
  for (const { kind, share } of MIX) {
    const sorted = latencies[kind].sort((a, b) => a - b);
    all.push(...sorted);
    console.log(`| ${kind} | ${Math.round(share * 100)} % | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${sorted.at(-1).toFixed(1)} | ${errors[kind]} |`);
  }
  all.sort((a, b) => a - b);
  console.log(`| all | 100 % | ${percentile(all, 50).toFixed(1)} | ${percentile(all, 99).toFixed(1)} | ${all.at(-1).toFixed(1)} | ${Object.values(errors).reduce((a, b) => a + b, 0)} |`);
  console.log(`bridge RSS every 10 s: ${rssSamples.filter((_, i) => i % 10 === 9).map(mb).join(', ')}`);
  console.log(`bridge RSS: ${mb(atStart.rss)} at start, ${mb(Math.max(...rssSamples, atEnd.rss))} highest sampled, ${mb(atEnd.rss)} at the end (peak VmHWM ${mb(atEnd.peak)}); CPU ${(atEnd.cpuSeconds - atStart.cpuSeconds).toFixed(1)} s over ${elapsed.toFixed(1)} s (${(((atEnd.cpuSeconds - atStart.cpuSeconds) / elapsed) * 100).toFixed(0)} % of a core)`);
}

await main();
