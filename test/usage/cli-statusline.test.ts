import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../../src/cli/command.js';
import { COMMANDS, main } from '../../src/cli/main.js';
import { statuslineCommand } from '../../src/cli/statusline.js';
import { createUsageComponent, type UsageComponent } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { freePort } from '../support/processes.js';

const fixture = readFixture('claude-code', 'statusline-input.json');
/** Against a live bridge the default 300 ms budget is the status line's, not the test's: a loaded CI machine needs more. */
const LIVE_BRIDGE_TIMEOUT_MS = '10000';

async function runStatusline(stdin: NodeJS.ReadableStream, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: process.cwd(), stdin };
  const code = await main(['statusline', ...args], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('claude-bridge statusline', () => {
  let api: RunningBridge | null = null;
  afterEach(async () => {
    await api?.stop();
    api = null;
  });

  it('is registered as a command', async () => {
    expect(await COMMANDS.find((c) => c.name === 'statusline')!.load()).toBe(statuslineCommand);
  });

  it('prints block cost, day cost and burn rate when the bridge knows them', async () => {
    const now = Date.parse('2026-11-25T16:00:00Z');
    api = await startBridge({ config: testConfig({ usage: { source: 'none' } }), clock: new ManualClock(now), components: [createUsageComponent({ timeZone: 'UTC' })] });
    const component = api.bridge.components.find((c) => c.name === 'usage') as UsageComponent;
    component.state.daily = { date: '2026-11-25', costUsd: 19.5 };
    component.state.snapshot = {
      source: 'ccusage',
      takenAt: now,
      activeBlock: {
        start: Date.parse('2026-11-25T13:00:00Z'),
        end: Date.parse('2026-11-25T18:00:00Z'),
        limitResetsAt: null,
        tokens: { input: 2_000, output: 42_000, cache_creation: 0, cache_read: 0 },
        byFamily: {},
        costUsd: 7.4213,
        burnRate: { tokensPerMinute: 1474.2, usdPerHour: 1.8402 },
      },
      completedBlockTokens: [],
      rateLimits: {},
      tokenLimit: null,
      details: {},
    };
    const result = await runStatusline(Readable.from([JSON.stringify({ session_id: 'x' })]), ['--url', api.url, '--timeout-ms', LIVE_BRIDGE_TIMEOUT_MS]);
    expect(result.stdout).toBe('5h ~50% | $7.42 block, $19.50 today | 1.5k tok/min $1.84/h | normal\n');
  });

  it('forwards the input and prints one line from the answer: 5 h usage, cost, recovery state', async () => {
    api = await startBridge({
      config: testConfig({ usage: { source: 'none' } }),
      clock: new ManualClock(Date.parse('2025-02-01T15:00:00Z')),
      components: [createUsageComponent()],
    });
    const result = await runStatusline(Readable.from([fixture]), ['--url', api.url, '--timeout-ms', LIVE_BRIDGE_TIMEOUT_MS]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('5h 24% | normal\n');
    const metrics = (await api.get('/prometheus')).text;
    expect(metrics).toContain('claude_bridge_statusline_updates_total 1');
  });

  it('with garbage on stdin still prints the bridge view and exits 0', async () => {
    api = await startBridge({ config: testConfig({ usage: { source: 'none' } }), components: [createUsageComponent()] });
    await api.post('/alerts/rate_limit');
    const result = await runStatusline(Readable.from(['not json at all']), ['--url', api.url, '--timeout-ms', LIVE_BRIDGE_TIMEOUT_MS]);
    expect(result).toEqual({ code: 0, stdout: 'backoff\n', stderr: '' });
  });

  it('with the bridge down prints what the input says and exits 0 without an error', async () => {
    const port = await freePort();
    const result = await runStatusline(Readable.from([fixture]), ['--url', `http://127.0.0.1:${port}`]);
    expect(result).toMatchObject({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n', stderr: '' });
    const garbage = await runStatusline(Readable.from(['{{{']), ['--url', `http://127.0.0.1:${port}`]);
    expect(garbage).toMatchObject({ code: 0, stdout: 'bridge offline\n', stderr: '' });
  });

  it('gives up on a bridge that never answers after --timeout-ms', async () => {
    const sockets: Socket[] = [];
    let clientHungUp!: () => void;
    const hungUp = new Promise<void>((resolve) => (clientHungUp = resolve));
    const silent: Server = createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // reads the request, as a hung server does, so it sees the client hang up
      socket.on('close', clientHungUp);
    }); // accepts, never answers: only the client's own timeout ends the call
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const result = await runStatusline(Readable.from([fixture]), ['--url', `http://127.0.0.1:${port}`, '--timeout-ms', '200']);
      expect(result).toMatchObject({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n', stderr: '' });
      await hungUp; // the client aborted its request: the server never closed it
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reads an answer sent in chunks (transfer-encoding: chunked) and ignores a non-2xx one', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    const view = JSON.stringify({ five_hour: null, seven_day: null, block: null, day_cost_usd: 3.5, recovery_state: 'degraded' });
    let status = 200;
    const server = createHttpServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.write(view.slice(0, 10));
        response.end(view.slice(10));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await runStatusline(Readable.from([fixture]), ['--url', `http://127.0.0.1:${port}`])).toMatchObject({ code: 0, stdout: '$3.50 today | degraded\n' });
      status = 503;
      expect(await runStatusline(Readable.from([fixture]), ['--url', `http://127.0.0.1:${port}`])).toMatchObject({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n' });
    } finally {
      server.close();
    }
  });

  it('does not wait for a stdin that never closes', async () => {
    const port = await freePort();
    const stdin = new PassThrough(); // written to, never ended: only the read deadline ends the call
    stdin.write(fixture);
    const result = await runStatusline(stdin, ['--url', `http://127.0.0.1:${port}`]);
    expect(result).toMatchObject({ code: 0, stdout: '5h 24% | $0.01 session | bridge offline\n', stderr: '' });
  });
});
