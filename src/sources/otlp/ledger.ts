import type { ModelFamily, TokenCounts } from '../usage/types.js';

export type Stream = 'metrics' | 'logs';
export const STREAMS: Stream[] = ['metrics', 'logs'];
export type TokenKind = keyof TokenCounts;
export const STATUS_CLASSES = ['4xx', '5xx', 'other'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export interface Tally {
  tokens: TokenCounts;
  costUsd: number;
  byFamily: Partial<Record<ModelFamily, { tokens: number; costUsd: number }>>;
}

interface Bucket {
  tallies: Record<Stream, Tally>;
  requests: number;
  errors: Record<StatusClass, number>;
  rateLimited: number;
}

/** Totals over a span of time, per stream (the same requests seen by each). */
export interface SpanTotals {
  tallies: Record<Stream, Tally>;
  requests: number;
  errors: Record<StatusClass, number>;
  rateLimited: number;
  /** Minutes (ms, start of minute) with any activity, ascending. */
  firstActivity: number | null;
}

const MINUTE_MS = 60_000;

export function emptyTally(): Tally {
  return { tokens: { input: 0, output: 0, cache_creation: 0, cache_read: 0 }, costUsd: 0, byFamily: {} };
}

/**
 * What Claude Code's telemetry reported, by minute, for the last `retentionMs` (enough for
 * today and the 5-hour block): bounded whatever the traffic. Each stream keeps its own tally:
 * the token and cost metrics and the `api_request` events describe the same requests, so a
 * figure takes one stream, never their sum.
 */
export class UsageLedger {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly retentionMs: number) {}

  addTokens(stream: Stream, at: number, family: ModelFamily, kind: TokenKind, tokens: number): void {
    const tally = this.bucket(at).tallies[stream];
    tally.tokens[kind] += tokens;
    if (kind === 'input' || kind === 'output') familyOf(tally, family).tokens += tokens;
  }

  addCost(stream: Stream, at: number, family: ModelFamily, usd: number): void {
    const tally = this.bucket(at).tallies[stream];
    tally.costUsd += usd;
    familyOf(tally, family).costUsd += usd;
  }

  addRequest(at: number): void {
    this.bucket(at).requests += 1;
  }

  addError(at: number, statusClass: StatusClass, rateLimited: boolean): void {
    const bucket = this.bucket(at);
    bucket.errors[statusClass] += 1;
    if (rateLimited) bucket.rateLimited += 1;
  }

  /** Totals of the minutes that start in [from, to). */
  totals(from: number, to: number): SpanTotals {
    const out: SpanTotals = { tallies: { metrics: emptyTally(), logs: emptyTally() }, requests: 0, errors: emptyErrors(), rateLimited: 0, firstActivity: null };
    for (const [minute, bucket] of this.buckets) {
      if (minute < floorMinute(from) || minute >= to) continue;
      for (const stream of STREAMS) addInto(out.tallies[stream], bucket.tallies[stream]);
      out.requests += bucket.requests;
      out.rateLimited += bucket.rateLimited;
      for (const c of STATUS_CLASSES) out.errors[c] += bucket.errors[c];
      if (out.firstActivity === null || minute < out.firstActivity) out.firstActivity = minute;
    }
    return out;
  }

  /** The minutes that saw tokens or requests, ascending (the block rule's input). */
  activeMinutes(): number[] {
    return [...this.buckets.keys()].sort((a, b) => a - b);
  }

  /** Forgets minutes older than the retention. */
  prune(now: number): void {
    const oldest = floorMinute(now - this.retentionMs);
    for (const minute of this.buckets.keys()) if (minute < oldest) this.buckets.delete(minute);
  }

  private bucket(at: number): Bucket {
    const minute = floorMinute(at);
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = { tallies: { metrics: emptyTally(), logs: emptyTally() }, requests: 0, errors: emptyErrors(), rateLimited: 0 };
      this.buckets.set(minute, bucket);
    }
    return bucket;
  }
}

/** The stream that saw more of the span (input+output tokens, then cost); metrics on a tie. */
export function fullerStream(totals: SpanTotals): Stream {
  const [m, l] = [totals.tallies.metrics, totals.tallies.logs];
  const io = (t: Tally) => t.tokens.input + t.tokens.output;
  if (io(l) !== io(m)) return io(l) > io(m) ? 'logs' : 'metrics';
  return l.costUsd > m.costUsd ? 'logs' : 'metrics';
}

export function floorMinute(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

function emptyErrors(): Record<StatusClass, number> {
  return { '4xx': 0, '5xx': 0, other: 0 };
}

function familyOf(tally: Tally, family: ModelFamily): { tokens: number; costUsd: number } {
  return (tally.byFamily[family] ??= { tokens: 0, costUsd: 0 });
}

function addInto(target: Tally, source: Tally): void {
  for (const kind of Object.keys(source.tokens) as TokenKind[]) target.tokens[kind] += source.tokens[kind];
  target.costUsd += source.costUsd;
  for (const [family, use] of Object.entries(source.byFamily) as [ModelFamily, { tokens: number; costUsd: number }][]) {
    const into = familyOf(target, family);
    into.tokens += use.tokens;
    into.costUsd += use.costUsd;
  }
}
