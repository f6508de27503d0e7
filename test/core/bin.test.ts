import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { BRIDGE_VERSION } from '../../src/version.js';
import { repoPath } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { freePort } from '../support/processes.js';

const BIN = repoPath('dist', 'cli', 'claude-bridge.cjs');
const fixture = readFixture('claude-code', 'statusline-input.json');
/** Against a live bridge the default 300 ms budget is the status line's, not the test's: a loaded CI machine needs more. */
const LIVE_BRIDGE_TIMEOUT_MS = '10000';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bin as Claude Code runs it: its own process, the input on a stdin pipe, closed once written unless `keepOpen`. */
function runBin(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; keepOpen?: boolean } = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.on('error', () => undefined); // a command that does not read stdin may exit before the write
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepOpen) child.stdin.end();
  return new Promise((resolve) =>
    child.once('close', (code) => {
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The `claude-bridge` bin: the status line command bundled into one CommonJS file, every other command handed to main.js. */
describe('the claude-bridge bin (dist/cli/claude-bridge.cjs)', () => {
  let api: RunningBridge | null = null;
  beforeAll(() => {
    // the bundle from today's sources (npm test builds main.js, which the other commands need)
    const build = spawnSync(process.execPath, [repoPath('scripts', 'bundle-cli.mjs')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`bundle failed:\n${build.stdout}${build.stderr}`);
  }, 60_000);
  afterEach(async () => {
    await api?.stop();
    api = null;
  });

  it('statusline, bridge up: forwards the input and prints the line from the answer', async () => {
    api = await startBridge({
      config: testConfig({ usage: { source: 'none' } }),
      clock: new ManualClock(Date.parse('2025-02-01T15:00:00Z')),
      components: [createUsageComponent()],
    });
    const result = await runBin(['statusline', '--url', api.url, '--timeout-ms', LIVE_BRIDGE_TIMEOUT_MS], { input: fixture });
    expect(result).toEqual({ code: 0, stdout: '5h 24% | normal\n', stderr: '' });
    expect((await api.get('/prometheus')).text).toContain('claude_bridge_statusline_updates_total 1');
  });

  it('statusline, bridge down: prints what the input says and exits 0', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    expect(await runBin(['statusline', '--url', url], { input: fixture })).toEqual({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n', stderr: '' });
    expect(await runBin(['statusline', `--url=${url}`], { input: '{{{' })).toEqual({ code: 0, stdout: 'bridge offline\n', stderr: '' });
  });

  it('statusline: sends CLAUDE_BRIDGE_AUTH_TOKEN as a bearer token to $CLAUDE_BRIDGE_URL', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      request.on('end', () => response.end(JSON.stringify({ five_hour: null, seven_day: null, block: null, day_cost_usd: 1.25, recovery_state: 'normal' })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runBin(['statusline', '--timeout-ms', LIVE_BRIDGE_TIMEOUT_MS], { input: fixture, env: { CLAUDE_BRIDGE_URL: url, CLAUDE_BRIDGE_AUTH_TOKEN: 's3cret' } });
      expect(result).toEqual({ code: 0, stdout: '$1.25 today | normal\n', stderr: '' });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ authorization: 'Bearer s3cret', 'content-type': 'application/json' });
    } finally {
      server.close();
    }
  });

  it('statusline: does not wait for a stdin pipe that is never closed', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runBin(['statusline', '--url', url], { input: fixture, keepOpen: true });
    expect(result).toEqual({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n', stderr: '' });
  });

  it('hands every other command, and a status line call with other options, to main.js', async () => {
    expect(await runBin(['--version'])).toEqual({ code: 0, stdout: `${BRIDGE_VERSION}\n`, stderr: '' });
    const usage = await runBin(['statusline', '--help']);
    expect(usage).toMatchObject({ code: 0, stderr: '' });
    expect(usage.stdout).toMatch(/^claude-bridge statusline \[--url URL\] \[--timeout-ms N\]/);
    const wrong = await runBin(['statusline', '--bogus']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^claude-bridge statusline: Unknown option '--bogus'/);
    const unknown = await runBin(['nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^claude-bridge: unknown command "nope"/);
  });
});
