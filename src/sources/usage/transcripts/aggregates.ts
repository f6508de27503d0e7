import type { TokenCounts } from '../types.js';
import type { MessageTokens } from './pricing.js';
import type { RecordStore } from './records.js';

export const HOUR_MS = 3_600_000;

/** Sums of a set of entries: the four token kinds, cost and count, in total and per model. */
export interface Aggregate {
  entries: number;
  tokens: TokenCounts;
  costUsd: number;
  /** By model index (0: entries without a model). */
  byModel: Map<number, ModelAggregate>;
}

export interface ModelAggregate {
  entries: number;
  tokens: TokenCounts;
  costUsd: number;
}

/**
 * Sums kept for long (every hour's units, every block, every day) are flat arrays of numbers,
 * one group per model: [model, entries, input, output, cache creation, cache read, cost, …]. V8
 * keeps such an array's doubles unboxed in one allocation, where an `Aggregate` took a dozen
 * objects (a Map, per-model objects, boxed costs): over the 1 GiB bench history 15 MiB of
 * heap, 6 MiB held this way. An `Aggregate` is built from them when a figure is asked for.
 */
export type Sums = number[];
const STRIDE = 7;
const ENTRIES = 1;
const INPUT = 2;
const OUTPUT = 3;
const CACHE_CREATION = 4;
const CACHE_READ = 5;
const COST = 6;

/** The offset of `model`'s group, or -1. */
function groupOf(sums: Sums, model: number): number {
  for (let at = 0; at < sums.length; at += STRIDE) if (sums[at] === model) return at;
  return -1;
}

/** `sums` with a zero group for `model` at its end (a new array of just the right length). */
function withGroup(sums: Sums, model: number): Sums {
  return sums.concat([model, 0, 0, 0, 0, 0, 0]);
}

/** Adds one record; returns the sums, a new array when the record's model is new to them. */
const rowTokens: MessageTokens = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };

export function addRow(sums: Sums, store: RecordStore, row: number): Sums {
  const model = store.int.model[row]!;
  let at = groupOf(sums, model);
  if (at < 0) {
    at = sums.length;
    sums = withGroup(sums, model);
  }
  const tokens = store.tokens(row, rowTokens);
  sums[at + ENTRIES]! += 1;
  sums[at + INPUT]! += tokens.input;
  sums[at + OUTPUT]! += tokens.output;
  sums[at + CACHE_CREATION]! += tokens.cacheWrite5m + tokens.cacheWrite1h;
  sums[at + CACHE_READ]! += tokens.cacheRead;
  sums[at + COST]! += store.float.cost[row]!;
  return sums;
}

/** Adds `source` into `target`; returns the target, a new array when a model was new to it. */
export function mergeSums(target: Sums, source: Sums): Sums {
  for (let from = 0; from < source.length; from += STRIDE) {
    let at = groupOf(target, source[from]!);
    if (at < 0) {
      at = target.length;
      target = withGroup(target, source[from]!);
    }
    for (let k = ENTRIES; k < STRIDE; k++) target[at + k]! += source[from + k]!;
  }
  return target;
}

/** The sums as an `Aggregate`, totals and per model. */
export function aggregateOf(sums: Sums): Aggregate {
  const total = emptyAggregate();
  for (let at = 0; at < sums.length; at += STRIDE) {
    const perModel: ModelAggregate = {
      entries: sums[at + ENTRIES]!,
      tokens: { input: sums[at + INPUT]!, output: sums[at + OUTPUT]!, cache_creation: sums[at + CACHE_CREATION]!, cache_read: sums[at + CACHE_READ]! },
      costUsd: sums[at + COST]!,
    };
    total.byModel.set(sums[at]!, perModel);
    total.entries += perModel.entries;
    addTokens(total.tokens, perModel.tokens);
    total.costUsd += perModel.costUsd;
  }
  return total;
}

export function emptyAggregate(): Aggregate {
  return { entries: 0, tokens: zeroTokens(), costUsd: 0, byModel: new Map() };
}

function zeroTokens(): TokenCounts {
  return { input: 0, output: 0, cache_creation: 0, cache_read: 0 };
}

function addTokens(target: TokenCounts, source: TokenCounts): void {
  target.input += source.input;
  target.output += source.output;
  target.cache_creation += source.cache_creation;
  target.cache_read += source.cache_read;
}

/**
 * A stretch of entries that block identification treats as one: all entries of one hour that
 * sit exactly on the hour, or all the others. Within a unit no two entries are an hour apart, so
 * ccusage's rules (a block ends 5 h after its hour-floored start, or after a gap of 5 h) never cut
 * through one; the on-the-hour entries need their own unit because ccusage keeps an entry at
 * exactly start + 5 h in the block while the rest of that hour starts the next.
 */
