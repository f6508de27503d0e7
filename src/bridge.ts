import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { EmbeddedEvaluator } from './alerts/evaluator.js';
import { RateLimitHits } from './alerts/rate-limit-hits.js';
import { mergeSignals, type BridgeComponent, type ComponentContext, type ComponentFactory, type RouteModule } from './component.js';
import { expandHome, type BridgeConfig } from './config/index.js';
import { HealthService } from './health.js';
import { createHttpApp } from './http/app.js';
import { alertmanagerRoutes } from './http/routes-alertmanager.js';
import { hookDecisionRoutes } from './http/routes-hooks.js';
import { recoveryRoutes } from './http/routes-recovery.js';
import { statusRoutes } from './http/routes-core.js';
import { eventsStreamRoutes } from './http/routes-events-stream.js';
import { statusPageHandler, statusPageRoutes, type StatusDeps } from './http/routes-status-page.js';
import { createRegistry } from './metrics/registry.js';
import { RecoveryController } from './recovery/controller.js';
import { registerRecoveryMetrics } from './recovery/metrics.js';
import { FileStateStore, type StateStore } from './recovery/store.js';
import { systemClock, type Clock } from './util/clock.js';
import { errorMessage } from './util/errors.js';
import type { Logger } from './util/logger.js';

export interface BridgeOptions {
  config: BridgeConfig;
  logger: Logger;
  clock?: Clock;
  store?: StateStore;
  registry?: Registry;
  components?: ComponentFactory[];
}

/**
 * Wires the layers together: components (the sources) report facts and signals; the alerts
 * (embedded evaluator, rate-limit hits) drive the recovery controller; src/http serves its state
 * and the hook decisions. Nothing flows back from recovery into a component.
 */
export class Bridge {
  readonly registry: Registry;
  readonly controller: RecoveryController;
  readonly evaluator: EmbeddedEvaluator;
  readonly health: HealthService;
  readonly components: BridgeComponent[];
  private readonly decisions: RouteModule;
  private server: Server | null = null;
  private readonly clock: Clock;
  private readonly logger: Logger;

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
      windowResetsAt: () => this.signals().windowResetsAt,
    });
    registerRecoveryMetrics(this.registry, this.controller);
    const context: ComponentContext = {
      config,
      registry: this.registry,
      clock: this.clock,
      logger,
      report: new RateLimitHits(this.controller, this.clock, config, logger.child({ component: 'alerts' })),
      recoveryState: () => this.controller.snapshot().state,
    };
    this.components = [];
    for (const factory of options.components ?? []) {
      const own = this.components.length;
      this.components.push(factory({ ...context, peerSignals: () => this.signals(own) }));
    }
    this.health = new HealthService(this.controller, this.clock.now(), () => this.clock.now(), config.bridge.name);
    for (const component of this.components) for (const reporter of component.health ?? []) this.health.add(reporter);
    this.decisions = hookDecisionRoutes({ config, clock: this.clock, logger: logger.child({ component: 'hooks' }), registry: this.registry, controller: this.controller });
    this.evaluator = new EmbeddedEvaluator(
      config,
      { signals: () => this.signals() },
      this.controller,
      this.clock,
      logger.child({ component: 'evaluator' }),
    );
  }

  /** Every component's usage signals, merged (but those of the component at `except`). */
  signals(except?: number) {
    return mergeSignals(this.components.flatMap((c, index) => (c.signals && index !== except ? [c.signals()] : [])));
  }

  createApp() {
    const { config } = this.options;
    const status: StatusDeps = { config, health: this.health, controller: this.controller, sections: this.components.flatMap((c) => (c.section ? [c.section] : [])) };
    const modules: RouteModule[] = [
      statusPageRoutes(status),
      eventsStreamRoutes({ ...status, clock: this.clock, logger: this.logger.child({ component: 'http' }) }),
      statusRoutes({
        health: this.health,
        controller: this.controller,
        registry: this.registry,
        sections: this.components.flatMap((c) => (c.section ? [c.section] : [])),
      }),
      recoveryRoutes(this.controller),
      alertmanagerRoutes(this.controller, config),
      ...this.components.flatMap((c) => (c.routes ? [c.routes] : [])),
      // After the components: the hooks source records a hook's input before it is answered.
      this.decisions,
    ];
    return createHttpApp(config, this.logger.child({ component: 'http' }), modules, statusPageHandler());
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
