import { readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../../../util/clock.js';
import { errorMessage } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import { projectDirs } from '../block-transcript.js';
import { DayBuckets, HourBuckets } from './aggregates.js';
import { BlockList, type Block, type BlockRule } from './blocks.js';
import { classify, describe, readAppended, type FoundFile, type TrackedFile } from './files.js';
import { hash53 } from './hash.js';
import { loadIndex, saveIndex, type IndexHeader } from './index-file.js';
import { Ledgers, type LedgerName } from './ledger.js';
import { parseUsageLine, SYNTHETIC_MODEL, USAGE_MARKER, type SkipReason, type UsageEntry } from './line.js';
import { messageCost, type PriceList } from './pricing.js';
import { FLAG, NO_ID, RecordStore } from './records.js';
import { FolderWatcher } from './watcher.js';

export interface TranscriptReaderOptions {
  /** Folder(s) containing `projects/`, comma-separated as in CLAUDE_CONFIG_DIR. */
  configDir: string;
  /** Where the index is kept between runs; null keeps it in memory only. */
  indexFile: string | null;
  clock: Clock;
  prices: PriceList;
  timeZone: string;
  /** The stat sweep that catches what notifications miss. */
  sweepIntervalMs: number;
  /** How long after a change the index is written (changes in between are written together). */
  flushDelayMs: number;
  /** File-system notifications; off, only the sweep notices changes. */
  watch: boolean;
  logger: Logger;
  /** Called after new lines were counted (once per batch). */
  onChange?: () => void;
}

const MARKER = Buffer.from(USAGE_MARKER);
/** Unknown model names listed in /health (their count is always complete). */
const MAX_LISTED_UNKNOWN = 20;

export interface ReaderCounters {
  /** Lines carrying `"usage":{` that were parsed. */
  usage_lines: number;
  /** Usage entries read (a line with advisor iterations has several). */
  entries_read: number;
  /** Entries ccusage also skips, by reason. */
  skipped_malformed: number;
  skipped_null_field: number;
  skipped_schema: number;
  skipped_timestamp: number;
  skipped_invalid: number;
  /** Claude Code's own `<synthetic>` messages (rate-limit notices): counted as entries, no tokens, no price. */
  synthetic_entries: number;
  bytes_read: number;
  full_reads: number;
}

function zeroCounters(): ReaderCounters {
  return {
    usage_lines: 0,
    entries_read: 0,
    skipped_malformed: 0,
    skipped_null_field: 0,
    skipped_schema: 0,
    skipped_timestamp: 0,
    skipped_invalid: 0,
    synthetic_entries: 0,
    bytes_read: 0,
    full_reads: 0,
  };
}

/**
 * The incremental transcript reader: knows every transcript under the configured Claude config
 * folders, reads only what was appended since it last looked (complete lines only), counts each
 * entry by ccusage 20.0.24's rules, and keeps its index (offsets, the de-duplicated entries) on
 * disk so that a restart resumes. File-system notifications make an append count within
 * milliseconds; a stat sweep on the injected clock is the safety net.
 */
export class TranscriptReader {
  readonly store = new RecordStore();
  readonly hours: HourBuckets;
  readonly days: DayBuckets;
  private readonly ledgers: Ledgers;
  private readonly blockLists: Record<BlockRule, BlockList>;
  private readonly files = new Map<string, TrackedFile>();
  private readonly fileById: (TrackedFile | undefined)[] = [];
  private readonly folders = new Map<string, number>();
  private readonly models: string[] = [''];
  private readonly modelIndex = new Map<string, number>();
  /** Per model index: priced by the table (true), unknown (false), not a model (null). */
  private readonly modelPriced: (boolean | null)[] = [null];
  private readonly sessions: string[] = [];
  private readonly sessionIndex = new Map<string, number>();
  private readonly unknownEntries = new Map<number, number>();
  private counters = zeroCounters();
  private readonly watcher: FolderWatcher;
  private readonly pendingFiles = new Set<string>();
  private readonly pendingFolders = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private drainScheduled = false;
  private started: Promise<void> | null = null;
  /** The first read is done: from now on, new lines are announced through onChange. */
  private initialized = false;
  private stopped = false;
  private sweepTimer: TimerHandle | null = null;
  private flushTimer: TimerHandle | null = null;
  private changed = false;
  private dirtySinceFlush = false;
  private rebuildNeeded = false;
  private nextFileId = 0;
  private lastError: string | null = null;
  private indexStatus: { loaded: boolean; problem: string | null; saved_at: number | null; bytes: number | null } = {
    loaded: false,
    problem: null,
    saved_at: null,
    bytes: null,
  };
  /** Per rule, the lowest hour unit changed since its blocks were last identified. */
  private blocksDirty: Record<BlockRule, number> = { ccusage: -Infinity, 'claude-monitor': -Infinity };
  private lastReadAt: number | null = null;

  constructor(private readonly options: TranscriptReaderOptions) {
    this.hours = new HourBuckets(this.store);
    this.days = new DayBuckets(this.store, options.timeZone);
    this.ledgers = new Ledgers(this.store, (a, oa, b, ob) => this.readingOrder(a, oa, b, ob), {
      added: (row, ledger) => this.counted(row, ledger, 1),
      removed: (row, ledger) => this.counted(row, ledger, -1),
    });
    this.blockLists = { ccusage: new BlockList(this.hours, 'ccusage'), 'claude-monitor': new BlockList(this.hours, 'claude-monitor') };
    this.watcher = new FolderWatcher({
      file: (file) => this.enqueueFile(file),
      folder: (folder) => this.enqueueFolder(folder),
    });
  }

  /** Loads the index, reads what is new, starts watching. Resolves once the figures are complete. */
  start(): Promise<void> {
    this.started ??= this.enqueue(() => this.initialize());
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher.close();
    if (this.sweepTimer) this.options.clock.clearTimeout(this.sweepTimer);
    if (this.flushTimer) this.options.clock.clearTimeout(this.flushTimer);
    this.sweepTimer = this.flushTimer = null;
    await this.work;
    if (this.dirtySinceFlush) await this.flush();
  }

  /** Runs the stat sweep now (the timer runs it every sweep interval). */
  sweep(): Promise<void> {
    return this.enqueue(() => this.sweepNow());
  }

  /** Waits until every queued read is done. */
  settled(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  /** The blocks of a rule, identified again only from the first hour that changed. */
  blocks(rule: BlockRule): Block[] {
    const dirty = this.hours.takeDirty();
    for (const name of ['ccusage', 'claude-monitor'] as const) this.blocksDirty[name] = Math.min(this.blocksDirty[name], dirty);
    const blocks = this.blockLists[rule].update(this.blocksDirty[rule]);
    this.blocksDirty[rule] = Infinity;
    return blocks;
  }

  modelName(index: number): string | null {
    return index === 0 ? null : (this.models[index] ?? null);
  }

  /** Whether a model index names a real model (not `<synthetic>` and not "none"). */
  isModel(index: number): boolean {
    return this.modelPriced[index] !== null && this.modelPriced[index] !== undefined;
  }

  sessionName(index: number): string {
    return this.sessions[index] ?? '';
  }

  fileOf(id: number): TrackedFile | undefined {
    return this.fileById[id];
  }

  status(): Record<string, unknown> {
    const unknown = [...this.unknownEntries.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    return {
      project_dirs: projectDirs(this.options.configDir),
      files: this.files.size,
      entries_counted: this.store.live,
      ...this.counters,
      unpriced_entries: unknown.reduce((sum, [, n]) => sum + n, 0),
      unpriced_models: Object.fromEntries(unknown.slice(0, MAX_LISTED_UNKNOWN).map(([model, n]) => [this.models[model], n])),
      watching: this.options.watch ? this.watcher.status() : 'off',
      sweep_interval_s: this.options.sweepIntervalMs / 1000,
      index: { file: this.options.indexFile, ...this.indexStatus, saved_at: this.indexStatus.saved_at === null ? null : new Date(this.indexStatus.saved_at).toISOString() },
      memory_bytes: this.store.bytes() + this.ledgers.bytes(),
      last_read_at: this.lastReadAt === null ? null : new Date(this.lastReadAt).toISOString(),
      last_error: this.lastError,
    };
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.work.then(job).catch((error: unknown) => {
      this.lastError = errorMessage(error);
      this.options.logger.warn('transcript reader failed', { error: this.lastError });
    });
    this.work = run;
    return run;
  }

  private async initialize(): Promise<void> {
    await this.loadIndex();
    await this.sweepNow();
    this.initialized = true;
    this.scheduleSweep();
  }

  private async loadIndex(): Promise<void> {
    const file = this.options.indexFile;
    if (!file) return;
    const loaded = await loadIndex(file);
    if (loaded === null) return;
    if ('problem' in loaded) {
      this.indexStatus.problem = `${loaded.problem}: read every transcript again`;
      this.options.logger.warn('transcript index unusable, reading every transcript again', { file, problem: loaded.problem });
      return;
    }
    const { header, columns } = loaded;
    if (header.projectDirs.join('\n') !== projectDirs(this.options.configDir).join('\n')) {
      this.indexStatus.problem = 'built for other transcript folders: read every transcript again';
      return;
    }
    for (const tracked of header.files) {
      this.files.set(tracked.path, tracked);
      this.fileById[tracked.id] = tracked;
      this.nextFileId = Math.max(this.nextFileId, tracked.id + 1);
    }
    header.models.forEach((model, index) => {
      if (index === 0) return;
      this.models[index] = model;
      this.modelIndex.set(model, index);
      this.modelPriced[index] = this.pricedState(model);
    });
    header.sessions.forEach((session, index) => {
      this.sessions[index] = session;
      this.sessionIndex.set(session, index);
    });
    this.counters = { ...zeroCounters(), ...(header.counters as Partial<ReaderCounters>) };
    this.store.load(columns);
    for (const [row, value] of header.limitResets) this.store.limitResetAt.set(row, value);
    this.repriceLoaded();
    this.ledgers.reindex();
    this.indexStatus.loaded = true;
    this.indexStatus.saved_at = header.savedAt;
  }

  /** Prices may have changed since the index was written (a new version, `usage.pricing`). */
  private repriceLoaded(): void {
    const { float } = this.store;
    for (let row = 0; row < this.store.rows; row++) {
      if (!this.store.isLive(row) || this.store.has(row, FLAG.costGiven)) continue;
      const model = this.baseModel(row);
      const price = model === null ? null : this.options.prices.resolve(model);
      float.cost[row] = price
        ? messageCost(
            price.rates,
            { input: float.input[row]!, output: float.output[row]!, cacheWrite5m: float.cacheWrite5m[row]!, cacheWrite1h: float.cacheWrite1h[row]!, cacheRead: float.cacheRead[row]! },
            this.store.has(row, FLAG.fast),
          )
        : 0;
    }
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = this.options.clock.setTimeout(() => {
      this.sweepTimer = null;
      void this.sweep().finally(() => this.scheduleSweep());
    }, this.options.sweepIntervalMs);
  }

  private enqueueFile(file: string): void {
    this.pendingFiles.add(file);
    this.scheduleDrain();
  }

  private enqueueFolder(folder: string): void {
    this.pendingFolders.add(folder);
    this.scheduleDrain();
  }

  /** Notifications arrive in bursts (one per written line): the reads they ask for are done once. */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.enqueue(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (!this.started) return;
    const folders = [...this.pendingFolders];
    this.pendingFolders.clear();
    for (const folder of folders) {
      for (const found of this.scanFolder(folder)) await this.readFile(this.track(found));
      // a removal or rename shows up as a folder event too
      for (const tracked of [...this.files.values()]) if (path.dirname(tracked.path) === folder) await this.refresh(tracked, statOrNull(tracked.path));
    }
    if (folders.length > 0 && this.options.watch) this.watcher.sync([...this.folders.keys()]);
    const files = [...this.pendingFiles];
    this.pendingFiles.clear();
    for (const file of files) {
      const tracked = this.files.get(file) ?? this.trackNew(file);
      if (tracked) await this.refresh(tracked, statOrNull(file));
    }
    await this.afterBatch();
  }

  private trackNew(file: string): TrackedFile | null {
    const roots = projectDirs(this.options.configDir);
    const rootIndex = roots.findIndex((root) => file.startsWith(root + path.sep));
    if (rootIndex < 0) return null;
    return this.track(describe(roots[rootIndex]!, rootIndex, file));
  }

  private async sweepNow(): Promise<void> {
    const roots = projectDirs(this.options.configDir);
    const found: FoundFile[] = [];
    for (const [rootIndex, root] of roots.entries()) {
      if (!this.folders.has(root)) found.push(...this.scanFolder(root, rootIndex, root));
    }
    for (const [folder] of [...this.folders]) {
      const stats = statOrNull(folder);
      if (!stats?.isDirectory()) {
        this.folders.delete(folder);
        continue;
      }
      if (stats.mtimeMs !== this.folders.get(folder)) found.push(...this.scanFolder(folder));
    }
    for (const item of found) this.track(item);
    for (const tracked of [...this.files.values()]) await this.refresh(tracked, statOrNull(tracked.path));
    if (this.options.watch) this.watcher.sync([...this.folders.keys()]);
    await this.afterBatch();
  }

  /** Lists a folder (and new subfolders): the transcripts in it, remembering its mtime. */
  private scanFolder(folder: string, rootIndex?: number, root?: string): FoundFile[] {
    const roots = projectDirs(this.options.configDir);
    const index = rootIndex ?? roots.findIndex((r) => folder === r || folder.startsWith(r + path.sep));
    const base = root ?? roots[index];
    if (index < 0 || base === undefined) return [];
    const stats = statOrNull(folder);
    if (!stats?.isDirectory()) {
      this.folders.delete(folder);
      return [];
    }
    this.folders.set(folder, stats.mtimeMs);
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: FoundFile[] = [];
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!this.folders.has(full)) out.push(...this.scanFolder(full, index, base));
      } else if (entry.isFile() && entry.name.endsWith('.jsonl') && !this.files.has(full)) {
        out.push(describe(base, index, full));
      }
    }
    return out;
  }

  private track(found: FoundFile): TrackedFile {
    const known = this.files.get(found.path);
    if (known) return known;
    const tracked: TrackedFile = { id: this.nextFileId++, ...found, dev: 0, ino: 0, offset: 0, mtimeMs: 0, head: 0, headLength: 0 };
    this.files.set(found.path, tracked);
    this.fileById[tracked.id] = tracked;
    return tracked;
  }

  /** Reads what changed in one file: appended lines, or everything again if it was replaced. */
  private async refresh(tracked: TrackedFile, stats: Stats | null): Promise<void> {
    if (tracked.offset === 0 && tracked.ino === 0) {
      if (stats?.isFile()) await this.readFile(tracked);
      else this.forget(tracked);
      return;
    }
    const change = await classify(tracked, stats);
    if (change === 'unchanged') return;
    if (change === 'gone') {
      this.forget(tracked);
      return;
    }
    if (change === 'replaced') {
      if (!this.ledgers.removeFile(tracked.id)) this.rebuildNeeded = true;
      Object.assign(tracked, { offset: 0, head: 0, headLength: 0 });
      this.changed = true;
    }
    await this.readFile(tracked);
  }

  private forget(tracked: TrackedFile): void {
    if (!this.ledgers.removeFile(tracked.id)) this.rebuildNeeded = true;
    this.files.delete(tracked.path);
    this.fileById[tracked.id] = undefined;
    this.changed = true;
  }

  private async readFile(tracked: TrackedFile): Promise<void> {
    let markerAt = -1;
    let markerBuffer: Buffer | null = null;
    const outcome = await readAppended(
      tracked,
      (buffer, start, end, offset) => {
        if (markerBuffer !== buffer || markerAt < start) {
          markerBuffer = buffer;
          markerAt = buffer.indexOf(MARKER, start);
          if (markerAt < 0) markerAt = Infinity;
        }
        if (markerAt >= end) return;
        this.countLine(tracked, buffer.toString('utf8', start, end), offset);
      },
      (buffer, start, end) => {
        const text = buffer.toString('utf8', start, end);
        if (!text.includes(USAGE_MARKER)) return false;
        try {
          JSON.parse(text);
          return true;
        } catch {
          return false;
        }
      },
    );
    if (!outcome) return;
    if (outcome.bytes > 0) {
      this.counters.bytes_read += outcome.bytes;
      this.changed = true;
      this.lastReadAt = this.options.clock.now();
    }
  }

  private countLine(file: TrackedFile, text: string, offset: number): void {
    this.counters.usage_lines += 1;
    const outcome = parseUsageLine(text);
    if ('skip' in outcome) {
      this.counters[`skipped_${outcome.skip}` satisfies `skipped_${SkipReason}`] += 1;
      return;
    }
    for (const entry of outcome.entries) this.countEntry(file, entry, offset);
  }

  private countEntry(file: TrackedFile, entry: UsageEntry, offset: number): void {
    this.counters.entries_read += 1;
    const fast = entry.speed === 'fast';
    const synthetic = entry.model === SYNTHETIC_MODEL;
    if (synthetic) this.counters.synthetic_entries += 1;
    const shown = entry.model === null ? null : fast && !synthetic ? `${entry.model}-fast` : entry.model;
    const price = entry.model === null || synthetic ? null : this.options.prices.resolve(entry.model);
    const cost = entry.costUsd ?? (price ? messageCost(price.rates, entry.tokens, fast) : 0);
    const ledgers: LedgerName[] = entry.reports === 'both' ? ['blocks', 'daily'] : ['daily'];
    this.ledgers.add({
      at: entry.at,
      messageId: entry.messageId === null ? NO_ID : hash53(entry.messageId),
      requestId: entry.requestId === null ? NO_ID : hash53(entry.requestId, 1),
      session: this.sessionOf(entry.sessionId ?? file.session),
      file: file.id,
      offset,
      model: this.modelOf(shown),
      tokens: entry.tokens,
      cost,
      costGiven: entry.costUsd !== null,
      sidechain: entry.sidechain,
      hasSpeed: entry.speed !== null,
      fast,
      limitResetAt: entry.limitResetAt,
      ledgers,
    });
  }

  /** Keeps the buckets and the unknown-model count in step with the ledgers. */
  private counted(row: number, ledger: LedgerName, delta: 1 | -1): void {
    if (ledger === 'blocks') {
      if (delta > 0) this.hours.add(row);
      else this.hours.remove(row);
      const model = this.store.int.model[row]!;
      if (this.modelPriced[model] === false && !this.store.has(row, FLAG.costGiven) && this.store.tokensOf(row) > 0) {
        this.unknownEntries.set(model, (this.unknownEntries.get(model) ?? 0) + delta);
      }
    } else if (delta > 0) {
      this.days.add(row);
    } else {
      this.days.remove(row);
    }
  }

  private async afterBatch(): Promise<void> {
    if (this.rebuildNeeded) await this.rebuild();
    if (!this.changed) return;
    this.changed = false;
    this.dirtySinceFlush = true;
    this.scheduleFlush();
    if (this.initialized) this.options.onChange?.();
  }

  /** A file that had beaten a duplicate elsewhere is gone: only a full read counts that duplicate again. */
  private async rebuild(): Promise<void> {
    this.rebuildNeeded = false;
    this.store.clear();
    this.ledgers.clear();
    this.hours.clear();
    this.days.clear();
    this.blockLists.ccusage.reset();
    this.blockLists['claude-monitor'].reset();
    this.blocksDirty = { ccusage: -Infinity, 'claude-monitor': -Infinity };
    this.unknownEntries.clear();
    const fullReads = this.counters.full_reads + 1;
    this.counters = { ...zeroCounters(), full_reads: fullReads };
    const files = [...this.files.values()].sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1));
    for (const tracked of files) {
      Object.assign(tracked, { offset: 0, head: 0, headLength: 0 });
      await this.readFile(tracked);
    }
    this.changed = true;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || !this.options.indexFile || this.stopped) return;
    this.flushTimer = this.options.clock.setTimeout(() => {
      this.flushTimer = null;
      void this.enqueue(() => this.flush());
    }, this.options.flushDelayMs);
  }

  /** Writes the index now (the timer does it `flushDelayMs` after a change). */
  async flush(): Promise<void> {
    const file = this.options.indexFile;
    if (!file) return;
    this.dirtySinceFlush = false;
    const header: IndexHeader = {
      format: 1,
      projectDirs: projectDirs(this.options.configDir),
      savedAt: this.options.clock.now(),
      files: [...this.files.values()],
      models: this.models,
      sessions: this.sessions,
      counters: { ...this.counters },
      unknownModels: [],
      limitResets: [...this.store.limitResetAt.entries()],
      rows: this.store.rows,
    };
    try {
      this.indexStatus.bytes = await saveIndex(file, header, this.store.columns());
      this.indexStatus.saved_at = header.savedAt;
    } catch (error) {
      this.indexStatus.problem = `cannot be written: ${errorMessage(error)}`;
      this.dirtySinceFlush = true;
    }
  }

  private modelOf(name: string | null): number {
    if (name === null) return 0;
    let index = this.modelIndex.get(name);
    if (index === undefined) {
      index = this.models.length;
      this.models.push(name);
      this.modelIndex.set(name, index);
      this.modelPriced[index] = this.pricedState(name);
    }
    return index;
  }

  private pricedState(name: string): boolean | null {
    if (name === SYNTHETIC_MODEL) return null;
    return this.options.prices.resolve(name.replace(/-fast$/, '')) !== null || this.options.prices.resolve(name) !== null;
  }

  /** The model a record is priced as: its name without the `-fast` shown for fast messages. */
  private baseModel(row: number): string | null {
    const name = this.modelName(this.store.int.model[row]!);
    if (name === null || name === SYNTHETIC_MODEL) return null;
    return this.store.has(row, FLAG.fast) ? name.replace(/-fast$/, '') : name;
  }

  private sessionOf(name: string): number {
    let index = this.sessionIndex.get(name);
    if (index === undefined) {
      index = this.sessions.length;
      this.sessions.push(name);
      this.sessionIndex.set(name, index);
    }
    return index;
  }

  private readingOrder(fileA: number, offsetA: number, fileB: number, offsetB: number): number {
    if (fileA === fileB) return offsetA - offsetB;
    const a = this.fileById[fileA]?.sortKey ?? '';
    const b = this.fileById[fileB]?.sortKey ?? '';
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}
