import { isJsonObject } from '../../util/json.js';

/**
 * Reads an Export{Metrics,Logs}ServiceRequest in its OTLP/JSON shape (the protobuf path decodes
 * to the same shape, see proto.ts) into the few things the bridge uses. Unknown fields are
 * ignored, as the OTLP/JSON rules require; an item that cannot be used is counted as rejected
 * (a partial success); a body whose structure is wrong is a PayloadError (400).
 */
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

export interface SumPoint {
  metric: string;
  temporality: 'delta' | 'cumulative';
  monotonic: boolean;
  /** Nanoseconds since the epoch, as decimal strings (exact beyond 2^53); null when unset. */
  startNs: bigint | null;
  timeNs: bigint;
  value: number;
  attributes: Attributes;
  /** Identifies the producer across exports (resource attributes, sorted). */
  resourceKey: string;
}

export interface LogEvent {
  name: string;
  /** ms since the epoch; null when the record carries no time at all. */
  time: number | null;
  timeNs: bigint | null;
  attributes: Attributes;
}

export interface Parsed<T> {
  items: T[];
  rejected: number;
  /** Why items were rejected, one line per reason (for the partial-success message). */
  problems: string[];
}

export class PayloadError extends Error {}

const TEMPORALITY: Record<number, SumPoint['temporality']> = { 1: 'delta', 2: 'cumulative' };
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point is a staleness marker, not a value. */
const NO_RECORDED_VALUE = 1;
const CLAUDE_CODE_EVENT_PREFIX = 'claude_code.';

export function parseMetricsRequest(body: unknown): Parsed<SumPoint> {
  const out = new Collector<SumPoint>();
  for (const resourceMetrics of listAt(requestObject(body), 'resourceMetrics')) {
    const resource = objectAt(resourceMetrics, 'resource', 'resourceMetrics[].resource');
    const resourceKey = keyOf(attributesOf(resource?.attributes));
    for (const scopeMetrics of listAt(resourceMetrics, 'scopeMetrics')) {
      for (const metric of listAt(scopeMetrics, 'metrics')) readMetric(metric, resourceKey, out);
    }
  }
  return out.result();
}

function readMetric(metric: Record<string, unknown>, resourceKey: string, out: Collector<SumPoint>): void {
  const name = typeof metric.name === 'string' ? metric.name : null;
  const sum = objectAt(metric, 'sum', 'metrics[].sum');
  if (!sum) return; // gauges, histograms, summaries: valid, not used
  const points = listAt(sum, 'dataPoints');
  const temporality = TEMPORALITY[numberOf(sum.aggregationTemporality ?? 0) ?? 0];
  if (!name || !temporality) {
    out.reject(points.length, name ? `${name}: aggregationTemporality must be 1 (delta) or 2 (cumulative)` : 'a metric without a name');
    return;
  }
  for (const point of points) {
    if (((numberOf(point.flags ?? 0) ?? 0) & NO_RECORDED_VALUE) !== 0) continue;
    const timeNs = nanos(point.timeUnixNano);
    const value = numberOf(point.asDouble ?? point.asInt);
    if (timeNs === null || timeNs === 0n) {
      out.reject(1, `${name}: a data point without timeUnixNano`);
    } else if (value === null || !Number.isFinite(value)) {
      out.reject(1, `${name}: a data point without a finite asDouble or asInt`);
    } else {
      const startNs = nanos(point.startTimeUnixNano);
      out.add({
        metric: name,
        temporality,
        monotonic: sum.isMonotonic === true,
        startNs: startNs === 0n ? null : startNs,
        timeNs,
        value,
        attributes: attributesOf(point.attributes),
        resourceKey,
      });
    }
  }
}

