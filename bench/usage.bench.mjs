// Usage analytics over a large synthetic history: the incremental transcript reader (the default
// usage source) side by side with the ccusage runs it replaces.
//   npm run bench:usage                                    (builds; generates 200 MiB under /tmp, then deletes it)
//   node bench/usage.bench.mjs --mb 1024 --keep             (1 GiB, kept for a re-run with --dir)
//   node bench/usage.bench.mjs --dir /tmp/history-1g        (reuse a history: a folder containing projects/)
// Plain ESM over the compiled bridge in dist/. Phases (`--only first|steady|latency`):
//   first   — the first full read (a fresh index) in its own process, and one `ccusage blocks` run
//             and one `ccusage daily` run, in turn, --runs times: wall, CPU and peak RSS (GNU time);
//   steady  — `claude-bridge serve` (source: transcripts) while a session appends --rate messages
//             a second for --seconds (measured after --warmup seconds of appends, starting --settle
//             seconds after the first read): the bridge's CPU (from /proc) as % of one core, split
//             by thread, its RSS; next to it the CPU of the ccusage poll it replaces (blocks ∥ daily
//             every 30 s);
//   latency — one message appended at a time: how long until /prometheus shows it (p50, p99, max).
// Appends go to a new session file in the history; the history is left as it was otherwise.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.mjs';
import { cpuSeconds, statusBytes } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const dist = (...parts) => path.join(root, 'dist', ...parts);
const TIME = '/usr/bin/time';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    days: { type: 'string', default: '120' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '60' },
    samples: { type: 'string', default: '100' },
    settle: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0' },
    only: { type: 'string' },
  },
});
const phase = (name) => !values.only || values.only === name;
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];

