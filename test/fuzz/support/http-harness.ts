import { Agent, request as httpRequest } from 'node:http';
import { ALERT_TYPES } from '../../../src/alerts/types.js';
import { defaultComponents } from '../../../src/components.js';
import { MAX_ORIGINS_PER_ALERT, MAX_ORIGIN_KEY_LENGTH, MAX_SUMMARY_LENGTH } from '../../../src/recovery/types.js';
import { startBridge, type RunningBridge } from '../../support/bridge.js';
import { testConfig } from '../../support/config.js';
import { ManualClock } from '../../support/manual-clock.js';
import type { TimerHandle } from '../../../src/util/clock.js';
import type { FuzzBody } from './mutate.js';

/** What an oracle says a body must get. */
export type Verdict = 'accept' | 'refuse' | 'either';

/** Longest hold of a hook under the fuzz config: the harness plays the clock forward by this much to serve one. */
const HOLD_MS = 1000;

/**
 * Generous bounds on what any sequence of requests can grow: every origin of every alert at its
 * longest key and summary, each character JSON-escaped (\u0000 is 6 characters); and the
 * Prometheus samples, whose labels are capped per metric.
 */
export const MAX_RECOVERY_STATUS_CHARS = ALERT_TYPES.length * MAX_ORIGINS_PER_ALERT * (6 * (MAX_ORIGIN_KEY_LENGTH + MAX_SUMMARY_LENGTH) + 300) + 8192;
export const MAX_PROMETHEUS_SAMPLES = 2000;

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: any;
}

/** The bridge's state as a request may change it: the recovery state and every claude_bridge_ counter. */
export interface Observed {
  /** The recovery snapshot without its clock reading. */
  recovery: string;
  /** Sum of each claude_bridge_ counter's values (the malformed-input counter apart). */
  metrics: Map<string, number>;
  eventsTotal: number;
  malformedTotal: number;
  decisionsTotal: number;
  statuslineUpdates: number;
}

/** A ManualClock that says when a timer is set, so that a held hook can be served at once. */
class WatchedClock extends ManualClock {
  onTimer: (() => void) | null = null;
  override setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = super.setTimeout(callback, delayMs);
    this.onTimer?.();
    return handle;
  }
}

export interface FuzzBridge {
  api: RunningBridge;
  clock: ManualClock;
  send(method: string, path: string, body: FuzzBody | null): Promise<Answer>;
  /** The state, read in-process (cheap enough to read after every request). */
  observe(): Promise<Observed>;
  /** GET /health, /metrics, /prometheus and /recovery/status: each must answer 200, and the state must be within bounds. */
  checkReadEndpoints(): Promise<void>;
  stop(): Promise<void>;
}

/** Figures that move by themselves (process and runtime figures, the build), or that a refused body may count. */
const UNTRACKED = /^claude_bridge_(process_|nodejs_|build_info|hook_events_malformed_total)/;

/**
 * A real bridge on loopback as `serve` builds it (the default components, a ManualClock), with
 * the inputs that need another process turned off: hooks_server disabled, usage.source none.
 */
export async function startFuzzBridge(start: number): Promise<FuzzBridge> {
  const clock = new WatchedClock(start);
  const config = testConfig({
    hooks_server: { enabled: false },
    usage: { source: 'none' },
    alerting: { mode: 'both' }, // Alertmanager's notices act on the controller too
    hooks: { max_hold_ms: { PreToolUse: HOLD_MS, UserPromptSubmit: HOLD_MS } },
  });
  const api = await startBridge({ clock, config, components: defaultComponents() });
  const { registry, controller } = api.bridge;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const url = new URL(api.url);
  // Counters only: the gauges are read from the recovery state (compared whole) and the usage state (the status line counter says when it changes).
  const tracked = (await registry.getMetricsAsJSON())
    .filter((m) => String(m.type) === 'counter' && m.name.startsWith('claude_bridge_') && !UNTRACKED.test(m.name))
    .map((m) => m.name);

  const request = (method: string, path: string, body: FuzzBody | null): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (body?.contentType != null) headers['content-type'] = body.contentType;
      if (body?.contentEncoding) headers['content-encoding'] = body.contentEncoding;
      const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
        });
      });
      req.on('error', reject);
      req.end(body ? Buffer.from(body.text, 'utf8') : undefined);
    });

  const total = async (name: string) => {
    const metric = registry.getSingleMetric(name);
    if (!metric) return 0;
    return (await metric.get()).values.reduce((sum, v) => sum + (Number.isFinite(v.value) ? v.value : 0), 0);
  };

  return {
    api,
    clock,
    async send(method, path, body) {
      let done = false;
      // A hook held by a backoff waits on the clock: play it forward while the request is pending.
      clock.onTimer = () =>
        setImmediate(() => {
          if (!done) clock.advance(HOLD_MS);
        });
      try {
        return await request(method, path, body);
      } finally {
        done = true;
        clock.onTimer = null;
      }
    },
    async observe() {
      const { now: _now, ...recovery } = controller.snapshot();
      const metrics = new Map(await Promise.all(tracked.map(async (name) => [name, await total(name)] as const)));
      return {
        recovery: JSON.stringify(recovery),
        metrics,
        eventsTotal: metrics.get('claude_bridge_hook_events_total') ?? 0,
        malformedTotal: await total('claude_bridge_hook_events_malformed_total'),
        decisionsTotal: metrics.get('claude_bridge_hook_decisions_total') ?? 0,
        statuslineUpdates: metrics.get('claude_bridge_statusline_updates_total') ?? 0,
      };
    },
    async checkReadEndpoints() {
      const paths = ['/health', '/metrics', '/prometheus', '/recovery/status'];
      const answers = await Promise.all(paths.map((path) => request('GET', path, null)));
      answers.forEach((answer, i) => {
        if (answer.status !== 200) throw new Error(`GET ${paths[i]} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      });
      const [, , prometheus, recovery] = answers as [Answer, Answer, Answer, Answer];
      if (recovery.text.length > MAX_RECOVERY_STATUS_CHARS) {
        throw new Error(`GET /recovery/status grew to ${recovery.text.length} characters (bound ${MAX_RECOVERY_STATUS_CHARS})`);
      }
      for (const alert of recovery.json.active_alerts as { alert: string; origins: unknown[] }[]) {
        if (alert.origins.length > MAX_ORIGINS_PER_ALERT) throw new Error(`alert ${alert.alert} has ${alert.origins.length} origins (bound ${MAX_ORIGINS_PER_ALERT})`);
      }
      const samples = prometheus.text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
      if (samples > MAX_PROMETHEUS_SAMPLES) throw new Error(`GET /prometheus has ${samples} samples (bound ${MAX_PROMETHEUS_SAMPLES})`);
    },
    async stop() {
      agent.destroy();
      await api.stop();
    },
  };
}

/** Nesting depth of a JSON value, counted the way the bridge's limit is (an object or array is one level). */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}
