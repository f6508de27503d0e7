import { createServer } from 'node:net';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/command.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { sessionsComponent } from '../../src/sources/sessions/index.js';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { readRepoFile } from '../support/binaries.js';

async function status(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: process.cwd() };
  const code = await main(['status', ...args], io);
  return { code, stdout, stderr };
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('claude-bridge status', () => {
  let api: RunningBridge;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    api = await startBridge({
      config: testConfig({ usage: { source: 'none' } }),
      clock,
      components: [hooksComponent, sessionsComponent, createUsageComponent({ timeZone: 'UTC' })],
    });
  });
  afterEach(() => api.stop());

  it('exits 0 and shows the state, usage, sessions and sources when the bridge runs normally', async () => {
    const input = JSON.parse(readRepoFile('test/fixtures/claude-code/statusline-input.json'));
    await api.post('/statusline', input);
    const { code, stdout } = await status(['--url', api.url]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NORMAL\n/);
    expect(stdout).toContain('Sessions (1)');
    expect(stdout).toMatch(/directory\s+Opus\s+0 prompts\s+0 tools \$ {2}0\.01/);
    expect(stdout).toMatch(/cost today\s+not known/);
    expect(stdout).toContain('Sources  bridge');
    expect(stdout).not.toContain('\x1b['); // no colour when not a terminal
  });

  it('exits 2 when paused, with the reason and the time left', async () => {
    const resetsAt = clock.now() + 90 * 60_000;
    expect((await api.post('/alerts/time_limit', { summary: 'five hours of work', resets_at: resetsAt / 1000 })).status).toBe(200);
    const { code, stdout } = await status(['--url', api.url]);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^PAUSED {2}resumes in 1h30m/);
    expect(stdout).toContain('alert time_limit → session_pause: five hours of work');
  });

  it('exits 2 while backing off', async () => {
    expect((await api.post('/alerts/rate_limit', { summary: 'rate limited' })).status).toBe(200);
    const { code, stdout } = await status(['--url', api.url]);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^BACKOFF/);
  });

  it('--json prints the GET /status summary', async () => {
    const { code, stdout } = await status(['--url', api.url, '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(parsed.recovery.state).toBe('normal');
    expect(parsed).toEqual((await api.get('/status')).body);
  });
});

describe('claude-bridge status with no bridge', () => {
  it('exits 1 and says the bridge is down (and --json says so too)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const plain = await status(['--url', url]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`bridge down: ${url}`);
    const json = await status(['--url', url, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ bridge: 'down', url });
  });
});
