import type { MessageTokens } from './pricing.js';

/** Bits of `RecordStore.flags`. */
export const FLAG = {
  sidechain: 1,
  hasSpeed: 2,
  fast: 4,
  /** The cost is the line's own `costUSD`, not a price-list figure. */
  costGiven: 8,
  inBlocks: 16,
  inDaily: 32,
  /** Won against a duplicate in another file: dropping this record would have to bring that one back. */
  beatOtherFile: 64,
  /** Its token counts are in `wideTokens`, not in the columns. */
  wideTokens: 128,
} as const;

/** -1 stands for an absent message or request id (hashes are ≥ 0). */
export const NO_ID = -1;

const FLOAT_COLUMNS = ['at', 'messageId', 'requestId', 'cost', 'offset'] as const;
const TOKEN_COLUMNS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const satisfies readonly (keyof MessageTokens)[];
const INT_COLUMNS = ['model', 'session', 'file', ...TOKEN_COLUMNS] as const;
/** The largest token count a column holds. */
const MAX_NARROW = 0xffffffff;
type FloatColumn = (typeof FLOAT_COLUMNS)[number];
type IntColumn = (typeof INT_COLUMNS)[number];

/**
 * One row per usage entry that counts in at least one of ccusage's reports (duplicates that lost
 * are not kept), in columns of typed arrays: 73 bytes a message, no strings. Model, session and
 * file are indexes into the reader's tables. Token counts are u64 as ccusage reads them but far
 * below 2^32 in every real transcript: 4 bytes each, and a record with a larger count keeps its
 * five in `wideTokens`. Freed rows are reused.
 */
