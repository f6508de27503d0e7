import { hooksComponent } from '../../src/sources/hooks/index.js';
import { decodeRequest } from '../../src/sources/otlp/proto.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { INJECTED_NOW } from '../usage/support/usage.js';
import { latestTime, metricValue, otlpJson, otlpProtobuf, recordedHookInput, shiftOtlp, shiftProtobuf, startOtlpBridge, type OtlpBridge } from './support.js';

/**
 * Rate limits in real time, end to end: a real bridge on loopback (hooks and telemetry), the
 * recorded bodies posted to the OTLP port and the recorded StopFailure to the bridge's hook
 * endpoint, the recovery state read back over HTTP.
 */
describe('an api_error 429 in telemetry', () => {
  let clock: ManualClock;
  let api: OtlpBridge;

  beforeEach(async () => {
    clock = new ManualClock(INJECTED_NOW);
    api = await startOtlpBridge({ clock, components: [hooksComponent], config: testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false } }) });
  });
  afterEach(() => api.stop());

  /** Claude Code 2.1.332's 429 events (protobuf, as recorded), moved to just before now. */
  const recorded429 = () => {
    const bytes = otlpProtobuf('429-logs-2.pb');
    return shiftProtobuf('logs', bytes, INJECTED_NOW - 500 - latestTime(decodeRequest('logs', bytes)));
  };
  const stopFailure = () => api.post('/hooks/StopFailure', recordedHookInput('429-hook-StopFailure.json'));
  const status = async () => (await api.get('/recovery/status')).body;

  it('moves the recovery state to backoff at once, as a StopFailure rate_limit does', async () => {
    expect((await status()).state).toBe('normal');
    expect((await api.send('/v1/logs', recorded429())).status).toBe(200);
    const after = await status();
    expect(after).toMatchObject({ state: 'backoff', backoff: { attempt: 1, delay_ms: 1000 } });
    expect(after.active_alerts[0]).toMatchObject({ alert: 'rate_limit', action: 'exponential_backoff' });
    expect(JSON.stringify(after.active_alerts[0].origins)).toMatch(/api_error 429 reported by Claude Code telemetry/);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_rate_limit_events_total', { event: 'api_error' })).toBe(1);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_rate_limit_events_total', { event: 'api_retries_exhausted' })).toBe(1);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_errors_total', { status_class: '4xx' })).toBe(1);
  });

  it.each([
    ['telemetry first, then the hook', 'otlp'],
    ['the hook first, then telemetry', 'hook'],
  ])('one failure seen both ways escalates once (%s); another failure during the hold joins it', async (_name, first) => {
    if (first === 'otlp') {
      await api.send('/v1/logs', recorded429());
      expect((await stopFailure()).status).toBe(200);
    } else {
      expect((await stopFailure()).status).toBe(200);
      await api.send('/v1/logs', recorded429());
    }
    await api.send('/v1/logs', recorded429()); // and a retried export of the same events
    expect((await status()).backoff.attempt).toBe(1);

    // Another prompt's 429 (Claude Code 2.1.197's recording, another session) while the hold the
    // first one caused still runs is the same limit seen again: it joins, it does not escalate
    // (issue 10: reports anyone can send must not drive the backoff).
    const other = otlpJson('logs-429-retries-exhausted.json');
    await api.send('/v1/logs', shiftOtlp(other, INJECTED_NOW - 200 - latestTime(other)));
    expect((await status()).backoff.attempt).toBe(1);
    expect((await status()).active_alerts[0].origins).toHaveLength(2);
  });

  it('Claude Code 2.1.197 over JSON: its StopFailure and its 429 events for one failure escalate once', async () => {
    const logs = otlpJson('paired-429-2.1.197/logs.json');
    expect((await api.send('/v1/logs', shiftOtlp(logs, INJECTED_NOW - 300 - latestTime(logs)))).status).toBe(200);
    expect((await api.post('/hooks/StopFailure', otlpJson('paired-429-2.1.197/StopFailure.json'))).status).toBe(200);
    expect(await status()).toMatchObject({ state: 'backoff', backoff: { attempt: 1 } });
  });

  it('an old 429 (an export replayed after signal_ttl_s) does not slow Claude Code down now', async () => {
    const old = otlpJson('logs-429-retries-exhausted.json');
    await api.send('/v1/logs', shiftOtlp(old, INJECTED_NOW - 600_000 - latestTime(old)));
    expect((await status()).state).toBe('normal');
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_rate_limit_events_total')).toBe(2); // counted, not acted on
  });

  it('an api_error that is not a 429 is counted by status class and slows nothing', async () => {
    const body = otlpJson('logs-429-retries-exhausted.json') as any;
    const records = body.resourceLogs[0].scopeLogs[0].logRecords as any[];
    for (const record of records) for (const a of record.attributes) if (a.key === 'status_code') a.value = { intValue: 529 };
    await api.send('/v1/logs', shiftOtlp(body, INJECTED_NOW - 100 - latestTime(body)));
    expect((await status()).state).toBe('normal');
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_errors_total', { status_class: '5xx' })).toBe(1);
  });
});
