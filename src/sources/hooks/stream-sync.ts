import type { Counter } from 'prom-client';
import type { BridgeConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { isJsonObject } from '../../util/json.js';
import type { Logger } from '../../util/logger.js';
import { iso } from '../../util/time.js';
import type { HookActivity } from './activity.js';
import { EventWindow, judge, nextWindowLimit, REPLAY_WINDOW, type ServerEvent, type Verdict } from './catch-up.js';
import { parseHookEvent, toActivityEvent } from './event.js';
import type { EventMemory } from './event-memory.js';
import { HookEventReader, readHookJson, type ReadSummary } from './event-reader.js';
import { eventFingerprint } from './fingerprint.js';
import type { ReplaySink } from './replay-interceptor.js';
import type { HookEventSink } from './sink.js';
import { fetchEventWindow, recentEventsUrl } from './window-fetch.js';

const WINDOW_IDLE_TIMEOUT_MS = 30_000;
/** Live events held while catching up; past this the catch-up settles for the windows it has. */
const MAX_BUFFERED_DURING_SYNC = 10_000;
const LOGGED_MALFORMED_PER_CONNECTION = 10;
/** Frames above this are read with the streaming reader, so a transcript in them is never built as objects. */
const STREAM_PARSE_ABOVE_BYTES = 64 * 1024;

type Phase = 'awaiting-replay' | 'syncing' | 'live';
const PHASE_NAMES: Record<Phase, string> = { 'awaiting-replay': 'awaiting replay', syncing: 'catching up', live: 'live' };

export interface SyncMetrics {
  databaseResets: Counter<'kind'>;
  catchUpEvents: Counter;
  catchUpRequests: Counter;
  catchUpCapped: Counter;
}

export interface StreamSyncOptions {
  config: BridgeConfig['hooks_server'];
  clock: Clock;
  logger: Logger;
  activity: HookActivity;
  sink: HookEventSink;
  /** What was counted; restored from the persisted cursor by the source. */
  memory: EventMemory;
  metrics: SyncMetrics;
  /** The memory changed: the cursor is to be saved before the counts are next shown. */
  changed: () => void;
  /** A baseline was taken: save it at once (it counts nothing, so nothing can be shown twice). */
  baselineTaken: () => void;
  /** Called when a connection's stream is in step (baseline taken or caught up). */
  synced: () => void;
  /** Whether `generation` is still the live connection. */
  isCurrent: (generation: number) => boolean;
}

interface CatchUpReport {
  at: number;
  /** The `limit`s asked of `GET /events/recent`, in order (the replay frame is the window before them). */
  windows: number[];
  verdict: Verdict['kind'] | 'no window';
  counted: number;
  capped: boolean;
  error: string | null;
}

/**
 * The hooks server's stream protocol, exactly once across restarts of either side. On every
 * connect the server replays its newest 300 events by timestamp (streamed in by the
 * ReplayInterceptor); that replay, then growing `GET /events/recent?limit=N` windows (streamed,
 * up to `catch_up_max_events`), are compared with the memory of what was counted (EventMemory,
 * persisted by the source) until the cursor's event is found: what is newer is counted; if the
 * event at the cursor is gone or replaced, the newest remembered event still intact marks how far
 * the database rolled back (or none: a new database), and the ids above it count as new events.
 * The very first contact only takes a baseline: what the server already holds is history.
 * Answered human-in-the-loop events come again under their old id and are dropped as duplicates.
 */
export class StreamSync {
  /** Whether a baseline was ever taken (a cursor was loaded or made). */
  hasBaseline = false;
  private phase: Phase = 'awaiting-replay';
  private generation = 0;
  private buffered: ServerEvent[] = [];
  private catchUpAbort: AbortController | null = null;
  /** No replay to take the baseline from: the first live event takes it (ids below it are history). */
  private baselineOnFirstLive = false;
  /** The connection whose replay took a provisional baseline; its first live event settles it. */
  private baselineGeneration: number | null = null;
  private malformedThisConnection = 0;
  private readonly resets = { reset: 0, rollback: 0 };
  private cappedTotal = 0;
  private lastCatchUp: CatchUpReport | null = null;
  private lastEventAt: number | null = null;

  constructor(private readonly options: StreamSyncOptions) {}

  details(): Record<string, unknown> {
    const cursor = this.options.memory.cursor;
    return {
      sync: PHASE_NAMES[this.phase],
      last_event_at: iso(this.lastEventAt),
      database_resets_total: this.resets.reset,
      database_rollbacks_total: this.resets.rollback,
      cursor: cursor ? { id: cursor.id, timestamp: iso(cursor.time) } : null,
      baseline: !this.hasBaseline ? 'not taken yet' : this.options.memory.baseline ? 'provisional' : 'taken',
      catch_up: {
        capped_total: this.cappedTotal,
        last: this.lastCatchUp ? { ...this.lastCatchUp, at: iso(this.lastCatchUp.at) } : null,
      },
    };
  }

  /** A new connection is being made: its replay comes through the returned sink, as it streams in. */
  connecting(generation: number): ReplaySink {
    this.abortCatchUp();
    this.generation = generation;
    this.phase = 'awaiting-replay';
    this.buffered = [];
    this.malformedThisConnection = 0;
    return this.replaySink(generation);
  }

  closed(): void {
    this.abortCatchUp();
    this.buffered = [];
    if (this.phase === 'syncing') this.phase = 'awaiting-replay';
  }

  frame(generation: number, text: string): void {
    if (generation !== this.generation) return;
    const frame = this.parseFrame(text);
    if (!frame) return;
    if (frame.type === 'initial') {
      if (!Array.isArray(frame.data)) this.malformed('initial frame data is not an array', preview(frame.data));
      else if (this.phase !== 'syncing') this.beginSync(generation, this.readEvents(frame.data));
    } else if (frame.type === 'event') {
      this.onEventFrame(generation, frame.data);
    } else {
      this.options.logger.debug('ignoring a hooks server frame of unknown type', { type: frame.type });
    }
  }

  private replaySink(generation: number): ReplaySink {
    const raws: unknown[] = [];
    const reader = new HookEventReader((raw) => {
      if (raws.length < this.options.config.catch_up_max_events) raws.push(raw);
    });
    let problem: string | null = null;
    return {
      chunk: (data) => {
        if (problem !== null) return;
        try {
          reader.write(data);
        } catch (error) {
          problem = errorMessage(error);
        }
      },
      end: (complete) => {
        if (!complete || generation !== this.generation) return;
        let summary: ReadSummary | null = null;
        if (problem === null) {
          try {
            summary = reader.end();
          } catch (error) {
            problem = errorMessage(error);
          }
        }
        this.guard(() => this.onFirstMessage(generation, summary, raws, problem));
      },
    };
  }

  /** The first message of a connection, read while it streamed in: normally the replay. */
  private onFirstMessage(generation: number, summary: ReadSummary | null, raws: unknown[], problem: string | null): void {
    if (!summary) {
      this.malformed('the first frame is not JSON', problem ?? 'unreadable');
      this.beginSync(generation, null);
    } else if (summary.root !== 'frame' || summary.frameType === undefined) {
      this.malformed('frame has no type', summary.preview ?? summary.root);
      this.beginSync(generation, null);
    } else if (summary.frameType === 'initial' && summary.data === 'array') {
      this.beginSync(generation, this.readEvents(raws));
    } else if (summary.frameType === 'initial') {
      this.malformed('initial frame data is not an array', summary.preview ?? String(summary.data));
      this.beginSync(generation, null);
    } else {
      // A server that sent no replay: catch up over HTTP; the frame itself is a live one.
      this.beginSync(generation, null);
      if (summary.frameType === 'event') this.onEventFrame(generation, summary.data === 'object' ? raws[0] : null);
    }
  }

  private parseFrame(text: string): { type: string; data: unknown } | null {
    let frame: unknown;
    try {
      frame = text.length > STREAM_PARSE_ABOVE_BYTES ? streamedFrame(text) : JSON.parse(text);
    } catch (error) {
      this.malformed('frame is not JSON', errorMessage(error));
      return null;
    }
    if (!isJsonObject(frame) || typeof frame.type !== 'string') {
      this.malformed('frame has no type', preview(frame));
      return null;
    }
    return { type: frame.type, data: frame.data };
  }

  private onEventFrame(generation: number, data: unknown): void {
    const event = this.readEvent(data, true);
    if (!event) return;
    this.lastEventAt = this.options.clock.now();
    if (this.phase === 'awaiting-replay') this.beginSync(generation, null); // a replay that never came
    if (this.phase === 'syncing') {
      this.buffered.push(event);
      if (this.buffered.length === MAX_BUFFERED_DURING_SYNC) {
        this.options.logger.warn('too many live events while catching up; settling for the windows read so far');
        this.catchUpAbort?.abort(new Error('too many live events while catching up'));
      }
      return;
    }
    this.countLive(generation, event);
  }

  private readEvents(raws: unknown[]): ServerEvent[] {
    const events: ServerEvent[] = [];
    for (const raw of raws) {
      const event = this.readEvent(raw, true);
      if (event) events.push(event);
    }
    return events;
  }

  /** A stored row that cannot be used is skipped quietly: every later window would count it again. */
  private readEvent(raw: unknown, countMalformed: boolean): ServerEvent | null {
    const parsed = parseHookEvent(raw);
    if (!parsed.ok || parsed.value.id === undefined) {
      if (countMalformed) {
        if (!parsed.ok) this.malformed('event does not have the HookEvent shape', parsed.problem);
        else this.malformed('event has no id', preview(raw));
      }
      return null;
    }
    const event = toActivityEvent(parsed.value) as ServerEvent;
    event.fingerprint = eventFingerprint(event);
    return event;
  }

  private beginSync(generation: number, replay: ServerEvent[] | null): void {
    if (!this.hasBaseline) {
      if (replay) this.takeBaseline(generation, replay);
      else this.awaitBaseline();
      return;
    }
    this.phase = 'syncing';
    void this.catchUp(generation, replay).catch((error: unknown) => {
      this.options.logger.error('catching up with the hooks server failed', { error: errorMessage(error) });
    });
  }

  /** First contact: what the server holds is history. The baseline is saved at once. */
  private takeBaseline(generation: number, replay: ServerEvent[]): void {
    const { memory, logger } = this.options;
    const throughId = replay.reduce((max, e) => Math.max(max, e.id), 0);
    memory.markSeen(replay, throughId);
    // A full replay may have left out older-stamped history with higher ids; the first live event settles that.
    memory.baseline = replay.length >= REPLAY_WINDOW ? { throughId, floorTime: oldestTime(replay) } : null;
    this.baselineGeneration = memory.baseline ? generation : null;
    this.hasBaseline = true;
    this.phase = 'live';
    logger.info('first contact with the hooks server: its stored events are the baseline (not counted); every event after them is counted, across restarts', {
      replayed: replay.length,
      through_id: throughId,
    });
    this.options.baselineTaken();
    this.options.synced();
  }

  private awaitBaseline(): void {
    this.baselineOnFirstLive = true;
    this.phase = 'live';
    this.options.synced();
  }

  private async catchUp(generation: number, replay: ServerEvent[] | null): Promise<void> {
    const { memory, config, clock } = this.options;
    const report: CatchUpReport = { at: clock.now(), windows: [], verdict: 'no window', counted: 0, capped: false, error: null };
    let window = replay ? this.windowOf(replay) : null;
    let verdict: Verdict = window ? judge(window, memory, false) : { kind: 'grow' };
    while (verdict.kind === 'grow') {
      const limit = window ? nextWindowLimit(window.limit, config.catch_up_max_events) : REPLAY_WINDOW;
      if (limit === null) break;
      const next = await this.fetchWindow(limit, report);
      if (!this.stillSyncing(generation)) return;
      if (!next) break;
      window = next;
      verdict = judge(window, memory, false);
    }
    if (window && verdict.kind === 'grow') {
      report.capped = report.error === null;
      verdict = judge(window, memory, true);
    }
    this.finishSync(generation, window, window ? verdict : null, replay ?? [], report);
  }

  private windowOf(replay: ServerEvent[]): EventWindow {
    const window = new EventWindow(this.options.memory, REPLAY_WINDOW);
    for (const event of replay) window.add(event);
    return window;
  }

  private async fetchWindow(limit: number, report: CatchUpReport): Promise<EventWindow | null> {
    const { memory, config, clock, metrics, logger } = this.options;
    const window = new EventWindow(memory, limit);
    const abort = new AbortController();
    this.catchUpAbort = abort;
    report.windows.push(limit);
    metrics.catchUpRequests.inc();
    const url = recentEventsUrl(config.url, limit);
    try {
      await fetchEventWindow(url, { clock, idleTimeoutMs: WINDOW_IDLE_TIMEOUT_MS, signal: abort.signal }, (raw) => {
        const event = this.readEvent(raw, false);
        if (event) window.add(event);
      });
      return window;
    } catch (error) {
      report.error = errorMessage(error);
      if (this.phase === 'syncing') logger.warn('could not read a window of the hooks server events; catching up with what was read', { url, error: report.error });
      return null;
    } finally {
      if (this.catchUpAbort === abort) this.catchUpAbort = null;
    }
  }

  private finishSync(generation: number, window: EventWindow | null, verdict: Verdict | null, replay: ServerEvent[], report: CatchUpReport): void {
    const { memory, activity, sink, metrics, clock } = this.options;
    this.phase = 'live';
    if (verdict) this.applyVerdict(verdict);
    const buffered = this.buffered;
    this.buffered = [];
    const liveIds = new Set(buffered.map((e) => e.id));
    const counted = new Set<number>();
    for (const event of window?.unknownEvents() ?? []) {
      // Events that also came live are counted in live order below.
      if (liveIds.has(event.id) || memory.has(event.id)) continue;
      memory.accept(event);
      if (this.isBaselineHistory(event)) continue;
      sink.ingest(event);
      counted.add(event.id);
    }
    for (const event of replay) if (!counted.has(event.id)) activity.recordDuplicate();
    report.verdict = verdict?.kind ?? 'no window';
    report.counted = counted.size;
    this.lastCatchUp = report;
    if (counted.size > 0) {
      this.lastEventAt = clock.now();
      metrics.catchUpEvents.inc(counted.size);
    }
    if (report.capped) this.reportCapped();
    const caughtUp = { counted: counted.size, verdict: report.verdict, windows: report.windows };
    if (counted.size > 0 || report.windows.length > 0) this.options.logger.info('caught up with the hooks server', caughtUp);
    else this.options.logger.debug('caught up with the hooks server', caughtUp);
    this.options.changed();
    for (const event of buffered) this.countLive(generation, event);
    this.options.synced();
  }

  private applyVerdict(verdict: Verdict): void {
    const { memory, metrics, logger } = this.options;
    if (verdict.kind === 'rollback') {
      this.resets.rollback += 1;
      metrics.databaseResets.inc({ kind: 'rollback' });
      logger.warn('the hooks server database rolled back: ids from here on were handed out again and count as new events', {
        from_id: verdict.from,
        newest_intact_id: verdict.anchor || null,
      });
      memory.forgetFrom(verdict.from);
    } else if (verdict.kind === 'reset') {
      this.resets.reset += 1;
      metrics.databaseResets.inc({ kind: 'reset' });
      logger.warn('the hooks server database was replaced: none of the counted events is there any more; counting its events afresh');
      memory.reset();
    }
  }

  private reportCapped(): void {
    this.cappedTotal += 1;
    this.options.metrics.catchUpCapped.inc();
    this.options.logger.warn('catching up reached hooks_server.catch_up_max_events without finding the last counted event: older events may be missed', {
      catch_up_max_events: this.options.config.catch_up_max_events,
    });
  }

  /** An event of a full baseline replay's era that the replay left out (see ProvisionalBaseline). */
  private isBaselineHistory(event: ServerEvent): boolean {
    const baseline = this.options.memory.baseline;
    return baseline !== null && event.id > baseline.throughId && event.time !== null && event.time <= baseline.floorTime;
  }

  private countLive(generation: number, event: ServerEvent): void {
    const { memory, activity, sink } = this.options;
    if (memory.has(event.id)) {
      activity.recordDuplicate();
      return;
    }
    // Ids are handed out in order: every id below the first live event existed before this connection.
    if (this.baselineOnFirstLive) {
      this.baselineOnFirstLive = false;
      this.hasBaseline = true;
      memory.ids.markSeenThrough(event.id - 1);
      this.options.baselineTaken();
    } else if (memory.baseline && this.baselineGeneration === generation) {
      memory.ids.markSeenThrough(event.id - 1);
      memory.baseline = null;
      this.baselineGeneration = null;
    }
    memory.accept(event);
    sink.ingest(event);
    this.options.changed();
  }

  private stillSyncing(generation: number): boolean {
    return this.options.isCurrent(generation) && this.generation === generation && this.phase === 'syncing';
  }

  private abortCatchUp(): void {
    this.catchUpAbort?.abort(new Error('the connection closed'));
    this.catchUpAbort = null;
  }

  /** Code run from a socket's data handler must not throw into it. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.logger.error('hooks server sync failed on a frame', { error: errorMessage(error) });
    }
  }

  private malformed(what: string, detail: string): void {
    this.options.activity.recordMalformed('websocket');
    this.malformedThisConnection += 1;
    if (this.malformedThisConnection <= LOGGED_MALFORMED_PER_CONNECTION) {
      this.options.logger.warn(`skipping a malformed hooks server frame: ${what}`, { detail });
    }
  }
}

/** A large frame read as it would be parsed, minus what the bridge does not count from. */
function streamedFrame(text: string): unknown {
  const raws: unknown[] = [];
  const summary = readHookJson(text, (raw) => raws.push(raw));
  if (summary.root !== 'frame') return null;
  const data = summary.data === 'object' ? raws[0] : summary.data === 'array' ? raws : summary.preview;
  return { type: summary.frameType, data };
}

function oldestTime(events: readonly ServerEvent[]): number {
  let oldest = Infinity;
  for (const event of events) if (event.time !== null && event.time < oldest) oldest = event.time;
  return Number.isFinite(oldest) ? oldest : 0;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
