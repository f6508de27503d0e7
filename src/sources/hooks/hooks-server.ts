import { Counter, type Registry } from 'prom-client';
import type { BridgeConfig } from '../../config/schema.js';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import { SourceHealth, type HealthReporter } from '../../metrics/source-health.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { iso } from '../../util/time.js';
import type { HookActivity } from './activity.js';
import { FileCursorStore, toPersisted, type CursorStore } from './cursor-store.js';
import type { HooksData, WebSocketState } from './data.js';
import { EventMemory } from './event-memory.js';
import type { HookEventSink } from './sink.js';
import { StreamConnection } from './stream-connection.js';
import { StreamSync, type SyncMetrics } from './stream-sync.js';

export const HOOKS_SERVER_SOURCE = 'hooks_server';

export interface HooksServerOptions {
  config: BridgeConfig['hooks_server'];
  /** The folder of the cursor file (`state.dir`, `~` expanded). */
  stateDir: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  activity: HookActivity;
  sink: HookEventSink;
  /** Replaces the cursor file (tests of a store that fails). */
  cursorStore?: CursorStore;
  /** 0–1; injected so tests pin the reconnect jitter. */
  random?: () => number;
}

/**
 * The hooks server as a source: a StreamConnection (the socket and its reconnects) feeding a
 * StreamSync (replay, catch-up, de-duplication), reported as `hooks_server`. What was counted is
 * kept as a cursor in `state.dir`, saved before the counts are shown (each scrape of /prometheus,
 * each GET /metrics) and on stop: a restart of the bridge, even after kill -9, counts every event
 * the exported series have not shown yet, and none twice.
 */
export class HooksServerSource {
  /** Reads the details fresh at each /health request. */
  readonly health: HealthReporter;
  private readonly connection: StreamConnection;
  private readonly sync: StreamSync;
  private readonly memory: EventMemory;
  private readonly store: CursorStore;
  private loaded = false;
  private dirty = false;
  private cursorLoadProblem: string | null = null;
  private cursorSaveProblem: string | null = null;
  private cursorSavedAt: number | null = null;

  constructor(private readonly options: HooksServerOptions) {
    const { config, registry, clock, logger } = options;
    const sourceHealth = new SourceHealth(HOOKS_SERVER_SOURCE, registry, clock, config.enabled);
    const details = () => ({ ...this.connection.details(), ...this.sync.details(), ...this.cursorDetails() });
    this.memory = new EventMemory(config.dedupe_window, config.cursor_history);
    this.store = options.cursorStore ?? new FileCursorStore(options.stateDir, () => clock.now());
    this.sync = new StreamSync({
      config,
      clock,
      logger,
      activity: options.activity,
      sink: options.sink,
      memory: this.memory,
      metrics: registerSyncMetrics(registry, () => this.flushCursor()),
      changed: () => {
        this.dirty = true;
      },
      baselineTaken: () => {
        this.dirty = true;
        this.flushCursor();
      },
      synced: () => {
        this.connection.healthy();
        sourceHealth.success(details());
      },
      isCurrent: (generation) => generation === this.connection.generation,
    });
    this.connection = new StreamConnection(
      { config, registry, clock, logger, health: sourceHealth, ...(options.random ? { random: options.random } : {}) },
      {
        connecting: (generation) => this.sync.connecting(generation),
        frame: (generation, text) => this.sync.frame(generation, text),
        closed: () => this.sync.closed(),
      },
    );
    this.health = {
      name: HOOKS_SERVER_SOURCE,
      status: () => {
        sourceHealth.setDetails(details());
        return sourceHealth.status();
      },
    };
  }

  get state(): WebSocketState {
    return this.connection.state;
  }

  summary(): HooksData['websocket'] {
    return this.connection.summary();
  }

  /** Returns at once: the bridge serves while the hooks server is down, and keeps trying. */
  start(): void {
    if (!this.options.config.enabled) return;
    if (!this.loaded) this.loadCursor();
    this.connection.start();
  }

  stop(): void {
    this.sync.closed();
    this.connection.stop();
    this.flushCursor();
  }

  /** Makes the cursor durable if it moved; never throws (a failure is shown in /health and retried). */
  flushCursor(): void {
    if (!this.loaded || !this.dirty) return;
    const now = this.options.clock.now();
    try {
      this.store.save(toPersisted(this.options.config.url, now, this.memory.snapshot()));
      this.dirty = false;
      this.cursorSavedAt = now;
      this.cursorSaveProblem = null;
    } catch (error) {
      const problem = `cannot save ${this.store.location}: ${errorMessage(error)}`;
      if (problem !== this.cursorSaveProblem) this.options.logger.warn('the hooks server cursor cannot be saved; retrying at the next scrape', { problem });
      this.cursorSaveProblem = problem;
    }
  }

  private loadCursor(): void {
    const { config, logger } = this.options;
    this.loaded = true;
    const load = this.store.load();
    if (load.kind === 'unusable') {
      this.cursorLoadProblem = `${this.store.location} could not be used (${load.problem})${load.keptAs ? `; kept as ${load.keptAs}` : ''}; a new baseline is taken`;
      logger.warn('the saved hooks server cursor is unusable: events sent while the bridge was down cannot be counted', { problem: this.cursorLoadProblem });
    } else if (load.kind === 'loaded' && load.cursor.server !== config.url) {
      this.cursorLoadProblem = `${this.store.location} belongs to ${load.cursor.server}, not ${config.url}; a new baseline is taken`;
      logger.warn('the saved hooks server cursor is for another server', { problem: this.cursorLoadProblem });
    } else if (load.kind === 'loaded') {
      this.memory.restore({ seen: load.cursor.seen, remembered: load.cursor.remembered, baseline: load.cursor.baseline });
      this.sync.hasBaseline = true;
      this.cursorSavedAt = load.cursor.saved_at;
      logger.info('hooks server cursor restored: counting from where the bridge stopped', { cursor_id: this.memory.cursor?.id ?? null });
    }
  }

  private cursorDetails(): Record<string, unknown> {
    return {
      cursor_file: this.store.location,
      cursor_saved_at: iso(this.cursorSavedAt),
      cursor_problem: this.cursorSaveProblem ?? this.cursorLoadProblem,
    };
  }
}

function registerSyncMetrics(registry: Registry, beforeCollect: () => void): SyncMetrics {
  const counter = (suffix: string, help: string) => new Counter({ name: `${METRIC_PREFIX}${suffix}`, help, registers: [registry] });
  const databaseResets = new Counter<'kind'>({
    name: `${METRIC_PREFIX}hooks_database_resets_total`,
    help: 'Hooks server databases found replaced (kind=reset) or rolled back to an older state that hands ids out again (kind=rollback).',
    labelNames: ['kind'],
    registers: [registry],
    // Counts are about to be shown: the cursor must first say they were counted (see HooksServerSource).
    collect: beforeCollect,
  });
  for (const kind of ['reset', 'rollback'] as const) databaseResets.inc({ kind }, 0);
  return {
    databaseResets,
    catchUpEvents: counter('hooks_catch_up_events_total', 'Hook events counted from the replay or GET /events/recent after a reconnect or a restart (missed live).'),
    catchUpRequests: counter('hooks_catch_up_requests_total', 'GET /events/recent windows asked of the hooks server while catching up.'),
    catchUpCapped: counter(
      'hooks_catch_up_capped_total',
      'Catch-ups that reached hooks_server.catch_up_max_events without finding the last counted event (older missed events not counted).',
    ),
  };
}