export class RecordStore {
  readonly float = {} as Record<FloatColumn, Float64Array>;
  readonly int = {} as Record<IntColumn, Uint32Array>;
  flags: Uint8Array;
  /** Rate-limit reset times, for the few records that carry one. */
  readonly limitResetAt = new Map<number, number>();
  /** Token counts that do not fit the columns, as read. */
  readonly wideTokens = new Map<number, MessageTokens>();
  private readonly scratch: MessageTokens = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };
  private length = 0;
  private readonly free: number[] = [];
  /** During a large read: grow by doubling (trim() gives the room back after it). */
  bulk = false;

  constructor(capacity = 4096) {
    for (const name of FLOAT_COLUMNS) this.float[name] = new Float64Array(capacity);
    for (const name of INT_COLUMNS) this.int[name] = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  /** Rows ever allocated (live or free); live rows have inBlocks or inDaily set. */
  get rows(): number {
    return this.length;
  }

  get live(): number {
    return this.length - this.free.length;
  }

  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.length === this.flags.length) this.grow(this.bulk ? this.length + Math.max(4096, this.length) : roomFor(this.length));
    return this.length++;
  }

  release(row: number): void {
    this.flags[row] = 0;
    this.limitResetAt.delete(row);
    this.wideTokens.delete(row);
    this.free.push(row);
  }

  isLive(row: number): boolean {
    return (this.flags[row]! & (FLAG.inBlocks | FLAG.inDaily)) !== 0;
  }

  has(row: number, flag: number): boolean {
    return (this.flags[row]! & flag) !== 0;
  }

  set(row: number, flag: number, on: boolean): void {
    this.flags[row] = on ? this.flags[row]! | flag : this.flags[row]! & ~flag;
  }

  /** Stores a row's token counts (after its flags are written). */
  setTokens(row: number, tokens: MessageTokens): void {
    const { int } = this;
    if (isNarrow(tokens.input) && isNarrow(tokens.output) && isNarrow(tokens.cacheWrite5m) && isNarrow(tokens.cacheWrite1h) && isNarrow(tokens.cacheRead)) {
      for (const name of TOKEN_COLUMNS) int[name][row] = tokens[name];
      this.wideTokens.delete(row);
      this.set(row, FLAG.wideTokens, false);
      return;
    }
    for (const name of TOKEN_COLUMNS) int[name][row] = 0;
    this.wideTokens.set(row, { ...tokens });
    this.set(row, FLAG.wideTokens, true);
  }

  /** A row's token counts, written into `out` (callers reading many rows pass one object). */
  tokens(row: number, out: MessageTokens): MessageTokens {
    const wide = (this.flags[row]! & FLAG.wideTokens) !== 0 ? this.wideTokens.get(row) : undefined;
    if (wide) return Object.assign(out, wide);
    const { int } = this;
    out.input = int.input[row]!;
    out.output = int.output[row]!;
    out.cacheWrite5m = int.cacheWrite5m[row]!;
    out.cacheWrite1h = int.cacheWrite1h[row]!;
    out.cacheRead = int.cacheRead[row]!;
    return out;
  }

  tokensOf(row: number): number {
    const t = this.tokens(row, this.scratch);
    return t.input + t.output + t.cacheWrite5m + t.cacheWrite1h + t.cacheRead;
  }

  clear(): void {
    this.length = 0;
    this.free.length = 0;
    this.flags.fill(0);
    this.limitResetAt.clear();
    this.wideTokens.clear();
  }

  bytes(): number {
    return this.flags.length * (FLOAT_COLUMNS.length * 8 + INT_COLUMNS.length * 4 + 1);
  }

  /** The live rows as column slices, for the index file. */
  columns(): { float: Record<FloatColumn, Float64Array>; int: Record<IntColumn, Uint32Array>; flags: Uint8Array; rows: number } {
    return {
      float: Object.fromEntries(FLOAT_COLUMNS.map((n) => [n, this.float[n].subarray(0, this.length)])) as Record<FloatColumn, Float64Array>,
      int: Object.fromEntries(INT_COLUMNS.map((n) => [n, this.int[n].subarray(0, this.length)])) as Record<IntColumn, Uint32Array>,
      flags: this.flags.subarray(0, this.length),
      rows: this.length,
    };
  }

  /** Replaces the contents with columns read back from the index file (which become the store's). */
  load(columns: { float: Record<FloatColumn, Float64Array>; int: Record<IntColumn, Uint32Array>; flags: Uint8Array; rows: number }): void {
    // the loaded columns are the store's own copies (index-file.ts): taken over, not copied again
    for (const name of FLOAT_COLUMNS) this.float[name] = columns.float[name];
    for (const name of INT_COLUMNS) this.int[name] = columns.int[name];
    this.flags = columns.flags;
    this.length = columns.rows;
    if (this.flags.length < roomFor(this.length)) this.resize(roomFor(this.length));
    this.free.length = 0;
    for (let row = this.length - 1; row >= 0; row--) if (!this.isLive(row)) this.free.push(row);
  }

  /**
   * Gives back the room growing left after a large read, keeping an
   * eighth to grow into.
   */
  trim(): void {
    const capacity = roomFor(this.length);
    if (capacity >= this.flags.length) return;
    this.resize(capacity);
  }

  private grow(capacity: number): void {
    if (capacity <= this.flags.length) return;
    this.resize(capacity);
  }

  private resize(capacity: number): void {
    for (const name of FLOAT_COLUMNS) this.float[name] = copyInto(new Float64Array(capacity), this.float[name]);
    for (const name of INT_COLUMNS) this.int[name] = copyInto(new Uint32Array(capacity), this.int[name]);
    this.flags = copyInto(new Uint8Array(capacity), this.flags);
  }
}

function copyInto<T extends Float64Array | Uint32Array | Uint8Array>(target: T, source: T): T {
  target.set(source.subarray(0, Math.min(source.length, target.length)));
  return target;
}

/**
 * The capacity for `rows` records: an eighth more to grow into (a long-running bridge holds what
 * it counts, not up to twice that; growing copies every column).
 */
export function roomFor(rows: number): number {
  return rows + Math.max(4096, rows >>> 3);
}

function isNarrow(count: number): boolean {
  return Number.isInteger(count) && count >= 0 && count <= MAX_NARROW && !Object.is(count, -0);
}

export const RECORD_FLOAT_COLUMNS = FLOAT_COLUMNS;
export const RECORD_INT_COLUMNS = INT_COLUMNS;
