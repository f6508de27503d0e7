import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../../../util/clock.js';
import { errorMessage } from '../../../util/errors.js';
import { collectGarbageNow } from '../../../util/full-gc.js';
import type { Logger } from '../../../util/logger.js';
import { projectDirs } from '../block-transcript.js';
import { DayBuckets, HourBuckets } from './aggregates.js';
import { BlockList, type Block, type BlockRule } from './blocks.js';
import { classify, describe, ReadBuffer, type FoundFile, type TrackedFile } from './files.js';
import { INDEX_FORMAT, loadIndex, saveIndex, type IndexHeader } from './index-file.js';
import { Ledgers, type LedgerName, type Candidate } from './ledger.js';
import { EntryBatch, ENTRY_FLAG, NONE, type EncodedBatch } from './batch.js';
import { SYNTHETIC_MODEL } from './line.js';
import { messageCost, type MessageTokens, type PriceList } from './pricing.js';
import { FLAG, RecordStore, roomFor } from './records.js';
import type { BuildOutcome, BuildRequest } from './index-builder.js';
import type { ReaderMessage, ReadRequest, ReadResult } from './read-worker.js';
import { nativeScanner, nativeScanStatus } from './native-scan.js';
import { scanAppended, type ScanCounters } from './scan.js';
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
  /** Threads that read a large batch of reads; 0: all in the reader's thread (and no index-builder process). Default: 1 with the native scanner, else 2 (none on one core). */
  workers?: number;
  /** The compiled worker module; next to this one by default (absent when running from TypeScript sources). */
  workerScript?: string;
  /** Batches of reads at least this large go to the worker threads (default 32 MiB). */
  workerMinBytes?: number;
  /**
   * The compiled index-builder module, which makes a large first read in a process of its own
   * (next to this one by default); false: the bridge's process makes it.
   */
  indexBuilder?: string | false;
  /** A first read at least this large goes to the index-builder process (default 256 MiB). */
  indexBuilderMinBytes?: number;
  /**
   * Notifications are gathered this long before the files they name are read (Claude Code writes
   * a message as several lines): one read and one poll per burst. Default 200 ms, on the clock.
   */
  settleMs?: number;
  /**
   * While a session writes without pause, reads start at most this often (each one costs a read
   * and a usage poll). Default 500 ms, on the clock.
   */
  minDrainIntervalMs?: number;
}

const BOTH_REPORTS: readonly LedgerName[] = ['blocks', 'daily'];
const DAILY_ONLY: readonly LedgerName[] = ['daily'];
const DEFAULT_SETTLE_MS = 200;
const DEFAULT_MIN_DRAIN_INTERVAL_MS = 500;
/**
 * While notifications work, a file that has not changed for this many sweeps is stat'ed on every
 * QUIET_SWEEP_EVERY-th sweep only (thousands of old transcripts cost a stat each).
 */
const QUIET_AFTER_SWEEPS = 3;
const QUIET_SWEEP_EVERY = 10;
/**
 * A first read this large is made by an index-builder process: the hand-over through the index
 * costs about half a second, worth it where the read would leave the bridge tens of MiB larger.
 */
const INDEX_BUILDER_MIN_BYTES = 256 * 1024 * 1024;
/** A batch of reads this large is parsed in worker threads (a first read, a full read again). */
const WORKER_MIN_BYTES = 32 * 1024 * 1024;
/** Unknown model names listed in /health (their count is always complete). */
const MAX_LISTED_UNKNOWN = 20;

export interface ReaderCounters extends ScanCounters {
  /** Claude Code's own `<synthetic>` messages (rate-limit notices): counted as entries, no tokens, no price. */
  synthetic_entries: number;
  bytes_read: number;
  full_reads: number;
  /** Files parsed in worker threads (large batches of reads). */
  files_read_by_workers: number;
  /** 1 when the first read was made by an index-builder process and its index loaded. */
  first_reads_by_builder: number;
}