async function main() {
  if (!existsSync(dist('cli', 'main.js'))) throw new Error('build first: npm run build');
  const history = values.dir ?? mkdtempSync(path.join(tmpdir(), 'usage-history-'));
  try {
    if (!values.dir) {
      const started = performance.now();
      const out = execFileSync(process.execPath, [path.join(here, 'usage-history.mjs'), history, values.mb, '--days', values.days], { encoding: 'utf8' });
      console.log(`generated ${out.trim()} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    const files = transcriptFiles(path.join(history, 'projects'));
    const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    console.log(`history: ${files.length} transcript files, ${mib(bytes)} MiB in ${history}`);
    console.log(`machine: ${cpus().length} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    if (phase('first')) firstRead(history);
    if (phase('steady') || phase('latency')) await withBridge(history, async (bridge) => {
      if (phase('steady')) await steadyState(history, bridge);
      if (phase('latency')) await latency(history, bridge);
    });
  } finally {
    if (!values.dir && !values.keep) rmSync(history, { recursive: true, force: true });
  }
}

/** One process per run, measured from outside: wall here, CPU and peak RSS by GNU time. */
function timed(command, args, env = {}) {
  const started = performance.now();
  const result = spawnSync(TIME, ['-f', '%U %S %M', command, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.slice(-500)}`);
  const [user, system, kb] = result.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + system, peakMiB: kb / 1024, stdout: result.stdout };
}

function firstRead(history) {
  const ccusage = ccusageBinary();
  const reader = [process.execPath, [path.join(here, 'usage-first-read.mjs'), history]];
  const blocks = [ccusage, ['blocks', '--json', '--offline']];
  const daily = [ccusage, ['daily', '--json', '--offline', '--by-agent']];
  const rows = { reader: [], blocks: [], daily: [] };
  let summary = null;
  for (let run = 0; run < Number(values.runs); run++) {
    const r = timed(...reader);
    summary = JSON.parse(r.stdout);
    rows.reader.push(r);
    rows.blocks.push(timed(...blocks, { CLAUDE_CONFIG_DIR: history }));
    rows.daily.push(timed(...daily, { CLAUDE_CONFIG_DIR: history }));
  }
  console.log(`## first full read (${values.runs} runs each, in turn; medians, [min–max])\n`);
  console.log('| | wall s | CPU s | peak RSS MiB |');
  console.log('| --- | --- | --- | --- |');
  const line = (name, list) => {
    const cell = (key, digits) => `${median(list.map((x) => x[key])).toFixed(digits)} [${Math.min(...list.map((x) => x[key])).toFixed(digits)}–${Math.max(...list.map((x) => x[key])).toFixed(digits)}]`;
    console.log(`| ${name} | ${cell('wall', 2)} | ${cell('cpu', 2)} | ${cell('peakMiB', 0)} |`);
  };
  line('transcript reader, first read (fresh index)', rows.reader);
  line('`ccusage blocks --json --offline`', rows.blocks);
  line('`ccusage daily --json --offline --by-agent`', rows.daily);
  console.log(`\nreader: ${summary.entries} entries counted, ${summary.files} files, ${summary.workers} read by worker threads, parser ${summary.parser}; ${summary.blocks} blocks\n`);
}

function ccusageBinary() {
  const native = path.join(root, 'node_modules', '@ccusage', `ccusage-${process.platform}-${process.arch}`, 'bin', 'ccusage');
  if (!existsSync(native)) throw new Error(`no ccusage binary at ${native}`);
  return native;
}


/** `claude-bridge serve` with the transcript source over the history, in its own process. */
async function withBridge(history, body) {
  const work = mkdtempSync(path.join(tmpdir(), 'usage-bench-bridge-'));
  const port = await freePort();
  const config = path.join(work, 'config.yaml');
  writeFileSync(
    config,
    [
      `server: { port: ${port} }`,
      `state: { dir: ${JSON.stringify(path.join(work, 'state'))} }`,
      'hooks_server: { enabled: false }',
      'otlp: { port: 0 }',
      'logging: { level: warn }',
      `usage: { source: transcripts, claude_config_dir: ${JSON.stringify(history)} }`,
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const nodeArgs = process.env.BENCH_BRIDGE_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
  const child = spawn(process.execPath, [...nodeArgs, dist('cli', 'main.js'), 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`the bridge exited during the bench: ${code ?? signal}`);
  });
  try {
    await until(async () => {
      const health = await fetch(`${url}/health`).then((r) => r.json()).catch(() => null);
      return health?.sources?.transcripts?.up === true;
    }, 600_000);
    console.log(`bridge up with the history read: ${((performance.now() - started) / 1000).toFixed(1)} s after start, RSS ${rssMiB(child.pid).toFixed(0)} MiB\n`);
    await body({ url, pid: child.pid });
  } finally {
    stopping = true;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
    for (const file of appendedFiles.splice(0)) rmSync(file, { force: true });
  }
}

async function until(condition, timeoutMs) {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** CPU seconds of the main (JavaScript) thread and of all the others (V8's compiler and GC, libuv's pool). */
function cpuByThread(pid) {
  const byName = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const key = tid === String(pid) ? 'main thread' : 'other threads';
      byName.set(key, (byName.get(key) ?? 0) + cpuSeconds(pid, `/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

function rssMiB(pid, key = 'VmRSS') {
  return statusBytes(pid, key) / 1024 / 1024;
}

/** Session files the bench appended to, removed after the bridge stopped. */
const appendedFiles = [];

/** A Claude Code-like session file in the history that the bench appends to. */
function appender(history) {
  const dir = path.join(history, 'projects', '-home-dev-bench-appends');
  mkdirSync(dir, { recursive: true });
  const session = `bench-${process.pid}-${Date.now()}`;
  const file = path.join(dir, `${session}.jsonl`);
  appendedFiles.push(file);
  // ids of their own: a copy of a message in a file deleted meanwhile would cost the reader a full read
  let n = 0;
  return {
    file,
    /** One assistant message, written as Claude Code does: one line per content block. */
    append(outputTokens = 100) {
      n += 1;
      const at = new Date().toISOString();
      const usage = { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 5000, output_tokens: outputTokens, cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 } };
      const line = (block) =>
        JSON.stringify({ parentUuid: null, isSidechain: false, userType: 'external', cwd: '/home/dev/bench', sessionId: session, version: '2.1.197', type: 'assistant', timestamp: at, requestId: `req_${session}_${n}`, message: { id: `msg_${session}_${n}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [block], stop_reason: 'end_turn', usage } });
      appendFileSync(file, `${line({ type: 'text', text: 'working on it '.repeat(20) })}\n${line({ type: 'tool_use', id: `toolu_${n}`, name: 'Read', input: { file_path: '/src/a.ts' } })}\n`);
    },
  };
}

async function steadyState(history, bridge) {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const writer = appender(history); // removed once the bridge has stopped: a removal would move the figures
  // after the first read: --settle 30 lets V8's memory reducer collect the first read's garbage first
  await new Promise((resolve) => setTimeout(resolve, Number(values.settle) * 1000));
  // --warmup: appends before the measured window, while V8 still optimises the code they run
  const warmup = Number(values.warmup);
  const rss = [];
  const writing = performance.now();
  let sent = 0;
  let measured = null;
  while (performance.now() - writing < (warmup + seconds) * 1000) {
    const due = Math.floor(((performance.now() - writing) / 1000) * rate);
    for (; sent < due; sent++) writer.append();
    if (!measured && performance.now() - writing >= warmup * 1000) {
      measured = { started: performance.now(), sent, cpu: cpuSeconds(bridge.pid), threads: cpuByThread(bridge.pid) };
    }
    if (measured && sent % rate === 0) rss.push(rssMiB(bridge.pid));
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate / 2));
  }
  const { started, cpu: cpuBefore, threads: threadsBefore } = measured;
  sent -= measured.sent;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(bridge.pid) - cpuBefore;
  const threads = [...cpuByThread(bridge.pid)].map(([name, s]) => [name, s - (threadsBefore.get(name) ?? 0)]).filter(([, s]) => s > 0);
  const poll = ccusagePoll(history);
  console.log(`## steady state: ${sent} messages appended at ${rate}/s over ${elapsed.toFixed(0)} s (after ${warmup} s of appends not measured)\n`);
  console.log('| | CPU, % of one core | RSS MiB |');
  console.log('| --- | --- | --- |');
  console.log(`| bridge, transcript reader (file watch, reads ≥ 500 ms apart, 20 s sweep, 300 s index writes) | ${((cpu / elapsed) * 100).toFixed(2)} % | ${median(rss).toFixed(0)} median, ${Math.max(...rss).toFixed(0)} max, ${rssMiB(bridge.pid, 'VmHWM').toFixed(0)} peak (VmHWM) |`);
  console.log(`| of which, by thread | ${threads.map(([name, s]) => `${name} ${((s / elapsed) * 100).toFixed(2)} %`).join(', ')} | — |`);
  console.log(`| the ccusage poll it replaces: blocks ∥ daily every 30 s (${poll.cpu.toFixed(2)} CPU s per poll, children's peak ${poll.peakMiB.toFixed(0)} MiB) | ${((poll.cpu / 30) * 100).toFixed(2)} % | — |\n`);
}

