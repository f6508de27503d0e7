import type { MessageTokens } from './pricing.js';
import { FLAG, NO_ID, type RecordStore } from './records.js';
import { RowMultiMap } from './multimap.js';

/** ccusage's two reports de-duplicate slightly differently; each has its own set of winners. */
export type LedgerName = 'blocks' | 'daily';
const LEDGER_FLAG: Record<LedgerName, number> = { blocks: FLAG.inBlocks, daily: FLAG.inDaily };

/** A usage entry about to be counted, with its strings already turned into indexes and hashes. */
export interface Candidate {
  at: number;
  messageId: number;
  requestId: number;
  session: number;
  file: number;
  offset: number;
  model: number;
  tokens: MessageTokens;
  cost: number;
  costGiven: boolean;
  sidechain: boolean;
  hasSpeed: boolean;
  fast: boolean;
  limitResetAt: number | null;
  ledgers: readonly LedgerName[];
}

export interface LedgerSink {
  added(row: number, ledger: LedgerName): void;
  /** Called while the row still holds its data. */
  removed(row: number, ledger: LedgerName): void;
}

/** Compares where two lines sit in ccusage's reading order (files by path, then byte offset). */
export type ReadingOrder = (fileA: number, offsetA: number, fileB: number, offsetB: number) => number;

/**
 * ccusage 20.0.24's de-duplication, kept incrementally. A message written several times (once
 * per content block, again in a resumed session's copy, again by a `/btw` side chain) counts
 * once: of the copies, the one outside a side chain wins, then the one with more tokens, then one
 * that records its speed; on a tie the copy ccusage reads first (path order, then line order).
 *
 * Copies match when they share `message.id` and:
 * - blocks: the same `requestId`; without one, the same session; or (a side-chain replay) the same
 *   session and timestamp with one copy in a side chain;
 * - daily: the same `requestId`; without one, the same session and timestamp; or the same session
 *   with one copy in a side chain.
 * Entries without `message.id` are never merged.
 */
export class Ledgers {
  /** Rows by message id (the store's own column is the key). */
  private readonly byMessage = new RowMultiMap((row) => this.store.float.messageId[row]!, 4096);

  constructor(
    private readonly store: RecordStore,
    private readonly order: ReadingOrder,
    private readonly sink: LedgerSink,
  ) {}

  // reused by every add (it runs once per entry of a read: no garbage per entry)
  private readonly joins: LedgerName[] = [];
  private readonly evictedRows: number[] = [];
  private readonly evictedFrom: LedgerName[] = [];

  /** Counts a candidate (read synchronously: the caller may reuse the object). */
  add(candidate: Candidate): void {
    const { joins, evictedRows, evictedFrom } = this;
    joins.length = evictedRows.length = evictedFrom.length = 0;
    let beatOtherFile = false;
    for (const ledger of candidate.ledgers) {
      const match = candidate.messageId === NO_ID ? -1 : this.findMatch(candidate, ledger);
      if (match < 0) {
        joins.push(ledger);
      } else if (this.candidateWins(candidate, match)) {
        joins.push(ledger);
        evictedRows.push(match);
        evictedFrom.push(ledger);
        // read before leave(): a released row may be the very row write() reuses
        if (this.store.int.file[match] !== candidate.file) beatOtherFile = true;
      } else if (this.store.int.file[match] !== candidate.file) {
        // the copy that stays must bring this one back if its own file goes
        this.store.set(match, FLAG.beatOtherFile, true);
      }
    }
    if (joins.length === 0) return;
    for (let i = 0; i < evictedRows.length; i++) this.leave(evictedRows[i]!, evictedFrom[i]!);
    const row = this.write(candidate, joins);
    if (beatOtherFile) this.store.set(row, FLAG.beatOtherFile, true);
    for (const ledger of joins) this.sink.added(row, ledger);
  }

  /**
   * Forgets every record read from `file` (deleted, truncated or replaced). False when one of them
   * had beaten a copy in another file: that copy must count again, which only a full read knows.
   */
  removeFile(file: number): boolean {
    const { store } = this;
    let exact = true;
    for (let row = 0; row < store.rows; row++) {
      if (!store.isLive(row) || store.int.file[row] !== file) continue;
      if (store.has(row, FLAG.beatOtherFile)) exact = false;
      for (const ledger of ['blocks', 'daily'] as const) if (store.has(row, LEDGER_FLAG[ledger])) this.leave(row, ledger);
    }
    return exact;
  }

