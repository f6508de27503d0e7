import type { BridgeConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { fetchTextCapped } from '../../util/fetch-capped.js';
import { isJsonObject } from '../../util/json.js';
import type { Logger } from '../../util/logger.js';
import { iso } from '../../util/time.js';
import type { HookActivity } from './activity.js';
import { EventIdDedupe } from './dedupe.js';
import { parseHookEvent, toActivityEvent, type ActivityEvent } from './event.js';
import type { HookEventSink } from './sink.js';

const GAP_FILL_TIMEOUT_MS = 30_000;
/** Live events held while the gap fill runs; past this the gap fill is given up. */
const MAX_BUFFERED_DURING_SYNC = 10_000;
const LOGGED_MALFORMED_PER_CONNECTION = 10;

type Phase = 'awaiting-initial' | 'syncing' | 'live';
type IdentifiedEvent = ActivityEvent & { id: number };

export interface StreamSyncOptions {
  config: BridgeConfig['hooks_server'];
  clock: Clock;
  logger: Logger;
  activity: HookActivity;
  sink: HookEventSink;
  /** Called when a connection's stream is in step (baseline set or gap filled). */
  synced: () => void;
  /** Whether `generation` is still the live connection. */
  isCurrent: (generation: number) => boolean;
  fetch?: typeof fetch;
}

/**
 * The hooks server's stream protocol: counts each event once although the server replays up to
 * 300 old events on every connect and re-broadcasts answered human-in-the-loop events under their
 * old id. The first connect only sets the baseline (history is not counted as new activity);
 * after a reconnect the gap is filled from `GET /events/recent?limit=-1` and a database reset
 * (ids going down) starts the count afresh.
 */
export class StreamSync {
  private readonly dedupe: EventIdDedupe;
  private phase: Phase = 'awaiting-initial';
  private sync: { initial: IdentifiedEvent[]; buffered: IdentifiedEvent[] } | null = null;
  private gapFillAbort: AbortController | null = null;
  private haveBaseline = false;
  private malformedThisConnection = 0;
  private databaseResets = 0;
  private lastEventAt: number | null = null;

  constructor(private readonly options: StreamSyncOptions) {
    this.dedupe = new EventIdDedupe(options.config.dedupe_window);
  }

  details(): Record<string, unknown> {
    return { last_event_at: iso(this.lastEventAt), database_resets_total: this.databaseResets };
  }

  /** A new connection: its first frame should be `initial`. */
  opened(): void {
    this.phase = 'awaiting-initial';
    this.sync = null;
    this.malformedThisConnection = 0;
  }

  closed(): void {
    this.sync = null;
    this.gapFillAbort?.abort();
  }

  frame(generation: number, text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch (error) {
      this.malformed('frame is not JSON', errorMessage(error));
      return;
    }
    if (!isJsonObject(frame) || typeof frame.type !== 'string') {
      this.malformed('frame has no type', preview(frame));
      return;
    }
    if (frame.type === 'initial') this.onInitialFrame(generation, frame.data);
    else if (frame.type === 'event') this.onEventFrame(generation, frame.data);
    else this.options.logger.debug('ignoring a hooks server frame of unknown type', { type: frame.type });
  }

  private onInitialFrame(generation: number, data: unknown): void {
    if (!Array.isArray(data)) {
      this.malformed('initial frame data is not an array', preview(data));
      return;
    }
    const events: IdentifiedEvent[] = [];
    for (const raw of data) {
      const event = this.readEvent(raw);
      if (event) events.push(event);
    }
    this.beginSync(generation, events);
  }

  private onEventFrame(generation: number, data: unknown): void {
    const event = this.readEvent(data);
    if (!event) return;
    this.lastEventAt = this.options.clock.now();
    if (this.phase === 'awaiting-initial') this.beginSync(generation, []); // a server that skipped `initial`
    if (this.phase === 'syncing' && this.sync) {
      this.sync.buffered.push(event);
      if (this.sync.buffered.length >= MAX_BUFFERED_DURING_SYNC) {
        this.options.logger.warn('too many live events while filling the gap; continuing without the gap fill');
        this.finishSync(generation, null);
      }
      return;
    }
    this.countLive(event);
  }

  private readEvent(raw: unknown): IdentifiedEvent | null {
    const parsed = parseHookEvent(raw);
    if (!parsed.ok) {
      this.malformed('event does not have the HookEvent shape', parsed.problem);
      return null;
    }
    if (parsed.value.id === undefined) {
      this.malformed('event has no id', preview(raw));
      return null;
    }
    return toActivityEvent(parsed.value) as IdentifiedEvent;
  }

  private beginSync(generation: number, initial: IdentifiedEvent[]): void {
    if (!this.haveBaseline) {
      // First contact: what the server already holds is history, not new activity.
      this.haveBaseline = true;
      this.dedupe.markSeenThrough(maxId(initial));
      this.phase = 'live';
      this.options.synced();
      return;
    }
    this.phase = 'syncing';
    this.sync = { initial, buffered: [] };
    void this.fetchStoredEvents().then((rows) => this.finishSync(generation, rows));
  }

  private finishSync(generation: number, rows: IdentifiedEvent[] | null): void {
    if (!this.options.isCurrent(generation) || this.phase !== 'syncing' || !this.sync) return;
    const { initial, buffered } = this.sync;
    this.sync = null;
    this.phase = 'live';
    this.detectDatabaseReset([...initial, ...(rows ?? []), ...buffered]);
    for (const event of initial) if (this.dedupe.has(event.id)) this.options.activity.recordDuplicate();
    const bufferedIds = new Set(buffered.map((e) => e.id));
    const missed = new Map<number, IdentifiedEvent>();
    // Rows that also came live are counted in live order below, so their duplicate check is the live one.
    for (const row of rows ?? []) if (!this.dedupe.has(row.id) && !bufferedIds.has(row.id)) missed.set(row.id, row);
    for (const event of initial) if (!this.dedupe.has(event.id)) missed.set(event.id, event);
    for (const event of [...missed.values()].sort((a, b) => a.id - b.id)) {
      this.dedupe.accept(event.id);
      this.options.sink.ingest(event);
    }
    for (const event of buffered) this.countLive(event);
    this.options.synced();
  }

  private detectDatabaseReset(known: IdentifiedEvent[]): void {
    const newest = maxId(known);
    const highest = this.dedupe.highestSeen;
    if (highest === 0 || newest >= highest) return;
    this.databaseResets += 1;
    this.dedupe.reset();
    this.options.logger.warn('the hooks server database was reset: counting its events afresh', {
      newest_id: newest,
      highest_seen_id: highest,
    });
  }

  private countLive(event: IdentifiedEvent): void {
    if (this.dedupe.accept(event.id)) this.options.sink.ingest(event);
    else this.options.activity.recordDuplicate();
  }

  /** Every stored event, for the ids above the last seen; null when the server cannot tell. */
  private async fetchStoredEvents(): Promise<IdentifiedEvent[] | null> {
    const { clock, logger, config } = this.options;
    const url = storedEventsUrl(config.url);
    const abort = new AbortController();
    this.gapFillAbort = abort;
    try {
      const text = await fetchTextCapped(url, {
        clock,
        timeoutMs: GAP_FILL_TIMEOUT_MS,
        maxBytes: config.max_frame_bytes,
        signal: abort.signal,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      });
      const rows: unknown = JSON.parse(text);
      if (!Array.isArray(rows)) throw new Error('the answer is not a JSON array');
      const events: IdentifiedEvent[] = [];
      for (const row of rows) {
        const parsed = parseHookEvent(row);
        if (parsed.ok && parsed.value.id !== undefined) events.push(toActivityEvent(parsed.value) as IdentifiedEvent);
      }
      return events;
    } catch (error) {
      if (this.phase === 'syncing' && this.sync !== null) {
        logger.warn('could not fill the gap after reconnecting; events older than the replay may be missed', { url, error: errorMessage(error) });
      }
      return null;
    } finally {
      if (this.gapFillAbort === abort) this.gapFillAbort = null;
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

/** `ws://host:4000/stream` → `http://host:4000/events/recent?limit=-1` (all rows, ascending). */
export function storedEventsUrl(streamUrl: string): string {
  const url = new URL(streamUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `${url.pathname.replace(/\/stream\/?$/, '').replace(/\/$/, '')}/events/recent`;
  url.search = '?limit=-1';
  return url.toString();
}

function maxId(events: readonly { id: number }[]): number {
  let max = 0;
  for (const event of events) if (event.id > max) max = event.id;
  return max;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
