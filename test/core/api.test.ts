import { DEVELOPER_NAME } from '../../src/config/schema.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStateStore } from '../../src/recovery/store.js';
import { main } from '../../src/cli/main.js';
import { defaultComponents } from '../../src/components.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { itWithBinaries } from '../support/binaries.js';
import { testConfig } from '../support/config.js';

describe('HTTP API contract', () => {
  let api: RunningBridge;
  beforeEach(async () => {
    api = await startBridge();
  });
  afterEach(async () => {
    await api.stop();
  });

  it('GET / lists every endpoint with method and description', async () => {
    const { status, body } = await api.get('/');
    expect(status).toBe(200);
    const paths = body.endpoints.map((e: { method: string; path: string }) => `${e.method} ${e.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['GET /health', 'GET /metrics', 'GET /prometheus', 'GET /recovery/status', 'POST /alerts/:alert_type', 'POST /recovery/resume']),
    );
    for (const endpoint of body.endpoints) expect(endpoint.description.length).toBeGreaterThan(10);
  });

  it('GET /health has the documented shape', async () => {
    const { status, body } = await api.get('/health');
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'healthy',
      name: expect.stringMatching(DEVELOPER_NAME),
      version: expect.any(String),
      uptime_seconds: expect.any(Number),
      websocket: 'disabled',
      recovery_state: 'normal',
      alerts_count: 0,
      problems: [],
      sources: {},
    });
  });

  it('GET /metrics has the unified shape: the bridge\'s own keys, and one section per component', async () => {
    const { body } = await api.get('/metrics');
    expect(Object.keys(body).sort()).toEqual(['active_alerts', 'recovery_state', 'timestamp']); // a bridge without components
    expect(body.recovery_state).toBe('normal');
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    const served = await startBridge({ config: testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false }, otlp: { port: 0 } }), components: defaultComponents() });
    try {
      const full = (await served.get('/metrics')).body;
      expect(Object.keys(full).sort()).toEqual(['active_alerts', 'hooks_data', 'otlp_data', 'recovery_state', 'sessions_data', 'timestamp', 'usage_data']);
    } finally {
      await served.stop();
    }
  });

  it('POST /alerts/rate_limit enters backoff at 1 s; repeats double up to 32 s; status shows it', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const { status, body } = await api.post('/alerts/rate_limit');
      expect(status).toBe(200);
      delays.push(body.recovery.backoff.delay_ms);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 32000]);
    const { body } = await api.get('/recovery/status');
    expect(body).toMatchObject({
      state: 'backoff',
      active_alerts: [{ alert: 'rate_limit', action: 'exponential_backoff', origins: [{ origin: 'manual' }] }],
      backoff: { attempt: 7, delay_ms: 32000, until: expect.any(String) },
      paused_until: null,
      degraded: { active: false, rules: { deny_tools: expect.arrayContaining(['Task']) } },
    });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('?resolve=1 resolves, /recovery/resume returns to normal', async () => {
    await api.post('/alerts/cost_threshold');
    expect((await api.get('/recovery/status')).body.state).toBe('degraded');
    expect((await api.post('/alerts/cost_threshold?resolve=1')).body).toMatchObject({ status: 'resolved', recovery: { state: 'normal' } });
    const resetsAt = new Date(api.bridge.controller.snapshot().now + 3_600_000).toISOString();
    await api.post('/alerts/time_limit', { resets_at: resetsAt });
    const paused = (await api.get('/recovery/status')).body;
    expect(paused).toMatchObject({ state: 'paused', paused_until: resetsAt });
    expect((await api.post('/recovery/resume')).body).toMatchObject({ resumed: true, recovery: { state: 'normal', active_alerts: [] } });
  });

  it('unknown alert type → 404 naming the valid ones; bad bodies → 400; unknown paths → 404 JSON', async () => {
    expect(await api.post('/alerts/nonsense')).toMatchObject({
      status: 404,
      body: { error: 'unknown alert type "nonsense"', valid_alert_types: ['rate_limit', 'time_limit', 'token_threshold', 'cost_threshold', 'test_alert'] },
    });
    expect(await api.post('/alerts/test_alert', '{not json')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^invalid JSON body/) } });
    expect(await api.post('/alerts/time_limit', { resets_at: 'tomorrow' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/resets_at/) } });
    expect(await api.get('/nope')).toMatchObject({ status: 404, body: { error: 'no such endpoint: GET /nope' } });
  });

  it('refuses bodies over the limit with 413 JSON, never a stack trace', async () => {
    const big = JSON.stringify({ summary: 'x'.repeat(2 * 1024 * 1024) });
    const response = await api.post('/alerts/test_alert', big);
    expect(response.status).toBe(413);
    expect(response.body.error).toMatch(/too large/);
    expect(response.text).not.toMatch(/at .*\.js/);
  });

  it('GET /prometheus exports recovery metrics from the app registry', async () => {
    await api.post('/alerts/rate_limit');
    await api.post('/alerts/rate_limit');
    const { status, text } = await api.get('/prometheus');
    expect(status).toBe(200);
    for (const line of [
      'claude_bridge_recovery_state{state="backoff"} 1',
      'claude_bridge_recovery_state{state="normal"} 0',
      'claude_bridge_recovery_backoff_attempt 2',
      'claude_bridge_recovery_backoff_delay_seconds 2',
      'claude_bridge_recovery_paused_until_timestamp_seconds 0',
      'claude_bridge_alerts_active{alert="rate_limit"} 1',
      'claude_bridge_alerts_fired_total{alert="rate_limit",origin="manual"} 2',
      'claude_bridge_recovery_transitions_total{from="normal",to="backoff"} 1',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^claude_bridge_build_info\{version="[^"]+",node_version="v\d+/m);
    expect(text).toMatch(/^claude_bridge_process_resident_memory_bytes \d+/m);
  });

  itWithBinaries(['promtool'], 'GET /prometheus passes promtool check metrics', async () => {
    await api.post('/alerts/time_limit');
    const { text } = await api.get('/prometheus');
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('auth token on mutating endpoints', () => {
  it('requires the bearer token when auth.token is set; reads stay open', async () => {
    const config = testConfig({ auth: { token: 'secret-token-0123456789' } });
    const api = await startBridge({ config });
    try {
      expect((await api.post('/alerts/test_alert')).status).toBe(401);
      expect((await api.post('/recovery/resume', undefined, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
      expect((await api.post('/alerts/test_alert', undefined, { authorization: 'Bearer secret-token-0123456789' })).status).toBe(200);
      expect((await api.get('/recovery/status')).status).toBe(200);
    } finally {
      await api.stop();
    }
  });
});

describe('restart', () => {
  it('a bridge restarted during a pause is still paused, with the same paused_until', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-restart-'));
    const first = await startBridge({ store: new FileStateStore(dir) });
    const paused = (await first.post('/alerts/time_limit')).body.recovery;
    await first.stop();
    const second = await startBridge({ store: new FileStateStore(dir) });
    try {
      const status = (await second.get('/recovery/status')).body;
      expect(status.state).toBe('paused');
      expect(status.paused_until).toBe(paused.paused_until);
    } finally {
      await second.stop();
    }
  });

  it('/health is unhealthy (503) when the state cannot be saved', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'bridge-blocked-'));
    writeFileSync(path.join(parent, 'file'), '');
    const api = await startBridge({ store: new FileStateStore(path.join(parent, 'file', 'state')) });
    try {
      const { status, body } = await api.get('/health');
      expect(status).toBe(503);
      expect(body.status).toBe('unhealthy');
      expect(body.problems[0]).toMatch(/recovery state cannot be saved/);
    } finally {
      await api.stop();
    }
  });
});

describe('claude-bridge CLI', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env: {}, cwd: process.cwd() } };
  };

  it('serve exits non-zero on an invalid config.yaml, naming the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-cli-'));
    writeFileSync(path.join(dir, 'config.yaml'), 'alerts:\n  token_threshold: 2\n');
    const { err, io } = capture();
    expect(await main(['serve'], { ...io, cwd: dir })).toBe(1);
    expect(err.join('')).toMatch(/alerts\.token_threshold: expected a value <= 1 \(got 2\)/);
  });

  it('has --help on the top level and on serve; rejects unknown flags and commands', async () => {
    const top = capture();
    expect(await main(['--help'], top.io)).toBe(0);
    expect(top.out.join('')).toMatch(/serve/);
    const serve = capture();
    expect(await main(['serve', '--help'], serve.io)).toBe(0);
    expect(serve.out.join('')).toMatch(/--config PATH/);
    const bad = capture();
    expect(await main(['serve', '--bogus'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/bogus/);
    const unknown = capture();
    expect(await main(['frobnicate'], unknown.io)).toBe(2);
    const port = capture();
    expect(await main(['serve', '--port', 'abc'], port.io)).toBe(2);
  });
});