  /** After the store was loaded from the index file. */
  reindex(): void {
    const { store } = this;
    this.byMessage.reset(store.live);
    for (let row = 0; row < store.rows; row++) {
      if (!store.isLive(row)) continue;
      const message = store.float.messageId[row]!;
      if (message !== NO_ID) this.byMessage.add(message, row);
      for (const ledger of ['blocks', 'daily'] as const) if (store.has(row, LEDGER_FLAG[ledger])) this.sink.added(row, ledger);
    }
  }

  clear(): void {
    this.byMessage.clear();
  }

  bytes(): number {
    return this.byMessage.bytes();
  }

  private findMatch(c: Candidate, ledger: LedgerName): number {
    const { store } = this;
    const { float, int } = store;
    const flag = LEDGER_FLAG[ledger];
    let exact = -1;
    let replay = -1;
    this.byMessage.find(c.messageId, (row) => {
      if (!store.has(row, flag)) return;
      const sameSession = int.session[row] === c.session;
      const sameTime = float.at[row] === c.at;
      if (float.requestId[row] === c.requestId) {
        const matches = c.requestId !== NO_ID || (sameSession && (ledger === 'blocks' || sameTime));
        if (matches) {
          exact = row;
          return true;
        }
      }
      const sidechain = c.sidechain || store.has(row, FLAG.sidechain);
      if (replay < 0 && sameSession && sidechain && (ledger === 'daily' || sameTime)) replay = row;
    });
    return exact >= 0 ? exact : replay;
  }

  /** ccusage keeps the copy it read first unless a later one is better. */
  private candidateWins(c: Candidate, row: number): boolean {
    const { store } = this;
    const sidechain = store.has(row, FLAG.sidechain);
    const tokens = store.tokensOf(row);
    const hasSpeed = store.has(row, FLAG.hasSpeed);
    const candidateTokens = totalTokens(c.tokens);
    const candidateFirst = this.order(c.file, c.offset, store.int.file[row]!, store.float.offset[row]!) < 0;
    return candidateFirst ? !better(sidechain, tokens, hasSpeed, c.sidechain, candidateTokens, c.hasSpeed) : better(c.sidechain, candidateTokens, c.hasSpeed, sidechain, tokens, hasSpeed);
  }

  private write(c: Candidate, ledgers: LedgerName[]): number {
    const { store } = this;
    const row = store.allocate();
    const { float, int } = store;
    float.at[row] = c.at;
    float.messageId[row] = c.messageId;
    float.requestId[row] = c.requestId;
    float.cost[row] = c.cost;
    float.offset[row] = c.offset;
    int.model[row] = c.model;
    int.session[row] = c.session;
    int.file[row] = c.file;
    let flags = 0;
    if (c.sidechain) flags |= FLAG.sidechain;
    if (c.hasSpeed) flags |= FLAG.hasSpeed;
    if (c.fast) flags |= FLAG.fast;
    if (c.costGiven) flags |= FLAG.costGiven;
    for (const ledger of ledgers) flags |= LEDGER_FLAG[ledger];
    store.flags[row] = flags;
    store.setTokens(row, c.tokens);
    if (c.limitResetAt !== null) store.limitResetAt.set(row, c.limitResetAt);
    if (c.messageId !== NO_ID) this.byMessage.add(c.messageId, row);
    return row;
  }

  private leave(row: number, ledger: LedgerName): void {
    const { store } = this;
    if (!store.has(row, LEDGER_FLAG[ledger])) return;
    this.sink.removed(row, ledger);
    store.set(row, LEDGER_FLAG[ledger], false);
    if (store.isLive(row)) return;
    const message = store.float.messageId[row]!;
    if (message !== NO_ID) this.byMessage.remove(message, row);
    store.release(row);
  }
}

export function totalTokens(tokens: MessageTokens): number {
  return tokens.input + tokens.output + tokens.cacheWrite5m + tokens.cacheWrite1h + tokens.cacheRead;
}

/** ccusage's preference between two copies of a message: is copy a (side chain, tokens, speed recorded) better than b? */
function better(aSidechain: boolean, aTokens: number, aHasSpeed: boolean, bSidechain: boolean, bTokens: number, bHasSpeed: boolean): boolean {
  if (aSidechain !== bSidechain) return !aSidechain;
  if (aTokens !== bTokens) return aTokens > bTokens;
  return aHasSpeed && !bHasSpeed;
}
