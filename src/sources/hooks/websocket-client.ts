import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocket, type RawData } from 'ws';
import type { BridgeConfig } from '../../config/schema.js';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import { SourceHealth, type HealthReporter } from '../../metrics/source-health.js';
import type { WebSocketState } from '../../metrics/summary.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { type Logger } from '../../util/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { HookActivity } from './activity.js';
import { EventIdDedupe } from './dedupe.js';
import { parseHookEvent, toActivityEvent, type ActivityEvent } from './event.js';
import type { HookEventSink } from './sink.js';
import { isJsonObject } from '../../util/json.js';
import { iso } from '../../util/time.js';

export const HOOKS_SERVER_SOURCE = 'hooks_server';
const CONNECT_TIMEOUT_MS = 10_000;
const GAP_FILL_TIMEOUT_MS = 30_000;
/** Live events held while the gap fill runs; past this the gap fill is given up. */
const MAX_BUFFERED_DURING_SYNC = 10_000;
const LOGGED_MALFORMED_PER_CONNECTION = 10;

type Phase = 'awaiting-initial' | 'syncing' | 'live';
type IdentifiedEvent = ActivityEvent & { id: number };

export interface HooksWebSocketOptions {
  config: BridgeConfig['hooks_server'];
  registry: Registry;
  clock: Clock;
  logger: Logger;
  activity: HookActivity;
  sink: HookEventSink;
  /** 0–1; injected so tests pin the reconnect jitter. */
  random?: () => number;
  fetch?: typeof fetch;
}

export interface WebSocketSummary {
  state: WebSocketState;
  reconnects_total: number;
  last_connected_at: string | null;
}

/**
 * Client of the hooks server's `/stream` (its protocol as recorded in test/fixtures/hooks-server). Counts each event once although the
 * server replays up to 300 old events on every connect and re-broadcasts answered
 * human-in-the-loop events under their old id. The first connect only sets the baseline (history
 * is not counted as new activity); after a reconnect the gap is filled from
 * `GET /events/recent?limit=-1` and a database reset (ids going down) starts the count afresh.
 */
export class HooksWebSocketClient {
  /** Reads the details fresh at each /health request. */
  readonly health: HealthReporter;
  private readonly sourceHealth: SourceHealth;
  private readonly dedupe: EventIdDedupe;
  private readonly metrics;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;
  private socket: WebSocket | null = null;
  private connectionState: WebSocketState;
  private stopped = true;
  private generation = 0;
  private phase: Phase = 'awaiting-initial';
  private sync: { initial: IdentifiedEvent[]; buffered: IdentifiedEvent[] } | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private gapFillAbort: AbortController | null = null;
  private failedAttempts = 0;
  private everConnected = false;
  private haveBaseline = false;
  private malformedThisConnection = 0;
  private reconnects = 0;
  private databaseResets = 0;
  private lastConnectedAt: number | null = null;
  private lastEventAt: number | null = null;

  constructor(private readonly options: HooksWebSocketOptions) {
    const { config, registry, clock } = options;
    this.connectionState = config.enabled ? 'disconnected' : 'disabled';
    this.sourceHealth = new SourceHealth(HOOKS_SERVER_SOURCE, registry, clock, config.enabled);
    this.health = {
      name: HOOKS_SERVER_SOURCE,
      status: () => {
        this.sourceHealth.setDetails(this.details());
        return this.sourceHealth.status();
      },
    };
    this.dedupe = new EventIdDedupe(config.dedupe_window);
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.metrics = {
      connected: new Gauge({
        name: `${METRIC_PREFIX}hooks_websocket_connected`,
        help: 'Whether the bridge is connected to the hooks server WebSocket (1) or not (0).',
        registers: [registry],
      }),
      reconnects: new Counter({
        name: `${METRIC_PREFIX}hooks_websocket_reconnects_total`,
        help: 'Successful reconnections to the hooks server WebSocket after its connection was lost or refused.',
        registers: [registry],
      }),
    };
    this.metrics.connected.set(0);
  }

  get state(): WebSocketState {
    return this.connectionState;
  }

  summary(): WebSocketSummary {
    return { state: this.connectionState, reconnects_total: this.reconnects, last_connected_at: iso(this.lastConnectedAt) };
  }

  /** Returns at once: the bridge serves while the hooks server is down, and keeps trying. */
  start(): void {
    if (!this.options.config.enabled || !this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) this.options.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.gapFillAbort?.abort();
    this.socket?.terminate();
    this.socket = null;
    if (this.connectionState === 'connected') this.setState('disconnected');
  }

