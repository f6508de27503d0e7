import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { decodeStatus } from '../../src/sources/otlp/proto.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { startOtlpBridge, type OtlpBridge } from '../otlp/support.js';
import { MAX_PROMETHEUS_SAMPLES } from './support/http-harness.js';
import { checkProperty, targetTimeoutMs } from './support/settings.js';
import { OTLP_FUZZ_BODY_LIMIT, OTLP_FUZZ_NOW, otlpCases, type OtlpCase } from './targets/otlp-bodies.js';

/** Exports posted per run; the read endpoints are checked after each run. */
const EXPORTS_PER_RUN = 10;
/** What the OTLP/HTTP specification lets a receiver answer here (503 only while stopping, which a case never is). */
const ALLOWED_STATUS = new Set([200, 400, 404, 413, 415]);
const OTLP_COUNTER = /^claude_bridge_otlp_\w+_total$/;
const REFUSED_EXPORTS = 'claude_bridge_otlp_exports_total';

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Every claude_bridge_otlp_ counter series, and the recovery state (an api_error 429 may start a backoff). */
interface Observed {
  series: Map<string, number>;
  recovery: string;
}

/**
 * Claude Code's telemetry, fuzzed: its recorded OTLP exports (binary protobuf and JSON, gzip or
 * not) with bytes flipped, cut, inserted and deleted, fields replaced by hostile values, sent to
 * the wrong endpoint, with wrong media types and encodings, over the size limit, posted to one
 * real receiver on loopback. Checked after each: an answer the OTLP/HTTP specification allows
 * (never a 5xx), in the request's encoding, a google.rpc.Status with a message when refused;
 * exactly one export counted, as refused when refused; a refused export changes nothing else;
 * counters only grow and stay finite. After each run the bridge's read endpoints answer and its
 * series stay bounded.
 */
describe('fuzzing the OTLP receiver (Claude Code telemetry)', () => {
  let bridge: OtlpBridge;
  let agent: Agent;
  let last: Observed;
  let counterNames: string[] | undefined;

  beforeAll(async () => {
    const config = testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false } });
    config.otlp.enabled = true;
    config.otlp.max_body_bytes = OTLP_FUZZ_BODY_LIMIT;
    bridge = await startOtlpBridge({ config, clock: new ManualClock(OTLP_FUZZ_NOW) });
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
    last = await observe();
  });
  afterAll(async () => {
    agent?.destroy();
    await bridge?.stop();
  });

  /** The counters only, read one by one: collecting the whole registry after every export would be most of the run. */
  async function observe(): Promise<Observed> {
    const { registry } = bridge.bridge;
    counterNames ??= (await registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => OTLP_COUNTER.test(name));
    const series = new Map<string, number>();
    for (const name of counterNames) {
      for (const value of (await registry.getSingleMetric(name)!.get()).values) series.set(`${name}${JSON.stringify(value.labels)}`, value.value);
    }
    const { now: _now, ...recovery } = bridge.bridge.controller.snapshot();
    return { series, recovery: JSON.stringify(recovery) };
  }

  function post(c: OtlpCase): Promise<Answer> {
    const url = new URL(bridge.otlpUrl);
    const headers: Record<string, string> = {};
    if (c.contentType !== null) headers['content-type'] = c.contentType;
    if (c.contentEncoding !== undefined) headers['content-encoding'] = c.contentEncoding;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: c.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      });
      // A receiver may answer 413 and close before it has read the whole body.
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      req.end(c.body);
    });
  }

  it(
    'POST /v1/metrics and /v1/logs: an answer the spec allows in the request’s encoding, one export counted, a refusal changes nothing, counters grow and stay finite',
    async () => {
      const runs = fc.array(otlpCases, { minLength: EXPORTS_PER_RUN, maxLength: EXPORTS_PER_RUN });
      await checkProperty(
        'OTLP /v1/metrics and /v1/logs',
        runs,
        async (cases) => {
          for (const [i, c] of cases.entries()) {
            const answer = await post(c);
            const before = last;
            last = await observe();
            try {
              checkAnswer(c, answer, before, last);
            } catch (error) {
              const sent = `${c.contentType ?? 'no Content-Type'}${c.contentEncoding ? `, ${c.contentEncoding}` : ''}, ${c.body.length} bytes`;
              throw new Error(`export ${i + 1} of the run, POST ${c.path} (${sent}; ${c.made.slice(0, 400)}): ${(error as Error).message}`, { cause: error });
            }
          }
          await checkReadEndpoints();
        },
        EXPORTS_PER_RUN,
      );
    },
    targetTimeoutMs(),
  );

  async function checkReadEndpoints(): Promise<void> {
    for (const path of ['/health', '/metrics', '/prometheus']) {
      const response = await fetch(bridge.url + path);
      const text = await response.text();
      if (response.status !== 200 && !(path === '/health' && response.status === 503)) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
      if (path !== '/prometheus') continue;
      const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      if (samples.length > MAX_PROMETHEUS_SAMPLES) throw new Error(`GET /prometheus has ${samples.length} samples (bound ${MAX_PROMETHEUS_SAMPLES})`);
      const broken = samples.filter((line) => line.startsWith('claude_bridge_otlp_') && /\s(NaN|[+-]Inf)$/.test(line));
      if (broken.length > 0) throw new Error(`telemetry series that are not numbers: ${broken.slice(0, 3).join('; ')}`);
    }
  }
});