export interface Unit {
  /** hour index × 2, + 1 for the entries after the hour's first millisecond. */
  key: number;
  first: number;
  last: number;
  sums: Sums;
  /** The earliest rate-limit reset time among the unit's entries. */
  limitReset: { at: number; value: number } | null;
}

interface Bucket {
  /** Live rows in this hour. */
  count: number;
  /** Its units, kept up to date on every add; null after a removal until summed again. */
  units: Unit[] | null;
}

/**
 * The entries of one report grouped by hour (blocks), summed into units as they are added. The
 * rows themselves are not listed per hour (that was a tenth of the reader's memory): the rare
 * removal (a transcript replaced or deleted) marks its hour stale, and the stale hours are summed
 * again in one pass over the store, over the rows that carry `member` (the report's flag).
 */
export class HourBuckets {
  private readonly buckets = new Map<number, Bucket>();
  private sortedHours: number[] = [];
  private sorted = true;
  private stale = 0;
  /** The lowest unit key changed since `takeDirty`, or Infinity. */
  private dirty = -Infinity;

  constructor(
    private readonly store: RecordStore,
    private readonly member: number,
  ) {}

  add(row: number): void {
    const hour = Math.floor(this.store.float.at[row]! / HOUR_MS);
    let bucket = this.buckets.get(hour);
    if (!bucket) {
      bucket = { count: 0, units: [] };
      this.buckets.set(hour, bucket);
      const last = this.sortedHours[this.sortedHours.length - 1];
      if (last !== undefined && hour < last) this.sorted = false;
      this.sortedHours.push(hour);
    }
    bucket.count += 1;
    if (bucket.units) this.addToUnits(bucket.units, hour, row);
    this.dirty = Math.min(this.dirty, hour * 2);
  }

  remove(row: number): void {
    const hour = Math.floor(this.store.float.at[row]! / HOUR_MS);
    const bucket = this.buckets.get(hour);
    if (!bucket) return;
    bucket.count -= 1;
    if (bucket.units) this.stale += 1;
    bucket.units = null;
    this.dirty = Math.min(this.dirty, hour * 2);
  }

  clear(): void {
    this.buckets.clear();
    this.sortedHours = [];
    this.sorted = true;
    this.stale = 0;
    this.dirty = -Infinity;
  }

  /** The unit key from which summaries changed since the last call (Infinity: none). */
  takeDirty(): number {
    const dirty = this.dirty;
    this.dirty = Infinity;
    return dirty;
  }

  /** Every non-empty unit with key ≥ `fromKey`, in time order. */
  *units(fromKey = -Infinity): Generator<Unit> {
    if (this.stale > 0) this.resum();
    const hours = this.hours();
    let index = lowerBound(hours, Math.floor(fromKey / 2));
    for (; index < hours.length; index++) {
      const bucket = this.buckets.get(hours[index]!);
      if (!bucket?.units || bucket.count === 0) continue;
      for (const unit of bucket.units) if (unit.key >= fromKey) yield unit;
    }
  }

  private hours(): number[] {
    if (!this.sorted) {
      this.sortedHours.sort((a, b) => a - b);
      this.sorted = true;
    }
    return this.sortedHours;
  }

  /** Sums the stale hours again, in one pass over the store. */
  private resum(): void {
    const { store } = this;
    const stale = new Set<number>();
    for (const [hour, bucket] of this.buckets) {
      if (bucket.units) continue;
      bucket.units = [];
      stale.add(hour);
    }
    for (let row = 0; row < store.rows; row++) {
      if (!store.has(row, this.member)) continue;
      const hour = Math.floor(store.float.at[row]! / HOUR_MS);
      if (stale.has(hour)) this.addToUnits(this.buckets.get(hour)!.units!, hour, row);
    }
    this.stale = 0;
  }

  /** Adds one row to the units of its hour (kept in time order: the on-the-hour unit first). */
  private addToUnits(units: Unit[], hour: number, row: number): void {
    const { store } = this;
    const at = store.float.at[row]!;
    const key = hour * 2 + (at === hour * HOUR_MS ? 0 : 1);
    let unit = units.find((u) => u.key === key);
    if (!unit) {
      unit = { key, first: at, last: at, sums: [], limitReset: null };
      if (units[0] && units[0].key > key) units.unshift(unit);
      else units.push(unit);
    }
    unit.first = Math.min(unit.first, at);
    unit.last = Math.max(unit.last, at);
    unit.sums = addRow(unit.sums, store, row);
    const reset = store.limitResetAt.get(row);
    if (reset !== undefined && (unit.limitReset === null || at < unit.limitReset.at)) unit.limitReset = { at, value: reset };
  }
}