/** One poll of the ccusage source: `blocks` and `daily` (the active block's split adds a little more). */
function ccusagePoll(history) {
  const ccusage = ccusageBinary();
  const blocks = timed(ccusage, ['blocks', '--json', '--offline'], { CLAUDE_CONFIG_DIR: history });
  const daily = timed(ccusage, ['daily', '--json', '--offline', '--by-agent'], { CLAUDE_CONFIG_DIR: history });
  return { cpu: blocks.cpu + daily.cpu, peakMiB: Math.max(blocks.peakMiB, daily.peakMiB) };
}

async function latency(history, bridge) {
  const writer = appender(history);
  const samples = Number(values.samples);
  const seen = [];
  // a kept-alive connection the bridge closed while idle (during the steady phase) fails once: ask again
  const scrape = () => fetch(`${bridge.url}/prometheus`).then((r) => r.text());
  const outputTokens = async () => {
    const text = await scrape().catch(scrape);
    const line = text.split('\n').find((l) => l.startsWith('claude_bridge_usage_block_tokens{kind="output"} '));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  writer.append();
  await until(async () => (await outputTokens()) > 0, 10_000);
  for (let i = 0; i < samples; i++) {
    const before = await outputTokens();
    const extra = 1000 + i;
    const started = performance.now();
    writer.append(extra);
    await until(async () => (await outputTokens()) >= before + extra, 10_000);
    seen.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`## append → /prometheus (${samples} messages, one at a time; /prometheus read in a loop)\n`);
  console.log(`p50 ${quantile(seen, 0.5).toFixed(0)} ms, p99 ${quantile(seen, 0.99).toFixed(0)} ms, max ${Math.max(...seen).toFixed(0)} ms\n`);
}

function transcriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

await main();
