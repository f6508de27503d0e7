// `claude-bridge statusline` side by side with a bare Node start, bridge down and bridge up.
//   npm run bench:statusline                 (builds first)
//   node bench/statusline.bench.mjs --runs 40
// Each round runs A (the status line command as the `claude-bridge` bin runs it, the bundled
// dist/cli/claude-bridge.cjs, fed the recorded status line input on stdin) and
// B (`node -e ''`) in turn, so a machine whose speed drifts slows both alike; the A/B ratio is
// taken round by round and its median quoted. Wall time is measured here around the whole child
// process; CPU (user+system) and peak RSS come from GNU time (/usr/bin/time), the operating
// system's own accounting of the finished child.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const RUNS = Number(values.runs);
const TIME = '/usr/bin/time';
const BIN = path.join(root, JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).bin['claude-bridge']);
const input = readFileSync(path.join(root, 'test', 'fixtures', 'claude-code', 'statusline-input.json'));

function measure(command, args) {
  const started = process.hrtime.bigint();
  const result = existsSync(TIME)
    ? spawnSync(TIME, ['-f', '%U %S %M', command, ...args], { input, encoding: 'utf8' })
    : spawnSync(command, args, { input, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, system, kb] = (result.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { wall, cpu: user + system, peakMiB: kb / 1024, stdout: result.stdout.trim() };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};


async function startBridge() {
  const dir = mkdtempSync(path.join(tmpdir(), 'statusline-bench-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `server:\n  port: ${port}\nstate:\n  dir: ${dir}/state\nhooks_server:\n  enabled: false\notlp:\n  port: 0\nusage:\n  source: none\nlogging:\n  level: silent\n`);
  const child = spawn(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'serve', '--config', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) {
        const stop = async () => {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill();
          await exited;
          rmSync(dir, { recursive: true, force: true });
        };
        return { url, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill();
  throw new Error('the bridge did not start');
}

function scenario(name, url) {
  const A = [process.execPath, [BIN, 'statusline', '--url', url]];
  const B = [process.execPath, ['-e', '']];
  measure(...A);
  measure(...B); // warm-up, not counted
  const rows = [];
  for (let i = 0; i < RUNS; i++) rows.push({ a: measure(...A), b: measure(...B) });
  const pick = (side, key) => median(rows.map((r) => r[side][key]));
  const ratio = (key) => median(rows.map((r) => r.a[key] / r.b[key]));
  console.log(`\n${name} (${RUNS} rounds; A prints: ${JSON.stringify(rows[0].a.stdout)})`);
  console.log('| | wall s (median) | CPU s (median) | peak RSS MiB (median) |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| A \`claude-bridge statusline\` | ${pick('a', 'wall').toFixed(3)} | ${pick('a', 'cpu').toFixed(3)} | ${pick('a', 'peakMiB').toFixed(1)} |`);
  console.log(`| B \`node -e ''\` | ${pick('b', 'wall').toFixed(3)} | ${pick('b', 'cpu').toFixed(3)} | ${pick('b', 'peakMiB').toFixed(1)} |`);
  console.log(`| A/B, median of the rounds' ratios | ${ratio('wall').toFixed(2)}× | ${ratio('cpu').toFixed(2)}× | ${ratio('peakMiB').toFixed(2)}× |`);
}

if (!existsSync(BIN)) throw new Error('build first: npm run build');
scenario('bridge down (nothing listens on the port)', `http://127.0.0.1:${await freePort()}`);
const bridge = await startBridge();
try {
  scenario('bridge up (`claude-bridge serve` on loopback)', bridge.url);
} finally {
  await bridge.stop();
}