/** Index of the first element ≥ value in an ascending array. */
export function lowerBound(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The entries of ccusage's daily report grouped by calendar day in one time zone. A line costs no
 * date formatting: each local day is worked out once, as the UTC interval it covers, and a day
 * with a clock change (where that interval is not 24 h) falls back to one lookup per quarter
 * hour (every zone's midnight falls on one).
 */
export class DayBuckets {
  /** Per day: live rows, and their sums (null after a removal until summed again, as in HourBuckets). */
  private readonly buckets = new Map<string, { count: number; sums: Sums | null }>();
  private readonly intervals: { from: number; to: number; day: string }[] = [];
  private last: { from: number; to: number; day: string } | null = null;
  private readonly dayOfQuarter = new Map<number, string>();
  private readonly format: Intl.DateTimeFormat;
  private readonly wallClock: Intl.DateTimeFormat;

  constructor(
    private readonly store: RecordStore,
    readonly timeZone: string,
    private readonly member: number,
  ) {
    this.format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    this.wallClock = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  add(row: number): void {
    const day = this.dayOf(this.store.float.at[row]!);
    let bucket = this.buckets.get(day);
    if (!bucket) {
      bucket = { count: 0, sums: [] };
      this.buckets.set(day, bucket);
    }
    bucket.count += 1;
    if (bucket.sums) bucket.sums = addRow(bucket.sums, this.store, row);
  }

  remove(row: number): void {
    const bucket = this.buckets.get(this.dayOf(this.store.float.at[row]!));
    if (!bucket) return;
    bucket.count -= 1;
    bucket.sums = null;
  }

  clear(): void {
    this.buckets.clear();
  }

  /** YYYY-MM-DD of an instant in this report's zone. */
  dayOf(at: number): string {
    const last = this.last;
    if (last && at >= last.from && at < last.to) return last.day;
    const found = this.intervals[this.intervalEndingAfter(at)];
    if (found && at >= found.from) {
      this.last = found;
      return found.day;
    }
    return this.learnDay(at);
  }

  private learnDay(at: number): string {
    const day = this.format.format(at);
    const offset = this.offsetAt(at);
    const [year, month, date] = day.split('-').map(Number) as [number, number, number];
    const from = Date.UTC(year, month - 1, date) - offset;
    const to = from + 86_400_000;
    const whole = this.format.format(from) === day && this.format.format(from - 1) !== day && this.format.format(to - 1) === day && this.format.format(to) !== day;
    if (!whole) {
      const quarter = Math.floor(at / 900_000);
      let cached = this.dayOfQuarter.get(quarter);
      if (cached === undefined) {
        cached = this.format.format(quarter * 900_000);
        this.dayOfQuarter.set(quarter, cached);
      }
      return cached;
    }
    const interval = { from, to, day };
    this.intervals.splice(this.intervalEndingAfter(to - 1), 0, interval);
    this.last = interval;
    return day;
  }

  /** Index of the first known interval that ends after `at` (they are kept in order). */
  private intervalEndingAfter(at: number): number {
    let low = 0;
    let high = this.intervals.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.intervals[mid]!.to <= at) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The zone's offset from UTC at an instant, ms. */
  private offsetAt(at: number): number {
    const parts = Object.fromEntries(this.wallClock.formatToParts(at).map((p) => [p.type, p.value]));
    const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return wall - Math.floor(at / 1000) * 1000;
  }

  day(date: string): Aggregate {
    const bucket = this.buckets.get(date);
    if (!bucket || bucket.count === 0) return emptyAggregate();
    if (!bucket.sums) this.resum();
    return aggregateOf(bucket.sums!);
  }

  /** Every day with entries, oldest first. */
  days(): string[] {
    return [...this.buckets.entries()].filter(([, b]) => b.count > 0).map(([day]) => day).sort();
  }

  /** Sums the stale days again, in one pass over the store. */
  private resum(): void {
    const { store } = this;
    const stale = new Map<string, { sums: Sums | null }>();
    for (const [day, bucket] of this.buckets) {
      if (bucket.sums) continue;
      bucket.sums = [];
      stale.set(day, bucket);
    }
    for (let row = 0; row < store.rows; row++) {
      if (!store.has(row, this.member)) continue;
      const bucket = stale.get(this.dayOf(store.float.at[row]!));
      if (bucket) bucket.sums = addRow(bucket.sums!, store, row);
    }
  }
}

