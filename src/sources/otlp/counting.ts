import { createHash } from 'node:crypto';
import { keyOf, type LogEvent, type SumPoint } from './payload.js';

/** What one data point adds to its counter, and why nothing when it adds nothing. */
export type Increase = { amount: number; kind: 'new' | 'reset' } | { amount: 0; kind: 'duplicate' | 'baseline' | 'stale' };

interface CumulativeLast {
  startNs: bigint | null;
  timeNs: bigint;
  value: number;
}

/**
 * Turns monotonic sums into increases, whatever their temporality:
 * - delta: each point is an increase; a point seen before (same series, start and time: a
 *   retried export) adds nothing.
 * - cumulative: the increase is the difference from the series' previous point. A new start
 *   time, or a value below the last one, is a restart: the new value is the increase, never a
 *   negative one. A point no newer than the last (a retry, or out of order) adds nothing. The
 *   first point of a series counts in full only if the series began after the receiver started
 *   (otherwise it is the baseline: what it had counted before is not this bridge's to claim).
 * Memory is bounded: the oldest series and delta keys are forgotten first.
 */
export class SumIncrements {
  private readonly cumulative = new Map<string, CumulativeLast>();
  private readonly deltas = new Set<string>();
  /** A series first seen after this (ns) began while the receiver listened. */
  private countFromNs: bigint;

  constructor(
    startedAtMs: number,
    private readonly maxSeries: number,
  ) {
    this.countFromNs = BigInt(Math.floor(startedAtMs)) * 1_000_000n;
  }

  increase(point: SumPoint): Increase {
    const series = digest(`${point.metric}|${point.resourceKey}|${keyOf(point.attributes)}`);
    return point.temporality === 'delta' ? this.delta(series, point) : this.cumulativeIncrease(series, point);
  }

  private delta(series: string, point: SumPoint): Increase {
    const key = `${series}|${point.startNs ?? ''}|${point.timeNs}`;
    if (this.deltas.has(key)) return { amount: 0, kind: 'duplicate' };
    remember(this.deltas, key, this.maxSeries * 4);
    return { amount: point.value, kind: 'new' };
  }

  private cumulativeIncrease(series: string, point: SumPoint): Increase {
    const last = this.cumulative.get(series);
    const next: CumulativeLast = { startNs: point.startNs, timeNs: point.timeNs, value: point.value };
    if (!last) {
      this.store(series, next);
      const began = point.startNs ?? 0n;
      return began >= this.countFromNs ? { amount: point.value, kind: 'new' } : { amount: 0, kind: 'baseline' };
    }
    const restarted = point.startNs !== null && last.startNs !== null && point.startNs !== last.startNs;
    if (restarted && point.startNs! < last.startNs!) return { amount: 0, kind: 'stale' }; // an older run's point, late
    if (!restarted && point.timeNs <= last.timeNs) return { amount: 0, kind: 'duplicate' };
    this.store(series, next);
    if (restarted || point.value < last.value) return { amount: point.value, kind: 'reset' };
    return { amount: point.value - last.value, kind: 'new' };
  }

  private store(series: string, last: CumulativeLast): void {
    this.cumulative.delete(series);
    this.cumulative.set(series, last);
    if (this.cumulative.size <= this.maxSeries) return;
    const [oldest, forgotten] = this.cumulative.entries().next().value as [string, CumulativeLast];
    this.cumulative.delete(oldest);
    // A forgotten series that comes back must not count its whole total again.
    const forgottenNs = forgotten.timeNs;
    if (forgottenNs > this.countFromNs) this.countFromNs = forgottenNs;
  }
}

/**
 * Log records already counted, so a retried export adds nothing: Claude Code numbers each
 * session's events (`event.sequence`), and the record's time and name make the key exact.
 */
export class SeenEvents {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** True the first time an event is offered. */
  firstTime(event: LogEvent): boolean {
    const a = event.attributes;
    const key = digest([a['session.id'], a['event.sequence'], event.name, event.timeNs ?? event.time, a['request_id'], a['prompt.id']].join('|'));
    if (this.seen.has(key)) return false;
    remember(this.seen, key, this.max);
    return true;
  }
}

/** Keys are remembered as digests: a series key (every attribute) is hundreds of bytes. */
function digest(key: string): string {
  return createHash('sha1').update(key).digest('base64');
}

function remember(set: Set<string>, key: string, max: number): void {
  set.add(key);
  if (set.size > max) set.delete(set.values().next().value as string);
}
