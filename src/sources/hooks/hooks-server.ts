import type { Registry } from 'prom-client';
import type { BridgeConfig } from '../../config/schema.js';
import { SourceHealth, type HealthReporter } from '../../metrics/source-health.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { HookActivity } from './activity.js';
import type { HooksData, WebSocketState } from './data.js';
import type { HookEventSink } from './sink.js';
import { StreamConnection } from './stream-connection.js';
import { StreamSync } from './stream-sync.js';

export const HOOKS_SERVER_SOURCE = 'hooks_server';

export interface HooksServerOptions {
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

/**
 * The hooks server as a source: a StreamConnection (the socket and its reconnects) feeding a
 * StreamSync (the replay, gap fill and de-duplication protocol), reported as `hooks_server`.
 */
export class HooksServerSource {
  /** Reads the details fresh at each /health request. */
  readonly health: HealthReporter;
  private readonly connection: StreamConnection;
  private readonly sync: StreamSync;

  constructor(options: HooksServerOptions) {
    const { config, registry, clock, logger } = options;
    const sourceHealth = new SourceHealth(HOOKS_SERVER_SOURCE, registry, clock, config.enabled);
    const details = () => ({ ...this.connection.details(), ...this.sync.details() });
    this.sync = new StreamSync({
      config,
      clock,
      logger,
      activity: options.activity,
      sink: options.sink,
      synced: () => {
        this.connection.healthy();
        sourceHealth.success(details());
      },
      isCurrent: (generation) => generation === this.connection.generation,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.connection = new StreamConnection(
      { config, registry, clock, logger, health: sourceHealth, ...(options.random ? { random: options.random } : {}) },
      {
        opened: () => this.sync.opened(),
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
    this.connection.start();
  }

  stop(): void {
    this.sync.closed();
    this.connection.stop();
  }
}