function checkAnswer(c: OtlpCase, answer: Answer, before: Observed, after: Observed): void {
  const said = `${answer.status} ${answer.contentType} ${answer.body.toString('utf8', 0, 300)}`;
  if (!ALLOWED_STATUS.has(answer.status)) throw new Error(`answered ${said}`);
  const refused = answer.status !== 200;
  if (c.pristine && refused) throw new Error(`a recorded export, unchanged, was refused: ${said}`);

  // The answer in the request's encoding (JSON when the request's is unknown), a Status with a message when refused.
  const asProtobuf = c.contentType !== null && /^application\/x-protobuf$/i.test(c.contentType.split(';')[0]!.trim());
  const expectedType = asProtobuf ? 'application/x-protobuf' : 'application/json';
  if (answer.contentType !== expectedType) throw new Error(`answered in ${answer.contentType}, not ${expectedType}: ${said}`);
  if (refused) {
    const status = asProtobuf ? decodeStatus(answer.body) : (JSON.parse(answer.body.toString('utf8')) as { code: unknown; message: unknown });
    if (typeof status.code !== 'number' || status.code === 0 || typeof status.message !== 'string' || status.message === '') {
      throw new Error(`a ${answer.status} without a google.rpc.Status code and message: ${said}`);
    }
  } else if (!asProtobuf) {
    const response = JSON.parse(answer.body.toString('utf8')) as { partialSuccess?: { rejectedDataPoints?: unknown; rejectedLogRecords?: unknown } };
    if (typeof response !== 'object' || response === null) throw new Error(`a 200 that is not an export response: ${said}`);
    if (c.pristine && response.partialSuccess && Number(response.partialSuccess.rejectedDataPoints ?? response.partialSuccess.rejectedLogRecords ?? 0) > 0) {
      throw new Error(`parts of a recorded export, unchanged, were refused: ${said}`);
    }
  }

  // One export counted per request to a known endpoint; a refused one counted as rejected and nothing else moved.
  const moved = [...new Set([...before.series.keys(), ...after.series.keys()])]
    .map((key) => ({ key, delta: (after.series.get(key) ?? 0) - (before.series.get(key) ?? 0) }))
    .filter((m) => m.delta !== 0);
  for (const m of moved) {
    if (!(m.delta > 0) || !Number.isFinite(after.series.get(m.key)!)) throw new Error(`counter ${m.key} went from ${before.series.get(m.key)} to ${after.series.get(m.key)}`);
  }
  const exports = moved.filter((m) => m.key.startsWith(`${REFUSED_EXPORTS}{`));
  const knownPath = /^\/v1\/(metrics|logs)(\?|$)/.test(c.path);
  if (exports.length !== (knownPath ? 1 : 0) || (knownPath && exports[0]!.delta !== 1)) {
    throw new Error(`exports counted: ${JSON.stringify(exports)} for a ${answer.status} to ${c.path}`);
  }
  if (knownPath && refused !== exports[0]!.key.includes('"result":"rejected"')) throw new Error(`a ${answer.status} counted as ${exports[0]!.key}`);
  if (refused) {
    const others = moved.filter((m) => !m.key.startsWith(`${REFUSED_EXPORTS}{`));
    if (others.length > 0) throw new Error(`a refused export (${said}) moved ${others.map((m) => m.key).slice(0, 5).join(', ')}`);
    if (after.recovery !== before.recovery) throw new Error(`a refused export changed the recovery state:\n${before.recovery}\n→ ${after.recovery}`);
  }
}
