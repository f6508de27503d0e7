// Cost per call of the command hook `claude-bridge hook PreToolUse` (issue 11), beside the HTTP
// hook and the hooks observability project's send_event.py. Run with `npm run bench:hook-command`
// (builds dist/ first); options:
//   --runs N              calls per variant (default 40), interleaved round-robin so load noise
//                         spreads over every variant alike
//   --send-event FILE     the observability project's .claude/hooks/send_event.py (not part of this
//                         repository: clone it yourself); without it those rows are left out
//   --python CMD          the interpreter for send_event.py (default python3)
// Every variant is a fresh process per call, as Claude Code starts one per hook, fed the recorded
// PreToolUse input on stdin; wall time is from spawn to exit, CPU time (user+system) comes from
// /usr/bin/time when it is installed. The bridge runs as its own process (`claude-bridge serve`).
// Loopback only.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './free-port.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/cli/main.js');
const recorded = (event) => readFileSync(path.resolve(here, `../test/fixtures/claude-code/http-hook-inputs/${event}.json`), 'utf8');
const input = recorded('PreToolUse');
const { values } = parseArgs({ options: { runs: { type: 'string' }, 'send-event': { type: 'string' }, python: { type: 'string' } } });
const runs = Number(values.runs ?? 40);
const python = values.python ?? 'python3';
const sendEvent = values['send-event'] ? path.resolve(values['send-event']) : null;
if (sendEvent && !existsSync(sendEvent)) throw new Error(`${sendEvent} does not exist`);
const timeBinary = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const root = mkdtempSync(path.join(os.tmpdir(), 'bench-hook-command-'));
const deadPort = await freePort();

function config(name, stateDir, port = 0) {
  const file = path.join(root, name);
  writeFileSync(file, `server: { host: 127.0.0.1, port: ${port} }\nstate: { dir: ${JSON.stringify(stateDir)} }\nhooks_server: { enabled: false }\notlp: { port: 0 }\nusage: { source: none }\nalerting: { mode: alertmanager }\nlogging: { level: warn }\n`);
  return file;
}

/** The bridge as a process; resolves with its URL once it listens. */
async function startBridge(configFile) {
  const child = spawn(process.execPath, [cli, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      log += chunk;
      const match = /"msg":"bridge listening".*?"port":(\d+)/.exec(log);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`bridge exited with ${code}:\n${log}`)));
  });
  child.stdout.resume();
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))) };
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One process run: wall ms, CPU ms (or null), exit code, stdout. */
function runProcess(command, args, stdin) {
  const [file, argv] = timeBinary ? [timeBinary, ['-f', 'CPU %U %S', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const wall = performance.now() - started;
      const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve({ wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null, code, stdout });
    });
    child.stdin.end(stdin);
  });
}


const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

try {
  const stateDir = path.join(root, 'state');
  const pausedDir = path.join(root, 'paused-state');
  mkdirSync(pausedDir, { recursive: true });
  const bridge = await startBridge(config('bridge.yaml', stateDir));
  // a saved pause for the "down, paused" rows: the bridge's own file, written while it paused
  await post(`${bridge.url}/alerts/time_limit`, JSON.stringify({ resets_at: new Date(Date.now() + 3_600_000).toISOString() }));
  writeFileSync(path.join(pausedDir, 'recovery-state.json'), readFileSync(path.join(stateDir, 'recovery-state.json')));
  await post(`${bridge.url}/recovery/resume`, '');
  const normalConfig = config('normal.yaml', stateDir);
  const pausedConfig = config('paused.yaml', pausedDir);
  const dead = `http://127.0.0.1:${deadPort}`;

  const variants = [
    { name: 'HTTP hook: POST /hooks/PreToolUse, new connection (no process start)', http: true },
    { name: '`claude-bridge hook PreToolUse`, bridge up', command: process.execPath, args: [cli, 'hook', 'PreToolUse', '--url', bridge.url], expect: '{}' },
    { name: '`claude-bridge hook PreToolUse`, bridge down, saved state normal', command: process.execPath, args: [cli, 'hook', 'PreToolUse', '--url', dead, '--config', normalConfig], expect: '{}' },
    { name: '`claude-bridge hook PreToolUse`, bridge down, saved pause (deny)', command: process.execPath, args: [cli, 'hook', 'PreToolUse', '--url', dead, '--config', pausedConfig], expect: '"deny"' },
    { name: '`claude-bridge hook PostToolUse`, bridge down (no decision: nothing read)', command: process.execPath, args: [cli, 'hook', 'PostToolUse', '--url', dead, '--config', pausedConfig], stdin: recorded('PostToolUse'), expect: '{}' },
    ...(sendEvent
      ? [
          { name: '`python3 send_event.py`, server up (the bridge\'s POST /events)', command: python, args: [sendEvent, '--source-app', 'bench', '--event-type', 'PreToolUse', '--server-url', `${bridge.url}/events`] },
          { name: '`python3 send_event.py`, server down', command: python, args: [sendEvent, '--source-app', 'bench', '--event-type', 'PreToolUse', '--server-url', `${dead}/events`] },
        ]
      : []),
    { name: 'floor: `node -e 0`', command: process.execPath, args: ['-e', '0'] },
    { name: 'floor: `python3 -c pass`', command: python, args: ['-c', 'pass'] },
  ];
  const results = new Map(variants.map((v) => [v, { wall: [], cpu: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const result = results.get(variant);
      if (variant.http) {
        const started = performance.now();
        const status = await post(`${bridge.url}/hooks/PreToolUse`, input);
        if (status !== 200) throw new Error(`POST /hooks/PreToolUse answered ${status}`);
        result.wall.push(performance.now() - started);
        continue;
      }
      const run = await runProcess(variant.command, variant.args, variant.stdin ?? input);
      if (run.code !== 0) throw new Error(`${variant.name} exited with ${run.code}`);
      if (variant.expect && !run.stdout.includes(variant.expect)) throw new Error(`${variant.name} printed ${run.stdout}`);
      result.wall.push(run.wall);
      if (run.cpu !== null) result.cpu.push(run.cpu);
    }
  }
  await bridge.stop();

  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\n${runs} calls per variant, Node ${process.version}, ${os.cpus().length} CPUs, load average at the end ${load}\n`);
  console.log('| variant | wall p50 | wall p10–p90 | CPU p50 (user+sys) |');
  console.log('| --- | --- | --- | --- |');
  for (const [variant, { wall, cpu }] of results) {
    const w = [...wall].sort((a, b) => a - b);
    const c = [...cpu].sort((a, b) => a - b);
    const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
    console.log(`| ${variant.name} | ${ms(quantile(w, 0.5))} | ${ms(quantile(w, 0.1))}–${ms(quantile(w, 0.9))} | ${c.length ? ms(quantile(c, 0.5)) : '—'} |`);
  }
  if (!sendEvent) console.log('\n(send_event.py rows left out: pass --send-event PATH/TO/.claude/hooks/send_event.py)');
  if (!timeBinary) console.log('\n(no /usr/bin/time: CPU column left out)');
} finally {
  rmSync(root, { recursive: true, force: true });
}