function zeroCounters(): ReaderCounters {
  return {
    usage_lines: 0,
    usage_lines_native: 0,
    entries_read: 0,
    skipped_malformed: 0,
    skipped_null_field: 0,
    skipped_schema: 0,
    skipped_timestamp: 0,
    skipped_invalid: 0,
    synthetic_entries: 0,
    bytes_read: 0,
    full_reads: 0,
    files_read_by_workers: 0,
    first_reads_by_builder: 0,
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
  /** Sweeps in a row that found a file (or folder) unchanged. */
  private readonly quiet = new Map<string, number>();
  private sweeps = 0;
  private projectDirs: string[] = [];
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
  /** The bridge's own reads go through one batch, emptied for each file. */
  private readonly batch = new EntryBatch();
  /** Worker threads started ahead of a full read (startThreads), not yet given files. */
  private readonly idleThreads: Worker[] = [];
  private readonly pendingFolders = new Set<string>();
  private work: Promise<void> = Promise.resolve();
  private drainScheduled = false;
  /** When the last burst's read began (on the clock). */
  private lastDrainAt = -Infinity;
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
    this.hours = new HourBuckets(this.store, FLAG.inBlocks);
    this.days = new DayBuckets(this.store, options.timeZone, FLAG.inDaily);
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
      project_dirs: this.projectDirs,
      files: this.files.size,
      parser: nativeScanStatus(),
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
    if (!this.indexStatus.loaded) await this.firstReadElsewhere();
    // a full read is coming here: the threads start (load their modules) while this one walks the
    // folders. Not before an index-builder process: a thread that ran leaves the bridge its memory.
    if (!this.indexStatus.loaded) this.startThreads();
    try {
      await this.sweepNow();
    } finally {
      this.endIdleThreads();
    }
    this.initialized = true;
    // the index file, the worker threads' messages and the store's old columns are garbage now
    collectGarbageNow();
    this.scheduleSweep();
  }

  private async loadIndex(file = this.options.indexFile): Promise<void> {
    if (!file) return;
    const loaded = await loadIndex(file, roomFor);
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
    for (const [row, tokens] of header.wideTokens) this.store.wideTokens.set(row, tokens);
    this.repriceLoaded();
    this.ledgers.reindex();
    this.indexStatus.loaded = true;
    this.indexStatus.saved_at = header.savedAt;
  }

  /**
   * A large first read is made by an index-builder process, and its index loaded here as on a
   * restart (see index-builder.ts for why); with the index off, through a temporary file. Any
   * failure leaves the read to this process.
   */
  private async firstReadElsewhere(): Promise<void> {
    const script = this.indexBuilderScript();
    const minBytes = this.options.indexBuilderMinBytes ?? INDEX_BUILDER_MIN_BYTES;
    if (!script || this.options.workers === 0 || !transcriptBytesAtLeast(projectDirs(this.options.configDir), minBytes)) return;
    const scratch = this.options.indexFile ? null : mkdtempSync(path.join(tmpdir(), 'claude-bridge-index-'));
    const file = this.options.indexFile ?? path.join(scratch!, 'usage-transcripts.index');
    try {
      const outcome = await runIndexBuilder(script, {
        configDir: this.options.configDir,
        indexFile: file,
        ...(this.options.workers !== undefined ? { workers: this.options.workers } : {}),
        ...(this.options.workerScript !== undefined ? { workerScript: this.options.workerScript } : {}),
        ...(this.options.workerMinBytes !== undefined ? { workerMinBytes: this.options.workerMinBytes } : {}),
      });
      if (!outcome.built) {
        this.options.logger.warn('the index-builder process failed; reading the transcripts in the bridge', { error: outcome.error });
        return;
      }
      const problem = this.indexStatus.problem;
      await this.loadIndex(file);
      if (this.indexStatus.loaded) {
        this.indexStatus.problem = problem;
        this.counters.first_reads_by_builder = 1;
      }
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  }

  private indexBuilderScript(): string | null {
    if (this.options.indexBuilder === false) return null;
    if (this.options.indexBuilder) return this.options.indexBuilder;
    const file = fileURLToPath(new URL('./index-builder.js', import.meta.url));
    return existsSync(file) ? file : null;
  }

  /** Prices may have changed since the index was written (a new version, `usage.pricing`). */
  private repriceLoaded(): void {
    const { float } = this.store;
    const tokens: MessageTokens = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };
    for (let row = 0; row < this.store.rows; row++) {
      if (!this.store.isLive(row) || this.store.has(row, FLAG.costGiven)) continue;
      const model = this.baseModel(row);
      const price = model === null ? null : this.options.prices.resolve(model);
      float.cost[row] = price ? messageCost(price.rates, this.store.tokens(row, tokens), this.store.has(row, FLAG.fast)) : 0;
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

  /**
   * Notifications arrive in bursts (one per written line): the reads they ask for are done once,
   * and while a session writes without pause, bursts are read at most every minDrainIntervalMs.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.stopped) return;
    this.drainScheduled = true;
    const { clock } = this.options;
    const run = () => {
      this.drainScheduled = false;
      this.lastDrainAt = clock.now();
      void this.enqueue(() => this.drain());
    };
    const spacing = this.lastDrainAt + (this.options.minDrainIntervalMs ?? DEFAULT_MIN_DRAIN_INTERVAL_MS) - clock.now();
    const delay = Math.max(this.options.settleMs ?? DEFAULT_SETTLE_MS, spacing);
    if (delay > 0) clock.setTimeout(run, delay);
    else setImmediate(run);
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
    const roots = this.projectDirs;
    const rootIndex = roots.findIndex((root) => file.startsWith(root + path.sep));
    if (rootIndex < 0) return null;
    return this.track(describe(roots[rootIndex]!, rootIndex, file));
  }

  private async sweepNow(): Promise<void> {
    this.sweeps += 1;
    this.projectDirs = projectDirs(this.options.configDir);
    // with notifications working, long-unchanged files and folders are looked at less often
    const everything = !this.options.watch || this.watcher.status().failures > 0 || this.sweeps % QUIET_SWEEP_EVERY === 1;
    const due = (key: string) => everything || (this.quiet.get(key) ?? 0) < QUIET_AFTER_SWEEPS;
    const found: FoundFile[] = [];
    for (const [rootIndex, root] of this.projectDirs.entries()) {
      if (!this.folders.has(root)) found.push(...this.scanFolder(root, rootIndex, root));
    }
    for (const [folder] of [...this.folders]) {
      if (!due(folder)) continue;
      const stats = statOrNull(folder);
      if (!stats?.isDirectory()) {
        this.folders.delete(folder);
        this.quiet.delete(folder);
        continue;
      }
      const changed = stats.mtimeMs !== this.folders.get(folder);
      this.quiet.set(folder, changed ? 0 : (this.quiet.get(folder) ?? 0) + 1);
      if (changed) found.push(...this.scanFolder(folder));
    }
    for (const item of found) this.track(item);
    const toRead: TrackedFile[] = [];
    const sizes = new Map<TrackedFile, number>();
    for (const tracked of [...this.files.values()]) {
      if (!due(tracked.path)) continue;
      const stats = statOrNull(tracked.path);
      const ready = await this.prepare(tracked, stats);
      this.quiet.set(tracked.path, ready ? 0 : (this.quiet.get(tracked.path) ?? 0) + 1);
      if (!ready) continue;
      toRead.push(tracked);
      sizes.set(tracked, Math.max(0, (stats?.size ?? 0) - tracked.offset));
    }
    await this.readMany(toRead, sizes);
    if (this.options.watch) this.watcher.sync([...this.folders.keys()]);
    await this.afterBatch();
  }

  /** Lists a folder (and new subfolders): the transcripts in it, remembering its mtime. */
  private scanFolder(folder: string, rootIndex?: number, root?: string): FoundFile[] {
    const roots = this.projectDirs;
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
    if (await this.prepare(tracked, stats)) await this.readFile(tracked);
  }

  /**
   * Handles a gone or replaced file; true when the file has bytes to read (from its offset, which
   * a replaced file has back at 0).
   */
  private async prepare(tracked: TrackedFile, stats: Stats | null): Promise<boolean> {
    if (tracked.offset === 0 && tracked.ino === 0) {
      if (stats?.isFile()) return true;
      this.forget(tracked);
      return false;
    }
    const change = classify(tracked, stats);
    if (change === 'unchanged') return false;
    if (change === 'gone') {
      this.forget(tracked);
      return false;
    }
    if (change === 'replaced') {
      if (!this.ledgers.removeFile(tracked.id)) this.rebuildNeeded = true;
      Object.assign(tracked, { offset: 0, head: 0, headLength: 0 });
      this.changed = true;
    }
    return true;
  }

  private forget(tracked: TrackedFile): void {
    if (!this.ledgers.removeFile(tracked.id)) this.rebuildNeeded = true;
    this.files.delete(tracked.path);
    this.quiet.delete(tracked.path);
    this.fileById[tracked.id] = undefined;
    this.changed = true;
  }

  private async readFile(tracked: TrackedFile, readBuffer?: ReadBuffer): Promise<void> {
    const batch = this.batch;
    batch.reset();
    const outcome = await scanAppended(tracked, this.counters, batch, { readBuffer });
    this.countBatch(tracked, batch.view(), 0, batch.length);
    if (outcome) this.noteRead(outcome.bytes);
  }

  private noteRead(bytes: number): void {
    if (bytes <= 0) return;
    this.counters.bytes_read += bytes;
    this.changed = true;
    this.lastReadAt = this.options.clock.now();
  }

  /**
   * Reads several files: in this thread when there is little to read, else in worker threads
   * that read and parse while this thread counts the entries they send back, in any order (the
   * de-duplication compares reading order itself). With the native scanner one thread reads and
   * scans beside this one's counting (the two take about as long); without it, parsing with
   * JSON.parse is the larger part and gets a thread per core (two at most). What a worker thread
   * fails to read is read here.
   */
  private async readMany(files: TrackedFile[], sizes: Map<TrackedFile, number>): Promise<void> {
    const script = this.workerScript();
    const threads = Math.min(this.threadCount(), files.length);
    const large = [...sizes.values()].reduce((sum, n) => sum + n, 0) >= (this.options.workerMinBytes ?? WORKER_MIN_BYTES);
    this.store.bulk = large;
    try {
      if (script && threads >= 1 && large) {
        await this.readInThreads(script, threads, files, sizes);
      } else {
        const readBuffer = large ? new ReadBuffer() : undefined;
        for (const file of files) await this.readFile(file, readBuffer);
      }
    } finally {
      this.store.bulk = false;
      if (large) this.store.trim();
    }
  }

  private async readInThreads(script: string, threads: number, files: TrackedFile[], sizes: Map<TrackedFile, number>): Promise<void> {
    // each thread gets its share up front (largest files first, to the least loaded one)
    const shares = Array.from({ length: threads }, () => ({ files: [] as TrackedFile[], bytes: 0 }));
    for (const file of [...files].sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0))) {
      const share = shares.reduce((least, s) => (s.bytes < least.bytes ? s : least));
      share.files.push(file);
      share.bytes += sizes.get(file) ?? 0;
    }
    const unread = new Set(files);
    await Promise.all(shares.map((share) => this.readInThread(this.idleThreads.pop() ?? new Worker(script), share.files, unread)));
    if (unread.size > 0) this.options.logger.warn('a transcript reader thread failed; reading its files in this thread', { files: unread.size });
    for (const file of [...unread]) {
      unread.delete(file);
      await this.readFile(file);
    }
  }

  /** Resolves when the thread has sent every file's entries, or has died (its unread files stay in `unread`). */
  private readInThread(worker: Worker, files: TrackedFile[], unread: Set<TrackedFile>): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        worker.removeAllListeners('message');
        void worker.terminate();
        resolve();
      };
      worker.on('message', (message: ReaderMessage) => {
        if (message === 'done') finish();
        else this.applyThreadRead(message, unread);
      });
      worker.once('error', finish);
      worker.once('exit', finish);
      worker.postMessage({ files } satisfies ReadRequest);
    });
  }

  private applyThreadRead(result: ReadResult, unread: Set<TrackedFile>): void {
    for (const [name, value] of Object.entries(result.counters) as [keyof ScanCounters, number][]) this.counters[name] += value;
    const tables = this.tablesOf(result.batch);
    let from = 0;
    for (const read of result.reads) {
      const to = from + read.entries;
      const tracked = this.fileById[read.file.id];
      if (tracked && tracked.path === read.file.path && unread.delete(tracked)) {
        Object.assign(tracked, read.file);
        this.countBatch(tracked, result.batch, from, to, tables);
        this.counters.files_read_by_workers += 1;
        if (read.bytes !== null) this.noteRead(read.bytes);
      }
      from = to;
    }
  }

  /** Worker threads for a large read: one with the native scanner, else two (none on one core). */
  private threadCount(): number {
    return this.options.workers ?? (availableParallelism() < 2 ? 0 : nativeScanner() ? 1 : 2);
  }

  /** Starts the threads of a full read ahead of it; readMany takes them, and initialize ends those it did not. */
  private startThreads(): void {
    const script = this.workerScript();
    if (!script) return;
    for (let i = 0; i < this.threadCount(); i++) {
      const worker = new Worker(script);
      // one that fails before it is given files is left out (readInThread would wait for it)
      const drop = () => {
        const at = this.idleThreads.indexOf(worker);
        if (at >= 0) this.idleThreads.splice(at, 1);
      };
      worker.once('error', drop);
      worker.once('exit', drop);
      this.idleThreads.push(worker);
    }
  }

  private endIdleThreads(): void {
    for (const worker of this.idleThreads.splice(0)) void worker.terminate();
  }

  private workerScript(): string | null {
    if (this.options.workerScript) return this.options.workerScript;
    const file = fileURLToPath(new URL('./read-worker.js', import.meta.url));
    return existsSync(file) ? file : null;
  }

  /** A batch's session and model tables, looked up once for all its files: session indexes; per model its price and (once used) its store indexes, plain and `-fast`. */
  private tablesOf(batch: EncodedBatch): BatchTables {
    return {
      sessions: batch.sessions.map((name) => this.sessionOf(name)),
      models: batch.models.map((name) => ({ name, synthetic: name === SYNTHETIC_MODEL, price: name === SYNTHETIC_MODEL ? null : this.options.prices.resolve(name), index: -1, fastIndex: -1 })),
    };
  }

  /** Counts one file's entries, `from` to `to` in the batch (by ccusage's de-duplication, in ccusage's reading order). */
  private countBatch(file: TrackedFile, batch: EncodedBatch, from: number, to: number, { sessions, models } = this.tablesOf(batch)): void {
    const f = batch.floats;
    let fileSession = -1;
    // one candidate for the whole batch: Ledgers.add reads it and keeps nothing of it
    const tokens = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };
    const candidate: Candidate = {
      at: 0,
      messageId: 0,
      requestId: 0,
      session: 0,
      file: file.id,
      offset: 0,
      model: 0,
      tokens,
      cost: 0,
      costGiven: false,
      sidechain: false,
      hasSpeed: false,
      fast: false,
      limitResetAt: null,
      ledgers: BOTH_REPORTS,
    };
    for (let i = from; i < to; i++) {
      const flags = batch.flags[i]!;
      const fast = (flags & ENTRY_FLAG.fast) !== 0;
      const model = batch.model[i] === NONE ? null : models[batch.model[i]!]!;
      if (model?.synthetic) this.counters.synthetic_entries += 1;
      let modelIndex = 0;
      if (model !== null && fast && !model.synthetic) modelIndex = model.fastIndex >= 0 ? model.fastIndex : (model.fastIndex = this.modelOf(`${model.name}-fast`));
      else if (model !== null) modelIndex = model.index >= 0 ? model.index : (model.index = this.modelOf(model.name));
      tokens.input = f.input[i]!;
      tokens.output = f.output[i]!;
      tokens.cacheWrite5m = f.cacheWrite5m[i]!;
      tokens.cacheWrite1h = f.cacheWrite1h[i]!;
      tokens.cacheRead = f.cacheRead[i]!;
      const given = f.costUsd[i]!;
      const session = batch.session[i] !== NONE ? sessions[batch.session[i]!]! : fileSession >= 0 ? fileSession : (fileSession = this.sessionOf(file.session));
      const reset = f.limitResetAt[i]!;
      const price = model?.price ?? null;
      candidate.at = f.at[i]!;
      candidate.messageId = f.messageId[i]!;
      candidate.requestId = f.requestId[i]!;
      candidate.session = session;
      candidate.offset = f.offset[i]!;
      candidate.model = modelIndex;
      candidate.cost = Number.isNaN(given) ? (price ? messageCost(price.rates, tokens, fast) : 0) : given;
      candidate.costGiven = !Number.isNaN(given);
      candidate.sidechain = (flags & ENTRY_FLAG.sidechain) !== 0;
      candidate.hasSpeed = (flags & ENTRY_FLAG.hasSpeed) !== 0;
      candidate.fast = fast;
      candidate.limitResetAt = Number.isNaN(reset) ? null : reset;
      candidate.ledgers = (flags & ENTRY_FLAG.dailyOnly) !== 0 ? DAILY_ONLY : BOTH_REPORTS;
      this.ledgers.add(candidate);
    }
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
    const sizes = new Map<TrackedFile, number>();
    for (const tracked of this.files.values()) {
      Object.assign(tracked, { offset: 0, head: 0, headLength: 0 });
      sizes.set(tracked, statOrNull(tracked.path)?.size ?? 0);
    }
    await this.readMany([...this.files.values()], sizes);
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
      format: INDEX_FORMAT,
      projectDirs: projectDirs(this.options.configDir),
      savedAt: this.options.clock.now(),
      files: [...this.files.values()],
      models: this.models,
      sessions: this.sessions,
      counters: { ...this.counters },
      unknownModels: [],
      limitResets: [...this.store.limitResetAt.entries()],
      wideTokens: [...this.store.wideTokens.entries()],
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
    const a = this.fileById[fileA];
    const b = this.fileById[fileB];
    if (!a || !b) return a ? 1 : b ? -1 : 0;
    if (a.root !== b.root) return a.root - b.root;
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  }
}

interface BatchTables {
  sessions: number[];
  models: { name: string; synthetic: boolean; price: ReturnType<PriceList['resolve']>; index: number; fastIndex: number }[];
}

/** Whether the transcripts under these folders add up to at least `bytes` (stops counting there). */
function transcriptBytesAtLeast(folders: string[], bytes: number): boolean {
  let total = 0;
  const walk = (folder: string): boolean => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() ? walk(full) : entry.name.endsWith('.jsonl') && (total += statOrNull(full)?.size ?? 0) >= bytes) return true;
    }
    return false;
  };
  return folders.some(walk);
}

/** Runs an index-builder process to its end; never throws. */
function runIndexBuilder(script: string, request: BuildRequest): Promise<BuildOutcome> {
  return new Promise((resolve) => {
    let outcome: BuildOutcome | null = null;
    const child = fork(script, [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (message: BuildOutcome) => (outcome = message));
    child.once('error', (error) => resolve({ built: false, error: errorMessage(error) }));
    // 'close' comes after the process exited and its IPC channel was read to the end
    child.once('close', (code, signal) => resolve(outcome ?? { built: false, error: `exited with ${signal ?? `code ${code}`}` }));
    child.send(request);
  });
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}
