import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ManualClock } from '../support/manual-clock.js';
import { metricValue, startOtlpBridge, type OtlpBridge } from './support.js';

/**
 * The protobuf path against the real encoder: the OpenTelemetry JS SDK makes the data and its
 * OTLP exporter's serializers encode it (release 0.208.0, the one Claude Code exports with), with
 * Claude Code's instrument names and attributes. The SDK stamps points with the machine's clock:
 * the bridge's clock is set before any possible run, so every series began after it started.
 */
const RECEIVER_START = Date.parse('2001-01-01T00:00:00Z');
const resource = resourceFromAttributes({ 'service.name': 'claude-code', 'service.version': '2.1.332' });
const session = { 'session.id': 'a3f3c1f0-0000-4000-8000-000000000001', 'user.id': 'u1', 'terminal.type': 'xterm' };

class CollectingReader extends MetricReader {
  constructor(temporality: AggregationTemporality) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A Claude Code process's meters, exporting on demand. */
function claudeCodeMeters(temporality: AggregationTemporality) {
  const reader = new CollectingReader(temporality);
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.1.332');
  const tokens = meter.createCounter('claude_code.token.usage', { unit: 'tokens' });
  const cost = meter.createCounter('claude_code.cost.usage', { unit: 'USD' });
  const use = (input: number, output: number, usd: number) => {
    tokens.add(input, { ...session, model: 'claude-opus-4-8', type: 'input' });
    tokens.add(output, { ...session, model: 'claude-opus-4-8', type: 'output' });
    cost.add(usd, { ...session, model: 'claude-opus-4-8' });
  };
  const exportNow = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
  };
  return { use, exportNow, shutdown: () => provider.shutdown() };
}

describe('protobuf made by the OpenTelemetry JS exporter', () => {
  let api: OtlpBridge;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(RECEIVER_START);
    api = await startOtlpBridge({ clock });
  });
  afterEach(() => api.stop());

  const input = () => metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { family: 'opus', kind: 'input' });
  const cost = () => metricValue(api.bridge, 'claude_bridge_otlp_cost_usd_total', { family: 'opus' });

  it('delta sums: each export adds; a retried export adds nothing', async () => {
    const cc = claudeCodeMeters(AggregationTemporality.DELTA);
    cc.use(200, 100, 0.0035);
    expect((await api.send('/v1/metrics', await cc.exportNow())).status).toBe(200);
    cc.use(50, 10, 0.001);
    const second = await cc.exportNow();
    expect((await api.send('/v1/metrics', second, { gzip: true })).status).toBe(200);
    expect(await input()).toBe(250);
    expect((await api.send('/v1/metrics', second)).status).toBe(200); // the exporter retried
    expect(await input()).toBe(250);
    expect(await cost()).toBeCloseTo(0.0045, 10);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_duplicates_total', { signal: 'metrics' })).toBe(3);
    expect(api.otlp.telemetry.figures().today.tokensInputOutput).toBe(360);
    await cc.shutdown();
  });

  it('cumulative sums: differences; a retry adds nothing; a restarted process is a reset, not a negative increase', async () => {
    const first = claudeCodeMeters(AggregationTemporality.CUMULATIVE);
    first.use(200, 100, 0.0035);
    expect((await api.send('/v1/metrics', await first.exportNow())).status).toBe(200);
    first.use(50, 10, 0.001);
    const retried = await first.exportNow();
    await api.send('/v1/metrics', retried);
    await api.send('/v1/metrics', retried);
    expect(await input()).toBe(250);
    await first.shutdown();

    const restarted = claudeCodeMeters(AggregationTemporality.CUMULATIVE); // same session, new start time, from 0
    restarted.use(30, 5, 0.0002);
    expect((await api.send('/v1/metrics', await restarted.exportNow())).status).toBe(200);
    expect(await input()).toBe(280);
    expect(await cost()).toBeCloseTo(0.0047, 10);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_counter_resets_total')).toBe(3); // input, output, cost
    expect(api.otlp.telemetry.figures().today).toMatchObject({ tokensInputOutput: 395, stream: 'metrics' });
    await restarted.shutdown();
  });

  it('log records: api_request events count requests and tokens; a retried export counts once', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor(exporter)] });
    const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.332');
    for (let sequence = 0; sequence < 3; sequence++) {
      logger.emit({
        timestamp: new Date(RECEIVER_START + (sequence + 1) * 1000),
        severityNumber: SeverityNumber.INFO,
        body: 'claude_code.api_request',
        attributes: {
          ...session,
          'event.name': 'api_request',
          'event.sequence': sequence,
          'prompt.id': 'p1',
          model: 'claude-sonnet-4-5',
          input_tokens: 100,
          output_tokens: 40,
          cache_read_tokens: 7,
          cache_creation_tokens: 0,
          cost_usd: 0.002,
        },
      });
    }
    clock.advance(10_000);
    const body = ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
    expect((await api.send('/v1/logs', body, { gzip: true })).status).toBe(200);
    expect((await api.send('/v1/logs', body)).status).toBe(200);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_requests_total', { family: 'sonnet' })).toBe(3);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_duplicates_total', { signal: 'logs' })).toBe(3);
    const { today } = api.otlp.telemetry.figures();
    expect(today).toMatchObject({ tokensInputOutput: 420, requests: 3, stream: 'logs', tokens: { input: 300, output: 120, cache_read: 21, cache_creation: 0 } });
    expect(today.costUsd).toBeCloseTo(0.006, 10);
    expect(api.otlp.telemetry.figures().block).toMatchObject({ start: RECEIVER_START, from: 'telemetry', requests: 3 });
    await provider.shutdown();
  });
});
