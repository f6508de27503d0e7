// One usage poll over a large synthetic transcript history: wall time and the bridge's RSS.
//   npm run bench:usage                             (builds; generates ~210 MB in a temp dir, then deletes it)
//   node bench/usage.bench.mjs --mb 300 --keep       (bigger history, kept for a re-run with --dir)
//   node bench/usage.bench.mjs --dir /tmp/history    (reuse a history: a folder containing projects/)
// Plain ESM importing the compiled bridge from dist/: no loader needed.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (file) => import(path.join(here, '..', 'dist', file));
const { Bridge } = await dist('bridge.js');
const { validateConfig } = await dist('config/index.js');
const { MemoryStateStore } = await dist('recovery/store.js');
const { silentLogger } = await dist('util/logger.js');
const { createUsageComponent } = await dist('sources/usage/index.js');
const { CcusageDailyCost, CcusageRunner, ccusageCommand } = await dist('sources/usage/ccusage.js');
const { projectDirs, writeBlockTranscript } = await dist('sources/usage/block-transcript.js');

const { values } = parseArgs({ options: { mb: { type: 'string', default: '210' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(0);
const seconds = (ms) => (ms / 1000).toFixed(2);

async function main() {
  const root = values.dir ?? mkdtempSync(path.join(tmpdir(), 'usage-bench-'));
  try {
    if (!values.dir) generate(root);
    const files = transcriptFiles(path.join(root, 'projects'));
    const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    console.log(`history: ${files.length} transcript files, ${mib(bytes)} MiB in ${root}`);
    console.log(`machine: ${cpus().length} cores, node ${process.version}\n`);
    await measurePolls(root);
    await measureStages(root);
  } finally {
    if (!values.dir && !values.keep) rmSync(root, { recursive: true, force: true });
  }
}

function generate(root) {
  const started = performance.now();
  const out = execFileSync(process.execPath, [path.join(here, 'usage-history.mjs'), root, values.mb], { encoding: 'utf8' });
  console.log(`generated ${out.trim()} in ${seconds(performance.now() - started)} s`);
}

/** Full polls through the real component, as `serve` runs them: blocks ∥ daily, then the per-model split. */
async function measurePolls(root) {
  const config = validateConfig({ usage: { source: 'ccusage', claude_config_dir: root, timeout_s: 600, max_output_bytes: 256 * 1024 * 1024 } });
  const bridge = new Bridge({ config, logger: silentLogger, store: new MemoryStateStore(), components: [createUsageComponent({ env: { PATH: '' } })] });
  const usage = bridge.components.find((c) => c.name === 'usage');
  console.log(`bridge RSS before the first poll: ${mib(process.memoryUsage().rss)} MiB\n`);
  console.log('| poll | wall time | bridge RSS after | active block | health |');
  console.log('| --- | --- | --- | --- | --- |');
  for (let run = 1; run <= Number(values.runs); run++) {
    const started = performance.now();
    await usage.poller.pollOnce();
    const wall = performance.now() - started;
    const data = usage.section.read();
    const health = bridge.health.report().sources.ccusage;
    const block = data.block ? `${data.block.tokens_input_output} in+out tokens, $${data.block.cost_usd.toFixed(2)}` : 'none';
    console.log(`| ${run} | ${seconds(wall)} s | ${mib(process.memoryUsage().rss)} MiB | ${block} | ${health.up ? 'up' : `down: ${health.last_error}`} |`);
  }
  console.log(`\nbridge process peak RSS (maxRSS): ${mib(process.resourceUsage().maxRSS * 1024)} MiB\n`);
  await bridge.stop();
}

/** Each stage alone, with ccusage's own peak RSS, and a claude-monitor-style full parse in JS. */
async function measureStages(root) {
  const options = { usage: validateConfig({ usage: { timeout_s: 600, max_output_bytes: 256 * 1024 * 1024 } }).usage, configDir: root, now: () => Date.now() };
  const runner = new CcusageRunner(options);
  console.log('| stage | wall time | peak RSS |');
  console.log('| --- | --- | --- |');
  for (const args of [['blocks'], ['daily', '--by-agent']]) {
    console.log(`| ccusage ${args.join(' ')} | ${await timed(() => runner.json(args))} | ${ccusagePeakRss(root, args)} |`);
  }
  const daily = new CcusageDailyCost(options, runner);
  console.log(`| ccusage daily (today only, as polled) | ${await timed(() => daily.today())} | |`);
  const blocks = (await runner.json(['blocks'])).blocks;
  const active = blocks.find((b) => b.isActive);
  if (active) {
    const target = path.join(mkdtempSync(path.join(tmpdir(), 'usage-split-')), 'block.jsonl');
    const split = await timed(() => writeBlockTranscript(projectDirs(root), Date.parse(active.startTime), Date.parse(active.endTime), target));
    console.log(`| select active-block lines (files written since block start) | ${split} | |`);
    rmSync(path.dirname(target), { recursive: true, force: true });
  }
  const rssBefore = process.memoryUsage().rss;
  const full = await timed(() => parseAllLikeClaudeMonitor(root));
  console.log(`| JS full parse of every line, de-duplicated into 5-hour blocks (claude-monitor-equivalent) | ${full} | +${mib(Math.max(0, process.memoryUsage().rss - rssBefore))} MiB in the bridge |`);
}

async function timed(run) {
  const started = performance.now();
  await run();
  return `${seconds(performance.now() - started)} s`;
}

function ccusagePeakRss(root, args) {
  const { file, prefix } = ccusageCommand();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', file, ...prefix, ...args, '--json', '--offline'], {
    env: { ...process.env, CLAUDE_CONFIG_DIR: root },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const kb = Number(result.stderr.trim().split('\n').pop());
  return Number.isFinite(kb) ? `${mib(kb * 1024)} MiB (ccusage)` : 'n/a (no /usr/bin/time)';
}

/** What claude-monitor does in Python: read every line, keep assistant usage once per message+request, group into 5-hour blocks. */
async function parseAllLikeClaudeMonitor(root) {
  const seen = new Set();
  const blocks = new Map();
  for (const file of transcriptFiles(path.join(root, 'projects'))) {
    for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      const usage = entry.type === 'assistant' ? entry.message?.usage : undefined;
      if (!usage) continue;
      const key = `${entry.message.id}:${entry.requestId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const hour = Math.floor(Date.parse(entry.timestamp) / 3600_000);
      blocks.set(hour, (blocks.get(hour) ?? 0) + usage.input_tokens + usage.output_tokens);
    }
  }
  return blocks.size;
}

function transcriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

await main();
