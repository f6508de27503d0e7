import { jest } from '@jest/globals';
import { ALERTMANAGER_WEBHOOK_PATH, alertTypeOf } from '../../src/http/routes-alertmanager.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';

type Payload = { alerts: Record<string, any>[]; [key: string]: unknown };
const fixture = (name: string) => readJsonFixture<{ body: Payload }>('alertmanager', `webhook-${name}.json`).body;
const FINGERPRINT = 'e4a556081f6501aa';
const TOKEN = 'a-long-enough-bearer-token';

function payload(status: 'firing' | 'resolved', alerts: { labels: Record<string, string>; fingerprint: string; status?: string; startsAt?: string }[]): Payload {
  return {
    version: '4',
    status,
    receiver: 'claude-bridge',
    groupKey: '{}:{}',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: {},
      startsAt: a.startsAt ?? '2026-11-25T16:00:00Z',
      endsAt: (a.status ?? status) === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-25T16:05:00Z',
      generatorURL: '',
      fingerprint: a.fingerprint,
    })),
  };
}

describe('POST /alertmanager/webhook (alerting.mode alertmanager)', () => {
  let api: RunningBridge;
  const send = (body: unknown, headers?: Record<string, string>) => api.post(ALERTMANAGER_WEBHOOK_PATH, body, headers);
  const status = async () => (await api.get('/recovery/status')).body;

  beforeEach(async () => {
    api = await startBridge({ config: testConfig({ alerting: { mode: 'alertmanager' } }) });
  });
  afterEach(async () => {
    await api.stop();
  });

  it('the recorded firing notice puts the bridge in backoff, keyed by the fingerprint', async () => {
    const { status: code, body } = await send(fixture('amtool-firing'));
    expect(code).toBe(200);
    expect(body).toEqual({
      status: 'firing',
      alerts: [
        { fingerprint: FINGERPRINT, alertname: 'ClaudeCodeRateLimitNear', status: 'firing', alert_type: 'rate_limit', result: 'applied' },
      ],
    });
    expect(await status()).toMatchObject({
      state: 'backoff',
      backoff: { attempt: 1, delay_ms: 1000 },
      active_alerts: [{ alert: 'rate_limit', origins: [{ origin: 'alertmanager', key: FINGERPRINT, summary: 'five_hour at 85%' }] }],
    });
  });

  it('a re-send of the same notice changes nothing (no double escalation)', async () => {
    await send(fixture('amtool-firing'));
    for (let i = 0; i < 3; i++) {
      const { status: code, body } = await send(fixture('amtool-firing'));
      expect(code).toBe(200);
      expect(body.alerts[0].result).toBe('unchanged');
    }
    expect(await status()).toMatchObject({ state: 'backoff', backoff: { attempt: 1, delay_ms: 1000 } });
  });

  it('the same fingerprint with a new startsAt is a new firing and escalates', async () => {
    await send(fixture('amtool-firing'));
    const { body } = await send(fixture('prometheus-firing'));
    expect(body.alerts[0].result).toBe('applied');
    expect(await status()).toMatchObject({ state: 'backoff', backoff: { attempt: 2, delay_ms: 2000 } });
  });

  it('the resolved notice returns the bridge to normal; repeating it is a no-op', async () => {
    await send(fixture('amtool-firing'));
    const resolved = await send(fixture('amtool-resolved'));
    expect(resolved.status).toBe(200);
    expect(resolved.body.alerts[0]).toMatchObject({ status: 'resolved', alert_type: 'rate_limit', result: 'applied' });
    expect(await status()).toMatchObject({ state: 'normal', active_alerts: [] });
    expect((await send(fixture('amtool-resolved'))).body.alerts[0].result).toBe('unchanged');
  });

  it('maps by alert_type label, then by alertname, then by action label; other alerts are ignored with a reason', async () => {
    const { body } = await send(
      payload('firing', [
        { fingerprint: 'f1', labels: { alertname: 'Anything', alert_type: 'cost_threshold', action: 'backoff' } },
        { fingerprint: 'f2', labels: { alertname: 'ClaudeBridgeSessionTimeLimit' } },
        { fingerprint: 'f3', labels: { alertname: 'Custom', action: 'backoff' } },
        { fingerprint: 'f4', labels: { alertname: 'DiskFull', severity: 'critical' } },
        { fingerprint: 'f5', labels: { alertname: 'Custom', action: 'notify' } },
      ]),
    );
    expect(body.alerts.map((a: { alert_type: string | null; result: string }) => [a.alert_type, a.result])).toEqual([
      ['cost_threshold', 'applied'],
      ['time_limit', 'applied'],
      ['rate_limit', 'applied'],
      [null, 'ignored'],
      [null, 'ignored'],
    ]);
    expect(body.alerts[3].reason).toMatch(/alert_type/);
    const active = (await status()).active_alerts.map((a: { alert: string }) => a.alert).sort();
    expect(active).toEqual(['cost_threshold', 'rate_limit', 'time_limit']);
  });

  it('a batch with firing and resolved alerts applies each by its own status', async () => {
    await send(payload('firing', [{ fingerprint: 'deg', labels: { alertname: 'ClaudeBridgeCostThreshold' } }]));
    expect((await status()).state).toBe('degraded');
    const { body } = await send(
      payload('firing', [
        { fingerprint: 'deg', status: 'resolved', labels: { alertname: 'ClaudeBridgeCostThreshold' } },
        { fingerprint: 'rl', labels: { alertname: 'ClaudeBridgeRateLimitNear' } },
      ]),
    );
    expect(body.alerts.map((a: { result: string }) => a.result)).toEqual(['applied', 'applied']);
    expect(await status()).toMatchObject({ state: 'backoff', active_alerts: [{ alert: 'rate_limit' }] });
  });

  it('tolerates fields newer Alertmanager versions add', async () => {
    const body = fixture('amtool-firing');
    const extended = { ...body, newTopLevel: { x: 1 }, alerts: body.alerts.map((a) => ({ ...a, silencedBy: [], inhibitedBy: [], extra: 'x' })) };
    const { status: code } = await send(extended);
    expect(code).toBe(200);
    expect((await status()).state).toBe('backoff');
  });

  it.each([
    ['an empty object', {}, /version/],
    ['another payload version', { ...fixture('amtool-firing'), version: '3' }, /version must be "4"/],
    ['alerts missing', { version: '4', status: 'firing' }, /alerts/],
    ['an alert without fingerprint', payload('firing', [{ fingerprint: '', labels: { alertname: 'X' } }]), /alerts\.0\.fingerprint/],
    ['an unparseable startsAt', payload('firing', [{ fingerprint: 'f', labels: {}, startsAt: 'yesterday' }]), /alerts\.0\.startsAt/],
    ['an unknown status', { ...fixture('amtool-firing'), status: 'pending' }, /status/],
    ['a JSON array', [1, 2], /./],
  ])('malformed input (%s) → 400 with a message, nothing applied', async (_name, body, message) => {
    const response = await send(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(message);
    expect((await status()).state).toBe('normal');
  });

  it('invalid JSON and a non-JSON body → 400 with a message', async () => {
    const broken = await send('{"version": "4", ');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/invalid JSON/);
    const text = await send('version=4', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415); // what an HTML form could send cross-site
    expect(text.body.error).toMatch(/must be JSON/);
  });

  it('a transient failure of the controller answers 503 (Alertmanager retries); the retry applies', async () => {
    const fire = jest.spyOn(api.bridge.controller, 'fire').mockImplementationOnce(() => {
      throw new Error('disk on fire');
    });
    const failed = await send(fixture('amtool-firing'));
    expect(failed.status).toBe(503);
    expect(failed.body.error).toMatch(/retry/);
    const retried = await send(fixture('amtool-firing'));
    expect(retried.status).toBe(200);
    expect(retried.body.alerts[0].result).toBe('applied');
    fire.mockRestore();
  });

  it('is listed at GET / as a mutating endpoint', async () => {
    const { body } = await api.get('/');
    expect(body.endpoints).toContainEqual(expect.objectContaining({ method: 'POST', path: ALERTMANAGER_WEBHOOK_PATH, auth: expect.any(String) }));
  });
});

