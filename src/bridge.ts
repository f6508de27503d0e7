import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { EmbeddedEvaluator } from './alerts/evaluator.js';
import { noSignals, type SignalProvider } from './alerts/types.js';
import { expandHome, type BridgeConfig } from './config/index.js';
import { HealthService } from './health.js';
import { createHttpApp } from './http/app.js';
import { alertmanagerRoutes } from './http/routes-alertmanager.js';
import { recoveryRoutes } from './http/routes-recovery.js';
import { statusRoutes } from './http/routes-core.js';
import type { RouteModule } from './http/types.js';
import { createRegistry } from './metrics/registry.js';
import type { HealthReporter } from './metrics/source-health.js';
import type { HooksData, SummaryProvider, UsageData, WebSocketState } from './metrics/summary.js';
import { RecoveryController } from './recovery/controller.js';
import { registerRecoveryMetrics } from './recovery/metrics.js';
import { FileStateStore, type StateStore } from './recovery/store.js';
import { systemClock, type Clock } from './util/clock.js';
import { type Logger } from './util/logger.js';
import { errorMessage } from './util/errors.js';

/** Everything a component may use; data flows from components into the controller, never back. */
export interface BridgeContext {
  config: BridgeConfig;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  controller: RecoveryController;
}

/** A source or feature plugged into the bridge: its routes, its health, its lifecycle. */
export interface BridgeComponent {
  readonly name: string;
  routes?: RouteModule;
  health?: HealthReporter[];
  hooksSummary?: SummaryProvider<HooksData>;
  usageSummary?: SummaryProvider<UsageData>;
  signals?: SignalProvider;
  websocketState?: () => WebSocketState;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export type ComponentFactory = (context: BridgeContext) => BridgeComponent;

export interface BridgeOptions {
  config: BridgeConfig;
  logger: Logger;
  clock?: Clock;
  store?: StateStore;
  registry?: Registry;
  components?: ComponentFactory[];
}

export class Bridge {
  readonly registry: Registry;
  readonly controller: RecoveryController;
  readonly evaluator: EmbeddedEvaluator;
  readonly health: HealthService;
  readonly components: BridgeComponent[];
  private server: Server | null = null;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private signals: SignalProvider = noSignals;

  constructor(private readonly options: BridgeOptions) {
    const { config, logger } = options;
    this.clock = options.clock ?? systemClock;
    this.logger = logger;
    this.registry = options.registry ?? createRegistry();
    const store = options.store ?? new FileStateStore(expandHome(config.state.dir), () => this.clock.now());
    this.controller = new RecoveryController({
      config,
      clock: this.clock,
      store,
      logger: logger.child({ component: 'recovery' }),
      windowResetsAt: () => this.signals.signals().windowResetsAt,
    });
    registerRecoveryMetrics(this.registry, this.controller);
    const context: BridgeContext = { config, registry: this.registry, clock: this.clock, logger, controller: this.controller };
    this.components = (options.components ?? []).map((factory) => factory(context));
    this.health = new HealthService(this.controller, this.clock.now(), () => this.clock.now());
    for (const component of this.components) {
      for (const reporter of component.health ?? []) this.health.add(reporter);
      if (component.websocketState) this.health.setWebSocketState(component.websocketState);
      if (component.signals) this.signals = component.signals;
    }
    this.evaluator = new EmbeddedEvaluator(
      config,
      { signals: () => this.signals.signals() },
      this.controller,
      this.clock,
      logger.child({ component: 'evaluator' }),
    );
  }

  createApp() {
    const pick = <T>(key: 'hooksSummary' | 'usageSummary'): SummaryProvider<T> => {
      const provider = this.components.find((c) => c[key])?.[key] as SummaryProvider<T> | undefined;
      return provider ?? { summary: () => null };
    };
    const modules: RouteModule[] = [
      statusRoutes({
        health: this.health,
        controller: this.controller,
        registry: this.registry,
        hooks: pick<HooksData>('hooksSummary'),
        usage: pick<UsageData>('usageSummary'),
      }),
      recoveryRoutes(this.controller),
      alertmanagerRoutes(this.controller, this.options.config),
      ...this.components.flatMap((c) => (c.routes ? [c.routes] : [])),
    ];
    return createHttpApp(this.options.config, this.logger.child({ component: 'http' }), modules);
  }

  /** Restores state, starts components and the evaluator, then listens. Returns the bound address. */
  async start(): Promise<AddressInfo> {
    const { config } = this.options;
    this.controller.start();
    for (const component of this.components) {
      try {
        await component.start?.();
      } catch (error) {
        // A source that cannot start is reported in /health; the bridge still serves.
        this.logger.error('component failed to start', { component: component.name, error: errorMessage(error) });
      }
    }
    if (config.alerting.mode !== 'alertmanager') this.evaluator.start();
    const server = createServer(this.createApp());
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.logger.info('bridge listening', { host: address.address, port: address.port, alerting: config.alerting.mode });
    return address;
  }

  /** Graceful stop: stop taking requests, stop sources, flush the recovery state. */
  async stop(): Promise<void> {
    this.evaluator.stop();
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
    }
    for (const component of [...this.components].reverse()) {
      try {
        await component.stop?.();
      } catch (error) {
        this.logger.warn('component failed to stop cleanly', { component: component.name, error: errorMessage(error) });
      }
    }
    this.controller.stop();
    this.logger.info('bridge stopped');
  }
}
