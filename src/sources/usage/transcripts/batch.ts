import { hash53 } from './hash.js';
import type { UsageEntry } from './line.js';
import { ROW } from './native-scan.js';
import { NO_ID } from './records.js';

/** No string: the entry named no model, or no session of its own. */
export const NONE = 0xffffffff;

export const ENTRY_FLAG = { sidechain: 1, hasSpeed: 2, fast: 4, dailyOnly: 8 } as const;

const FLOATS = ['at', 'messageId', 'requestId', 'input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead', 'costUsd', 'limitResetAt', 'offset'] as const;
type FloatField = (typeof FLOATS)[number];

/** An EntryBatch's columns: typed arrays and two small string tables (as it crosses from a reader process, or in place). */
export interface EncodedBatch {
  length: number;
  floats: Record<FloatField, Float64Array>;
  session: Uint32Array;
  model: Uint32Array;
  flags: Uint8Array;
  sessions: string[];
  models: string[];
}

/**
 * The usage entries read from one file, in columns: ids already hashed, model and session names
 * in small tables. A worker thread fills one and hands it over without copying; the reader's
 * thread fills one the same way for what it reads itself (one batch, reused), so both count
 * entries by one path.
 */
export class EntryBatch {
  length = 0;
  private capacity = 64;
  private floats = {} as Record<FloatField, Float64Array>;
  private session = new Uint32Array(this.capacity);
  private model = new Uint32Array(this.capacity);
  private flags = new Uint8Array(this.capacity);
  private readonly sessions: string[] = [];
  private readonly models: string[] = [];
  private readonly sessionIndex = new Map<string, number>();
  private readonly modelIndex = new Map<string, number>();
  /** The scanner's hashes of session and model names: a string is made once per name and batch, not per line. */
  private readonly sessionByHash = new Map<number, number>();
  private readonly modelByHash = new Map<number, number>();

  constructor() {
    for (const name of FLOATS) this.floats[name] = new Float64Array(this.capacity);
  }

  push(entry: UsageEntry, offset: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    const f = this.floats;
    f.at[i] = entry.at;
    f.messageId[i] = entry.messageId === null ? NO_ID : hash53(entry.messageId);
    f.requestId[i] = entry.requestId === null ? NO_ID : hash53(entry.requestId, 1);
    f.input[i] = entry.tokens.input;
    f.output[i] = entry.tokens.output;
    f.cacheWrite5m[i] = entry.tokens.cacheWrite5m;
    f.cacheWrite1h[i] = entry.tokens.cacheWrite1h;
    f.cacheRead[i] = entry.tokens.cacheRead;
    f.costUsd[i] = entry.costUsd ?? NaN;
    f.limitResetAt[i] = entry.limitResetAt ?? NaN;
    f.offset[i] = offset;
    this.session[i] = entry.sessionId === null ? NONE : intern(entry.sessionId, this.sessions, this.sessionIndex);
    this.model[i] = entry.model === null ? NONE : intern(entry.model, this.models, this.modelIndex);
    this.flags[i] =
      (entry.sidechain ? ENTRY_FLAG.sidechain : 0) |
      (entry.speed !== null ? ENTRY_FLAG.hasSpeed : 0) |
      (entry.speed === 'fast' ? ENTRY_FLAG.fast : 0) |
      (entry.reports === 'daily' ? ENTRY_FLAG.dailyOnly : 0);
  }