  private connect(): void {
    this.reconnectTimer = null;
    const generation = ++this.generation;
    const { config, clock } = this.options;
    this.phase = 'awaiting-initial';
    this.sync = null;
    this.malformedThisConnection = 0;
    let socket: WebSocket;
    try {
      socket = new WebSocket(config.url, { maxPayload: config.max_frame_bytes });
    } catch (error) {
      this.onClosed(generation, `cannot connect to ${config.url}: ${errorMessage(error)}`, false);
      return;
    }
    this.socket = socket;
    let failure: string | null = null;
    const connectTimer = clock.setTimeout(() => {
      failure = `no answer within ${CONNECT_TIMEOUT_MS} ms`;
      socket.terminate();
    }, CONNECT_TIMEOUT_MS);
    socket.on('open', () => {
      clock.clearTimeout(connectTimer);
      if (generation === this.generation) this.onOpen();
    });
    socket.on('message', (data) => this.onFrame(generation, data));
    socket.on('error', (error) => {
      failure = error.message;
    });
    socket.on('close', (code, reason) => {
      clock.clearTimeout(connectTimer);
      const wasOpen = generation === this.generation && this.connectionState === 'connected';
      const why = wasOpen
        ? `connection lost (code ${code}${reason.length ? `: ${reason.toString()}` : ''}${failure ? `; ${failure}` : ''})`
        : `cannot connect to ${config.url}: ${failure ?? `closed with code ${code}`}`;
      this.onClosed(generation, why, wasOpen);
    });
  }

  private onOpen(): void {
    const { clock, logger } = this.options;
    this.lastConnectedAt = clock.now();
    if (this.everConnected) {
      this.reconnects += 1;
      this.metrics.reconnects.inc();
    }
    this.everConnected = true;
    this.setState('connected');
    this.sourceHealth.success(this.details());
    logger.info('connected to the hooks server', { url: this.options.config.url, reconnects: this.reconnects });
  }

  private onClosed(generation: number, why: string, wasOpen: boolean): void {
    if (generation !== this.generation) return;
    this.socket = null;
    this.sync = null;
    this.gapFillAbort?.abort();
    if (this.connectionState === 'connected') this.setState('disconnected');
    if (this.stopped) return;
    this.sourceHealth.failure(why, this.details());
    const delayMs = this.nextReconnectDelay();
    // Keep the log readable while the hooks server stays down: one warning, then debug lines.
    if (wasOpen || this.failedAttempts <= 1) this.options.logger.warn(why, { retry_in_ms: delayMs });
    else this.options.logger.debug(why, { retry_in_ms: delayMs });
    this.reconnectTimer = this.options.clock.setTimeout(() => this.connect(), delayMs);
  }

  /** Exponential from reconnect_initial_ms up to reconnect_max_ms, keeping 50–100 % (jitter). */
  private nextReconnectDelay(): number {
    const { reconnect_initial_ms: initial, reconnect_max_ms: max } = this.options.config;
    const exponential = Math.min(max, initial * 2 ** Math.min(this.failedAttempts, 30));
    this.failedAttempts += 1;
    return Math.round(exponential * (0.5 + 0.5 * this.random()));
  }

  private onFrame(generation: number, data: RawData): void {
    if (generation !== this.generation) return;
    let frame: unknown;
    try {
      frame = JSON.parse(rawText(data));
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
      this.synced();
      return;
    }
    this.phase = 'syncing';
    this.sync = { initial, buffered: [] };
    void this.fetchStoredEvents().then((rows) => this.finishSync(generation, rows));
  }

  private finishSync(generation: number, rows: IdentifiedEvent[] | null): void {
    if (generation !== this.generation || this.phase !== 'syncing' || !this.sync) return;
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
    this.synced();
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

  private synced(): void {
    this.failedAttempts = 0;
    this.sourceHealth.success(this.details());
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
    const timer = clock.setTimeout(() => abort.abort(new Error(`no answer within ${GAP_FILL_TIMEOUT_MS} ms`)), GAP_FILL_TIMEOUT_MS);
    try {
      const response = await this.fetch(url, { signal: abort.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const rows: unknown = JSON.parse(await readCapped(response, config.max_frame_bytes));
      if (!Array.isArray(rows)) throw new Error('the answer is not a JSON array');
      const events: IdentifiedEvent[] = [];
      for (const row of rows) {
        const parsed = parseHookEvent(row);
        if (parsed.ok && parsed.value.id !== undefined) events.push(toActivityEvent(parsed.value) as IdentifiedEvent);
      }
      return events;
    } catch (error) {
      const stillWanted = this.phase === 'syncing' && this.sync !== null;
      if (stillWanted) {
        logger.warn('could not fill the gap after reconnecting; events older than the replay may be missed', {
          url,
          error: abortReason(abort, error),
        });
      }
      return null;
    } finally {
      clock.clearTimeout(timer);
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

  private setState(state: WebSocketState): void {
    this.connectionState = state;
    this.metrics.connected.set(state === 'connected' ? 1 : 0);
  }

  private details(): Record<string, unknown> {
    return {
      url: this.options.config.url,
      state: this.connectionState,
      reconnects_total: this.reconnects,
      last_connected_at: iso(this.lastConnectedAt),
      last_event_at: iso(this.lastEventAt),
      database_resets_total: this.databaseResets,
    };
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

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`answer of ${declared} bytes exceeds max_frame_bytes (${maxBytes})`);
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`answer exceeds max_frame_bytes (${maxBytes})`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
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

function abortReason(abort: AbortController, error: unknown): string {
  return abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason.message : errorMessage(error);
}

