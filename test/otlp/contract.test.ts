import { ManualClock } from '../support/manual-clock.js';
import { INJECTED_NOW } from '../usage/support/usage.js';
import { decodeRequest, encodeRequest } from '../../src/sources/otlp/proto.js';
import { latestTime, metricValue, otlpJson, otlpProtobuf, recordedHookInput, shiftOtlp, startOtlpBridge, type OtlpBridge } from './support.js';

/**
 * The recorded bodies as contract tests: what Claude Code 2.1.197 and 2.1.332 exported, as
 * OTLP/JSON (http/json) and as binary protobuf (http/protobuf, its default), and what the bridge
 * makes of them. Every body is shifted so its last instant is a second before the injected now.
 */
describe('Claude Code telemetry, as recorded', () => {
  let clock: ManualClock;
  let api: OtlpBridge;

  beforeEach(async () => {
    clock = new ManualClock(INJECTED_NOW);
    api = await startOtlpBridge({ clock });
  });
  afterEach(() => api.stop());

  const atNow = <T>(body: T): T => shiftOtlp(body, INJECTED_NOW - 1000 - latestTime(body));

  it.each([
    ['2.1.197', 'metrics-tool-run.json', 'logs-tool-run.json', 0.0035, 'opus'],
    ['2.1.332', 'metrics-tool-run-2.1.332.json', 'logs-tool-run-2.1.332.json', 0.0028, 'opus'],
  ])('Claude Code %s, one Bash tool run over JSON: tokens, cost and requests', async (_version, metricsFile, logsFile, cost, metricsFamily) => {
    const metrics = await api.send('/v1/metrics', atNow(otlpJson(metricsFile)));
    expect(metrics).toMatchObject({ status: 200, contentType: 'application/json', json: {} });
    const logs = await api.send('/v1/logs', atNow(otlpJson(logsFile)));
    expect(logs).toMatchObject({ status: 200, json: {} });

    // Counters from claude_code.token.usage / cost.usage (delta sums, by requested model).
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { family: metricsFamily, kind: 'input' })).toBe(200);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { family: metricsFamily, kind: 'output' })).toBe(100);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_cost_usd_total', { family: metricsFamily })).toBeCloseTo(cost, 10);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_sessions_total')).toBe(1);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_active_time_seconds_total', { type: 'cli' })).toBeGreaterThan(0);
    // The two api_request events (the stand-in API answered as sonnet: the events carry the answering model).
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_requests_total', { family: 'sonnet' })).toBe(2);

    // The same 300 tokens through both streams: a figure takes one, never the sum.
    const { block, today } = api.otlp.telemetry.figures();
    expect(today).toMatchObject({ tokensInputOutput: 300, requests: 2, stream: 'metrics' });
    expect(today.costUsd).toBeCloseTo(cost, 10);
    expect(block).toMatchObject({ from: 'telemetry', tokensInputOutput: 300, start: Math.floor((INJECTED_NOW - 1000) / 3_600_000) * 3_600_000 });
  });

  it('Claude Code 2.1.332 over http/protobuf (its default), the bytes as it sent them', async () => {
    const logs = otlpProtobuf('ok-logs.pb');
    const recordedAt = latestTime(decodeRequest('logs', logs));
    clock.advance(recordedAt + 1000 - clock.now()); // the recorded day, so the events fall in "today"
    const metricsAnswer = await api.send('/v1/metrics', new Uint8Array(otlpProtobuf('ok-metrics.pb')));
    expect(metricsAnswer).toMatchObject({ status: 200, contentType: 'application/x-protobuf' });
    expect(metricsAnswer.bytes.length).toBe(0); // an empty ExportMetricsServiceResponse: full success
    expect((await api.send('/v1/logs', new Uint8Array(logs))).status).toBe(200);

    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { kind: 'input' })).toBe(100);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { kind: 'output' })).toBe(50);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_cost_usd_total')).toBeCloseTo(0.0014, 10);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_requests_total')).toBe(1);
    expect(api.otlp.telemetry.figures().today).toMatchObject({ tokensInputOutput: 150, requests: 1 });
  });

  it('the JSON bodies encoded as protobuf with the generated OTLP types give the same figures', async () => {
    const other = await startOtlpBridge({ clock });
    try {
      for (const [signal, file] of [['metrics', 'metrics-tool-run.json'], ['logs', 'logs-tool-run.json']] as const) {
        const body = atNow(otlpJson(file));
        expect((await api.send(`/v1/${signal}`, body)).status).toBe(200);
        expect((await other.send(`/v1/${signal}`, encodeRequest(signal, body))).status).toBe(200);
      }
      expect(other.otlp.telemetry.figures()).toEqual(api.otlp.telemetry.figures());
      const exposition = async (b: OtlpBridge) => (await b.bridge.registry.metrics()).split('\n').filter((l) => l.startsWith('claude_bridge_otlp_') && !l.includes('exports_total'));
      expect(await exposition(other)).toEqual(await exposition(api));
    } finally {
      await other.stop();
    }
  });

  it.each([
    ['2.1.332 (protobuf)', () => decodeRequest('logs', otlpProtobuf('429-logs-2.pb')), () => recordedHookInput('429-hook-StopFailure.json')],
    ['2.1.197 (JSON)', () => otlpJson('paired-429-2.1.197/logs.json'), () => otlpJson('paired-429-2.1.197/StopFailure.json')],
  ])('Claude Code %s, a 429: api_error then api_retries_exhausted, with the session and prompt ids of the StopFailure hook', (_version, readLogs, readHook) => {
    const logs = readLogs() as any;
    const records = logs.resourceLogs[0].scopeLogs[0].logRecords as any[];
    const attribute = (record: any, key: string) => record.attributes.find((a: any) => a.key === key)?.value;
    expect(records.map((r) => attribute(r, 'event.name').stringValue)).toEqual(['api_error', 'api_retries_exhausted']);
    const hook = readHook();
    expect(hook).toMatchObject({ hook_event_name: 'StopFailure', error: 'rate_limit' });
    for (const record of records) {
      expect(Number(attribute(record, 'status_code').intValue)).toBe(429);
      // What the rate-limit de-duplication relies on, recorded from the real Claude Code.
      expect(attribute(record, 'session.id').stringValue).toBe(hook.session_id);
      expect(attribute(record, 'prompt.id').stringValue).toBe(hook.prompt_id);
    }
  });
});