  /**
   * An entry the native scanner read into `rows` at `r` (ids hashed there already); its strings
   * are ASCII spans of `buffer`, the line it came from.
   */
  pushScanned(rows: Float64Array, r: number, buffer: Buffer, offset: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    const f = this.floats;
    f.at[i] = rows[r + ROW.at]!;
    f.messageId[i] = rows[r + ROW.messageHash]!;
    f.requestId[i] = rows[r + ROW.requestHash]!;
    f.input[i] = rows[r + ROW.input]!;
    f.output[i] = rows[r + ROW.output]!;
    f.cacheWrite5m[i] = rows[r + ROW.cacheWrite5m]!;
    f.cacheWrite1h[i] = rows[r + ROW.cacheWrite1h]!;
    f.cacheRead[i] = rows[r + ROW.cacheRead]!;
    const costStart = rows[r + ROW.costStart]!;
    f.costUsd[i] = costStart < 0 ? NaN : Number(buffer.toString('latin1', costStart, rows[r + ROW.costEnd]));
    f.limitResetAt[i] = NaN;
    f.offset[i] = offset;
    const sessionStart = rows[r + ROW.sessionStart]!;
    this.session[i] = sessionStart < 0 ? NONE : this.sessionByHash.get(rows[r + ROW.sessionHash]!) ?? this.internSpan(rows, r + ROW.sessionStart, buffer, this.sessions, this.sessionIndex, this.sessionByHash);
    const modelStart = rows[r + ROW.modelStart]!;
    this.model[i] = modelStart < 0 ? NONE : this.modelByHash.get(rows[r + ROW.modelHash]!) ?? this.internSpan(rows, r + ROW.modelStart, buffer, this.models, this.modelIndex, this.modelByHash);
    // the scanner's flags are ENTRY_FLAG's bits
    this.flags[i] = rows[r + ROW.flags]!;
  }

  /** A name at rows[at] (start, end, hash), made a string the first time its hash is seen. */
  private internSpan(rows: Float64Array, at: number, buffer: Buffer, table: string[], index: Map<string, number>, byHash: Map<number, number>): number {
    const found = intern(buffer.toString('latin1', rows[at], rows[at + 1]), table, index);
    byHash.set(rows[at + 2]!, found);
    return found;
  }

  /** Empties the batch for the next file or files, keeping its arrays. */
  reset(): void {
    this.length = 0;
    this.sessions.length = 0;
    this.models.length = 0;
    this.sessionIndex.clear();
    this.modelIndex.clear();
    this.sessionByHash.clear();
    this.modelByHash.clear();
  }

  /** Drops the entries after the first `length` (what a failed read of one file had added). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** The entries in place, without copying: valid until the next push or reset. */
  view(): EncodedBatch {
    const n = this.length;
    return {
      length: n,
      floats: this.floats,
      session: this.session,
      model: this.model,
      flags: this.flags,
      sessions: this.sessions,
      models: this.models,
    };
  }

  /** A copy that owns its arrays, to move to another thread. */
  encode(): EncodedBatch {
    const n = this.length;
    return {
      length: n,
      floats: Object.fromEntries(FLOATS.map((name) => [name, this.floats[name].slice(0, n)])) as Record<FloatField, Float64Array>,
      session: this.session.slice(0, n),
      model: this.model.slice(0, n),
      flags: this.flags.slice(0, n),
      sessions: [...this.sessions],
      models: [...this.models],
    };
  }

  private grow(): void {
    this.capacity *= 2;
    for (const name of FLOATS) this.floats[name] = extend(new Float64Array(this.capacity), this.floats[name]);
    this.session = extend(new Uint32Array(this.capacity), this.session);
    this.model = extend(new Uint32Array(this.capacity), this.model);
    this.flags = extend(new Uint8Array(this.capacity), this.flags);
  }
}

/** The buffers of an encoded batch (its own copies), for postMessage's transfer list. */
export function transferables(batch: EncodedBatch): ArrayBuffer[] {
  return [...Object.values(batch.floats), batch.session, batch.model, batch.flags].map((array) => array.buffer as ArrayBuffer);
}

function intern(value: string, table: string[], index: Map<string, number>): number {
  let at = index.get(value);
  if (at === undefined) {
    at = table.length;
    table.push(value);
    index.set(value, at);
  }
  return at;
}

function extend<T extends Float64Array | Uint32Array | Uint8Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
