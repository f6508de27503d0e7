import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { Bridge } from '../../src/bridge.js';
import { MemoryStateStore } from '../../src/recovery/store.js';
import { createOtlpComponent } from '../../src/sources/otlp/index.js';
import { decodeStatus, encodeRequest } from '../../src/sources/otlp/proto.js';
import { silentLogger } from '../../src/util/logger.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { INJECTED_NOW } from '../usage/support/usage.js';
import { latestTime, metricValue, otlpJson, otlpOf, postOtlp, shiftOtlp, startOtlpBridge, type OtlpBridge } from './support.js';

/** The OTLP/HTTP answers: success, partial success, and each failure with its status. */
describe('the OTLP/HTTP receiver', () => {
  let api: OtlpBridge;
  const metrics = () => {
    const body = otlpJson('metrics-tool-run.json');
    return shiftOtlp(body, INJECTED_NOW - 1000 - latestTime(body));
  };

  beforeEach(async () => {
    api = await startOtlpBridge({
      clock: new ManualClock(INJECTED_NOW),
      config: testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false }, otlp: { max_body_bytes: 64 * 1024 } }),
    });
  });
  afterEach(() => api.stop());

  it('takes gzip-encoded JSON and protobuf, and an empty request', async () => {
    expect(await api.send('/v1/metrics', metrics(), { gzip: true })).toMatchObject({ status: 200, json: {} });
    expect((await api.send('/v1/logs', encodeRequest('logs', otlpJson('logs-tool-run.json')), { gzip: true })).status).toBe(200);
    expect(await api.send('/v1/logs', {})).toMatchObject({ status: 200, json: {} });
    expect(await api.send('/v1/metrics', '', { headers: { 'content-type': 'application/json; charset=utf-8' } })).toMatchObject({ status: 200 });
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { kind: 'input' })).toBe(200);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_api_requests_total')).toBe(2);
  });

  it('answers a partial success, in the request\'s encoding, when some points cannot be used', async () => {
    const body = metrics() as any;
    const points = body.resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints as any[];
    delete points[0].timeUnixNano;
    delete points[1].asInt;
    points[1].asDouble = 'many';
    body.resourceMetrics[0].scopeMetrics[0].metrics.push({ name: 'claude_code.x', sum: { aggregationTemporality: 0, dataPoints: [{ asInt: 1, timeUnixNano: '1' }] } });
    const json = await api.send('/v1/metrics', body);
    expect(json.status).toBe(200);
    expect(json.json.partialSuccess.rejectedDataPoints).toBe('3');
    expect(json.json.partialSuccess.errorMessage).toMatch(/without timeUnixNano.*asDouble or asInt.*aggregationTemporality/);
    // The rest of the request counted: the cacheRead and cacheCreation points, cost, sessions.
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_cost_usd_total')).toBeCloseTo(0.0035, 10);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_tokens_total', { kind: 'input' })).toBe(0);

    const binary = await api.send('/v1/metrics', encodeRequest('metrics', body));
    expect(binary).toMatchObject({ status: 200, contentType: 'application/x-protobuf' });
    const response = ProtobufMetricsSerializer.deserializeResponse(binary.bytes);
    expect(Number(response.partialSuccess?.rejectedDataPoints)).toBe(3);
    expect(response.partialSuccess?.errorMessage).toMatch(/rejected 3/);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_exports_total', { signal: 'metrics', result: 'partial' })).toBe(2);
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_rejected_items_total', { signal: 'metrics' })).toBe(6);
  });

  it('a value that cannot become a number (an object with its own toString, found by the fuzzing) rejects its points: no 500', async () => {
    const body = metrics() as any;
    const sum = body.resourceMetrics[0].scopeMetrics[0].metrics[2].sum;
    const rejected = (sum.dataPoints as unknown[]).length;
    sum.aggregationTemporality = { toString: '' };
    body.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].flags = { valueOf: 1 };
    const answer = await api.send('/v1/metrics', body);
    expect(answer.status).toBe(200);
    expect(Number(answer.json.partialSuccess.rejectedDataPoints)).toBeGreaterThanOrEqual(rejected);
    expect(answer.json.partialSuccess.errorMessage).toMatch(/aggregationTemporality must be 1 \(delta\) or 2 \(cumulative\)/);
  });

  it('400 for bodies that are not OTLP, with a Status in the request\'s encoding', async () => {
    const badJson = await api.send('/v1/metrics', '{"resourceMetrics": [', {});
    expect(badJson).toMatchObject({ status: 400, json: { code: 3, message: expect.stringMatching(/not valid JSON/) } });
    const wrongShape = await api.send('/v1/logs', { resourceLogs: { not: 'a list' } });
    expect(wrongShape).toMatchObject({ status: 400, json: { message: expect.stringMatching(/"resourceLogs" is not a list/) } });
    const notAnObject = await api.send('/v1/logs', '[1,2]');
    expect(notAnObject.status).toBe(400);
    const garbage = await api.send('/v1/metrics', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(garbage).toMatchObject({ status: 400, contentType: 'application/x-protobuf' });
    expect(decodeStatus(garbage.bytes)).toMatchObject({ code: 3, message: expect.stringMatching(/not a protobuf ExportMetricsServiceRequest/) });
    const badGzip = await api.send('/v1/logs', '{}', { headers: { 'content-encoding': 'gzip' } });
    expect(badGzip).toMatchObject({ status: 400, json: { message: expect.stringMatching(/not valid gzip/) } });
    expect(await metricValue(api.bridge, 'claude_bridge_otlp_exports_total', { result: 'rejected' })).toBe(5);
  });

  it('413 for a body over otlp.max_body_bytes, before or after decompression', async () => {
    const big = { resourceLogs: [], padding: 'x'.repeat(70 * 1024) };
    expect(await api.send('/v1/logs', big)).toMatchObject({ status: 413, json: { message: expect.stringMatching(/larger than 65536 bytes/) } });
    const bomb = gzipSync(Buffer.from(JSON.stringify(big)));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const answer = await api.send('/v1/logs', new Uint8Array(bomb), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect(answer.status).toBe(413);
    expect((await api.send('/v1/logs', {})).status).toBe(200); // still serving
  });

  it('415 for other content types and encodings; 404, 405; 403 for a web page', async () => {
    expect(await api.send('/v1/logs', 'a=b', { headers: { 'content-type': 'text/plain' } })).toMatchObject({
      status: 415,
      json: { message: expect.stringMatching(/application\/x-protobuf or application\/json/) },
    });
    expect((await api.send('/v1/logs', '{}', { headers: { 'content-encoding': 'br' } })).status).toBe(415);
    expect((await api.send('/v1/traces', {})).status).toBe(404);
    const get = await fetch(`${api.otlpUrl}/v1/metrics`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const fromPage = await api.send('/v1/logs', otlpJson('logs-429-retries-exhausted.json'), { headers: { origin: 'https://example.com' } });
    expect(fromPage.status).toBe(403);
    expect(api.bridge.controller.snapshot().state).toBe('normal');
  });

  it('503 with Retry-After (retryable) only while stopping; the protobuf logs answer is an ExportLogsServiceResponse', async () => {
    const ok = await api.send('/v1/logs', encodeRequest('logs', otlpJson('logs-tool-run.json')));
    expect(ok.status).toBe(200);
    expect(ProtobufLogsSerializer.deserializeResponse(ok.bytes).partialSuccess).toBeFalsy();
    // A request the receiver has taken (it asked for the body: 100 Continue) when the bridge stops.
    let stopped: Promise<void> | undefined;
    const answer = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const req = request(`${api.otlpUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', expect: '100-continue' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      });
      req.on('error', reject);
      req.on('continue', () => {
        stopped = api.otlp.stop!() as Promise<void>;
        req.end('{}');
      });
      req.flushHeaders();
    });
    expect(answer).toEqual({ status: 503, retryAfter: '5' });
    await stopped;
  });
});

describe('the OTLP port taken by another program', () => {
  it('is shown in /health with a hint, the bridge serves on, and the receiver listens once the port is free', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const clock = new ManualClock(INJECTED_NOW);
    const config = testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false }, otlp: { retry_bind_s: 30 } });
    config.server.port = 0;
    const bridge = new Bridge({ config: { ...config, otlp: { ...config.otlp, port } }, logger: silentLogger, store: new MemoryStateStore(), clock, components: [createOtlpComponent({ timeZone: 'UTC' })] });
    await bridge.start();
    try {
      const otlp = otlpOf(bridge);
      const health = bridge.health.report();
      expect(health.status).toBe('degraded');
      expect(health.sources.otlp).toMatchObject({ up: false, last_error: expect.stringMatching(/cannot listen on 127.0.0.1:\d+: .*EADDRINUSE/), details: { hint: expect.stringMatching(/otlp.port/) } });
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      const listening = new Promise<void>((resolve) => {
        const check = () => (otlp.address() ? resolve() : setImmediate(check));
        check();
      });
      clock.advance(30_000);
      await listening;
      expect(bridge.health.report().sources.otlp!.up).toBe(true);
      expect((await postOtlp(`http://127.0.0.1:${port}/v1/logs`, {})).status).toBe(200);
    } finally {
      await bridge.stop();
    }
  });
});
