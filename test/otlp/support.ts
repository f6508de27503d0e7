import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Bridge } from '../../src/bridge.js';
import type { BridgeComponent, ComponentFactory, UsageSignals } from '../../src/component.js';
import type { BridgeConfig } from '../../src/config/index.js';
import { createOtlpComponent, type OtlpComponent } from '../../src/sources/otlp/index.js';
import { decodeRequest, encodeRequest, type Signal } from '../../src/sources/otlp/proto.js';
import type { Clock } from '../../src/util/clock.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { fixturePath, readJsonFixture } from '../support/fixtures.js';

export const OTLP_DIR = ['claude-code', 'otlp'] as const;

/** A recorded OTLP/JSON body. */
export function otlpJson(name: string): Record<string, unknown> {
  return readJsonFixture<Record<string, unknown>>(...OTLP_DIR, name);
}

/** A recorded binary body (Claude Code 2.1.332, `http/protobuf`), as sent. */
export function otlpProtobuf(name: string): Buffer {
  return readFileSync(fixturePath(...OTLP_DIR, 'protobuf-2.1.332', name));
}

export function recordedHookInput(name: string): Record<string, unknown> {
  return readJsonFixture<Record<string, unknown>>(...OTLP_DIR, 'protobuf-2.1.332', name);
}

const TIME_FIELDS = new Set(['timeUnixNano', 'startTimeUnixNano', 'observedTimeUnixNano']);

/**
 * A copy of an OTLP/JSON-shaped body with every instant moved by `shiftMs`: the three time
 * fields and the `event.timestamp` attribute, so a test runs at an injected now, not at the day
 * the body was recorded.
 */
export function shiftOtlp<T>(body: T, shiftMs: number): T {
  const shiftNs = BigInt(Math.round(shiftMs)) * 1_000_000n;
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (TIME_FIELDS.has(key) && (typeof inner === 'string' || typeof inner === 'number') && BigInt(inner) > 0n) out[key] = String(BigInt(inner) + shiftNs);
      else out[key] = walk(inner);
    }
    const entry = out as { key?: unknown; value?: { stringValue?: unknown } };
    if (entry.key === 'event.timestamp' && typeof entry.value?.stringValue === 'string') {
      out.value = { stringValue: new Date(Date.parse(entry.value.stringValue) + shiftMs).toISOString() };
    }
    return out;
  };
  return walk(body) as T;
}

/** The latest time (ms) in an OTLP body: the instant a test shifts to its now. */
export function latestTime(body: unknown): number {
  let latest = 0n;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (TIME_FIELDS.has(key) && (typeof inner === 'string' || typeof inner === 'number')) latest = BigInt(inner) > latest ? BigInt(inner) : latest;
      else walk(inner);
    }
  };
  walk(body);
  return Number(latest / 1_000_000n);
}

/** A recorded protobuf body decoded, shifted, and encoded again with the same generated types. */
export function shiftProtobuf(signal: Signal, body: Uint8Array, shiftMs: number): Uint8Array {
  return encodeRequest(signal, shiftOtlp(decodeRequest(signal, body), shiftMs));
}

export interface OtlpBridge extends RunningBridge {
  otlp: OtlpComponent;
  otlpUrl: string;
  /** POST to the OTLP port; a string or object body is JSON, bytes are protobuf. */
  send(path: string, body: unknown, options?: { headers?: Record<string, string>; gzip?: boolean }): Promise<OtlpAnswer>;
}

export interface OtlpAnswer {
  status: number;
  contentType: string | null;
  bytes: Buffer;
  json: any;
}

/** A real bridge on loopback with the OTLP component on a free port (zone UTC unless told). */
export async function startOtlpBridge(
  options: { config?: BridgeConfig; clock?: Clock; timeZone?: string; components?: ComponentFactory[] } = {},
): Promise<OtlpBridge> {
  const config = options.config ?? testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false } });
  config.otlp.port = 0;
  config.otlp.host = '127.0.0.1';
  const running = await startBridge({
    config,
    ...(options.clock ? { clock: options.clock } : {}),
    components: [...(options.components ?? []), createOtlpComponent({ timeZone: options.timeZone ?? 'UTC' })],
  });
  const otlp = otlpOf(running.bridge);
  const address = otlp.address();
  if (!address) throw new Error('the OTLP receiver is not listening');
  const otlpUrl = `http://127.0.0.1:${address.port}`;
  return {
    ...running,
    otlp,
    otlpUrl,
    send: (path, body, sendOptions = {}) => postOtlp(otlpUrl + path, body, sendOptions),
  };
}

export function otlpOf(bridge: Bridge): OtlpComponent {
  const found = bridge.components.find((c) => c.name === 'otlp');
  if (!found) throw new Error('no otlp component');
  return found as OtlpComponent;
}

export async function postOtlp(url: string, body: unknown, options: { headers?: Record<string, string>; gzip?: boolean } = {}): Promise<OtlpAnswer> {
  const binary = body instanceof Uint8Array;
  let payload: Uint8Array = binary ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': binary ? 'application/x-protobuf' : 'application/json', ...options.headers };
  if (options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  const response = await fetch(url, { method: 'POST', headers, body: new Uint8Array(payload) as Uint8Array<ArrayBuffer> });
  const bytes = Buffer.from(await response.arrayBuffer());
  const contentType = response.headers.get('content-type');
  let json: unknown;
  if (contentType?.startsWith('application/json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: response.status, contentType, bytes, json };
}

/** A component that only reports signals, as a usage source that knows the block would. */
export function signalsComponent(signals: () => UsageSignals): ComponentFactory {
  return (): BridgeComponent => ({ name: 'usage-stand-in', signals });
}

/** A metric's value from the bridge's registry, 0 when the series does not exist. */
export async function metricValue(bridge: Bridge, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = bridge.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const matching = values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return matching.reduce((sum, v) => sum + v.value, 0);
}
