import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { BridgeConfig } from '../../config/schema.js';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import type { SourceHealth } from '../../metrics/source-health.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { iso } from '../../util/time.js';
import type { WebSocketState } from './data.js';
import { interceptingConnection, type ReplaySink } from './replay-interceptor.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** What the connection hands on: each connection has a generation, so late callbacks of an old one are ignored. */
export interface StreamHandler {
  /** A connection is being made; its first message (the server's replay) streams into the returned sink. */
  connecting(generation: number): ReplaySink;
  /** One later frame's text. */
  frame(generation: number, text: string): void;
  closed(): void;
}

export interface StreamConnectionOptions {
  config: BridgeConfig['hooks_server'];
  registry: Registry;
  clock: Clock;
  logger: Logger;
  health: SourceHealth;
  /** 0–1; injected so tests pin the reconnect jitter. */
  random?: () => number;
}

/**
 * The WebSocket to the hooks server's `/stream`: connects, times out a silent server, and
 * reconnects with exponential backoff and jitter while the server is down. The server's replay
 * (its first message, often megabytes) is streamed to the handler by a ReplayInterceptor under the
 * socket instead of being held whole; later frames above `max_frame_bytes` are refused (1009) and
 * counted by the catch-up after the reconnect. It knows nothing of the events inside the frames
 * (see StreamSync).
 */
export class StreamConnection {
  private socket: WebSocket | null = null;
  private connectionState: WebSocketState;
  private stopped = true;
  private currentGeneration = 0;
  private reconnectTimer: TimerHandle | null = null;
  private failedAttempts = 0;
  private everConnected = false;
  private reconnects = 0;
  private lastConnectedAt: number | null = null;
  private readonly random: () => number;
  private readonly metrics;

  constructor(
    private readonly options: StreamConnectionOptions,
    private readonly handler: StreamHandler,
  ) {
    this.connectionState = options.config.enabled ? 'disconnected' : 'disabled';
    this.random = options.random ?? Math.random;
    this.metrics = {
      connected: new Gauge({
        name: `${METRIC_PREFIX}hooks_websocket_connected`,
        help: 'Whether the bridge is connected to the hooks server WebSocket (1) or not (0).',
        registers: [options.registry],
      }),
      reconnects: new Counter({
        name: `${METRIC_PREFIX}hooks_websocket_reconnects_total`,
        help: 'Successful reconnections to the hooks server WebSocket after its connection was lost or refused.',
        registers: [options.registry],
      }),
    };
    this.metrics.connected.set(0);
  }

  get state(): WebSocketState {
    return this.connectionState;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  details(): Record<string, unknown> {
    return { url: this.options.config.url, state: this.connectionState, reconnects_total: this.reconnects, last_connected_at: iso(this.lastConnectedAt) };
  }

  summary() {
    return { state: this.connectionState, reconnects_total: this.reconnects, last_connected_at: iso(this.lastConnectedAt) };
  }

  start(): void {
    if (!this.options.config.enabled || !this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) this.options.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.socket?.terminate();
    this.socket = null;
    if (this.connectionState === 'connected') this.setState('disconnected');
  }

  /** The peer answered as it should (the sync finished): the next outage starts the backoff afresh. */
  healthy(): void {
    this.failedAttempts = 0;
  }

  private connect(): void {
    this.reconnectTimer = null;
    const generation = ++this.currentGeneration;
    const { config, clock } = this.options;
    let socket: WebSocket;
    try {
      const replay = this.handler.connecting(generation);
      socket = new WebSocket(config.url, {
        maxPayload: config.max_frame_bytes,
        // The interceptor reads the replay's bytes as they come: no compression may be negotiated.
        perMessageDeflate: false,
        // Any Duplex will do (node:http's contract); ws's typing names net's signature.
        createConnection: interceptingConnection(config.url.startsWith('wss:'), replay) as unknown as ClientOptions['createConnection'],
      });
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
      if (generation === this.currentGeneration) this.onOpen();
    });
    socket.on('message', (data) => {
      if (generation === this.currentGeneration) this.handler.frame(generation, rawText(data));
    });
    socket.on('error', (error) => {
      failure = error.message;
      if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        failure = `${error.message}: a frame above max_frame_bytes (${config.max_frame_bytes}); its event is counted by the catch-up after reconnecting`;
      }
    });
    socket.on('close', (code, reason) => {
      clock.clearTimeout(connectTimer);
      const wasOpen = generation === this.currentGeneration && this.connectionState === 'connected';
      const why = wasOpen
        ? `connection lost (code ${code}${reason.length ? `: ${reason.toString()}` : ''}${failure ? `; ${failure}` : ''})`
        : `cannot connect to ${config.url}: ${failure ?? `closed with code ${code}`}`;
      this.onClosed(generation, why, wasOpen);
    });
  }

  private onOpen(): void {
    const { clock, logger, health } = this.options;
    this.lastConnectedAt = clock.now();
    if (this.everConnected) {
      this.reconnects += 1;
      this.metrics.reconnects.inc();
    }
    this.everConnected = true;
    this.setState('connected');
    health.success(this.details());
    logger.info('connected to the hooks server', { url: this.options.config.url, reconnects: this.reconnects });
  }

  private onClosed(generation: number, why: string, wasOpen: boolean): void {
    if (generation !== this.currentGeneration) return;
    this.socket = null;
    this.handler.closed();
    if (this.connectionState === 'connected') this.setState('disconnected');
    if (this.stopped) return;
    this.options.health.failure(why, this.details());
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

  private setState(state: WebSocketState): void {
    this.connectionState = state;
    this.metrics.connected.set(state === 'connected' ? 1 : 0);
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