describe('POST /alertmanager/webhook with auth.token set', () => {
  let api: RunningBridge;
  beforeAll(async () => {
    api = await startBridge({ config: testConfig({ alerting: { mode: 'alertmanager' }, auth: { token: TOKEN } }) });
  });
  afterAll(async () => {
    await api.stop();
  });

  it('refuses a notice without the bearer token or with a wrong one (401), accepts it with the token', async () => {
    const missing = await api.post(ALERTMANAGER_WEBHOOK_PATH, fixture('amtool-firing'));
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/bearer token/);
    const wrong = await api.post(ALERTMANAGER_WEBHOOK_PATH, fixture('amtool-firing'), { authorization: 'Bearer wrong-token-wrong-token' });
    expect(wrong.status).toBe(401);
    expect((await api.get('/recovery/status')).body.state).toBe('normal');
    const right = await api.post(ALERTMANAGER_WEBHOOK_PATH, fixture('amtool-firing'), { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect((await api.get('/recovery/status')).body.state).toBe('backoff');
  });
});

describe('POST /alertmanager/webhook with alerting.mode embedded', () => {
  it('acknowledges but ignores notices, saying why', async () => {
    const api = await startBridge({ config: testConfig({ alerting: { mode: 'embedded' } }) });
    try {
      const { status, body } = await api.post(ALERTMANAGER_WEBHOOK_PATH, fixture('amtool-firing'));
      expect(status).toBe(200);
      expect(body.alerts[0]).toMatchObject({ result: 'ignored', reason: expect.stringMatching(/alerting\.mode/) });
      expect((await api.get('/recovery/status')).body.state).toBe('normal');
    } finally {
      await api.stop();
    }
  });
});

describe('alertTypeOf', () => {
  it('follows the configured recovery actions when mapping an action label', () => {
    const config = testConfig({ recovery: { rate_limit: 'notify', token_limit: 'exponential_backoff' } });
    expect(alertTypeOf({ alertname: 'Custom', action: 'backoff' }, config)).toBe('token_threshold');
    expect(alertTypeOf({ alertname: 'Custom', action: 'pause' }, config)).toBe('time_limit');
    expect(alertTypeOf({ alertname: 'Custom', alert_type: 'not-a-type', action: 'degrade' }, config)).toBe('cost_threshold');
    expect(alertTypeOf({ alertname: 'Custom', action: 'slow-down' }, config)).toBeNull();
  });
});