export function parseLogsRequest(body: unknown): Parsed<LogEvent> {
  const out = new Collector<LogEvent>();
  for (const resourceLogs of listAt(requestObject(body), 'resourceLogs')) {
    for (const scopeLogs of listAt(resourceLogs, 'scopeLogs')) {
      for (const record of listAt(scopeLogs, 'logRecords')) {
        const attributes = attributesOf(record.attributes);
        const name = eventName(attributes, record.body);
        if (!name) continue; // not a Claude Code event: accepted, not used
        const timeNs = firstTime(record.timeUnixNano, record.observedTimeUnixNano);
        const fromAttribute = typeof attributes['event.timestamp'] === 'string' ? Date.parse(attributes['event.timestamp']) : NaN;
        const time = timeNs !== null ? Number(timeNs / 1_000_000n) : Number.isNaN(fromAttribute) ? null : fromAttribute;
        out.add({ name, time, timeNs, attributes });
      }
    }
  }
  return out.result();
}

/** `event.name` (Claude Code sets it on every event), else the body `claude_code.<name>`. */
function eventName(attributes: Attributes, body: unknown): string | null {
  const named = attributes['event.name'];
  if (typeof named === 'string' && named !== '') return named;
  const text = isJsonObject(body) ? body.stringValue : undefined;
  if (typeof text === 'string' && text.startsWith(CLAUDE_CODE_EVENT_PREFIX)) return text.slice(CLAUDE_CODE_EVENT_PREFIX.length);
  return null;
}

function firstTime(...candidates: unknown[]): bigint | null {
  for (const candidate of candidates) {
    const ns = nanos(candidate);
    if (ns !== null && ns > 0n) return ns;
  }
  return null;
}

class Collector<T> {
  private readonly items: T[] = [];
  private rejected = 0;
  private readonly problems = new Map<string, number>();

  add(item: T): void {
    this.items.push(item);
  }

  reject(count: number, why: string): void {
    if (count <= 0) return;
    this.rejected += count;
    this.problems.set(why, (this.problems.get(why) ?? 0) + count);
  }

  result(): Parsed<T> {
    const problems = [...this.problems].map(([why, count]) => (count > 1 ? `${why} (${count}×)` : why));
    return { items: this.items, rejected: this.rejected, problems };
  }
}

function requestObject(body: unknown): Record<string, unknown> {
  if (!isJsonObject(body)) throw new PayloadError('the request body is not an object');
  return body;
}

/** A repeated field: absent is empty; anything but a list of objects is a malformed request. */
function listAt(parent: Record<string, unknown>, field: string): Record<string, unknown>[] {
  const value = parent[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PayloadError(`"${field}" is not a list`);
  for (const item of value) if (!isJsonObject(item)) throw new PayloadError(`"${field}" holds an item that is not an object`);
  return value as Record<string, unknown>[];
}

function objectAt(parent: Record<string, unknown>, field: string, where: string): Record<string, unknown> | null {
  const value = parent[field];
  if (value === undefined || value === null) return null;
  if (!isJsonObject(value)) throw new PayloadError(`"${where}" is not an object`);
  return value;
}

/** KeyValue list → scalar attributes (arrays, maps and bytes are not needed here). */
export function attributesOf(list: unknown): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const entry of list) {
    if (!isJsonObject(entry) || typeof entry.key !== 'string' || !isJsonObject(entry.value)) continue;
    const value = scalarOf(entry.value);
    if (value !== null) out[entry.key] = value;
  }
  return out;
}

function scalarOf(value: Record<string, unknown>): AttributeValue | null {
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  const int = value.intValue;
  if (typeof int === 'number' || typeof int === 'string') {
    const n = Number(int);
    return Number.isFinite(n) ? n : null;
  }
  const double = numberOf(value.doubleValue);
  return double !== null && Number.isFinite(double) ? double : null;
}

/** asDouble / asInt: a number, or a decimal string (int64 in JSON, NaN/Infinity spelled out). */
function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isNaN(n) && value !== 'NaN' ? null : n;
  }
  return null;
}

/** fixed64 nanoseconds: a decimal string (JSON, protobuf via toObject) or a safe number. */
function nanos(value: unknown): bigint | null {
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return null;
}

export function keyOf(attributes: Attributes): string {
  return JSON.stringify(Object.keys(attributes).sort().map((k) => [k, attributes[k]]));
}
