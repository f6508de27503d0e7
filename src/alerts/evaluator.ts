import type { BridgeConfig } from '../config/schema.js';
import type { RecoveryController } from '../recovery/controller.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { type Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { ALERT_DEFINITIONS } from './definitions.js';
import type { AlertDefinition, SignalProvider } from './types.js';

export type EmbeddedAlertState = 'inactive' | 'pending' | 'firing';

export interface EmbeddedAlertStatus {
  alert: AlertDefinition['type'];
  state: EmbeddedAlertState;
  value: number | null;
  threshold: number;
  activeSince: number | null;
}

/**
 * In-process twin of the generated Prometheus rules: same definitions, same thresholds, same
 * for-durations. A condition must hold for `for` before firing; it resolves as soon as it stops.
 */
export class EmbeddedEvaluator {
  private readonly pendingSince = new Map<string, number>();
  private readonly firing = new Set<string>();
  private readonly lastValues = new Map<string, number | undefined>();
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly config: BridgeConfig,
    private readonly signals: SignalProvider,
    private readonly controller: RecoveryController,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly definitions: readonly AlertDefinition[] = ALERT_DEFINITIONS,
  ) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** One evaluation round; exposed so sources can trigger it right after fresh data. */
  evaluate(): void {
    const now = this.clock.now();
    let signals;
    try {
      signals = this.signals.signals();
    } catch (error) {
      this.logger.error('embedded evaluator could not read usage signals', { error: errorMessage(error) });
      return;
    }
    for (const definition of this.definitions) {
      const value = definition.read(signals);
      this.lastValues.set(definition.type, value);
      const threshold = definition.threshold(this.config.alerts);
      const holds = value !== undefined && Number.isFinite(value) && value >= threshold;
      if (!holds) {
        this.pendingSince.delete(definition.type);
        if (this.firing.delete(definition.type)) {
          this.controller.resolve({ type: definition.type, origin: 'embedded' });
        }
        continue;
      }
      const since = this.pendingSince.get(definition.type) ?? now;
      this.pendingSince.set(definition.type, since);
      const forMs = definition.forSeconds(this.config.alerts) * 1000;
      if (!this.firing.has(definition.type) && now - since >= forMs) {
        this.firing.add(definition.type);
        this.controller.fire({
          type: definition.type,
          origin: 'embedded',
          summary: describe(definition, this.config, value, threshold),
          ...(signals.windowResetsAt !== undefined ? { resetsAt: signals.windowResetsAt } : {}),
        });
      }
    }
  }

  status(): EmbeddedAlertStatus[] {
    return this.definitions.map((d) => {
      const value = this.lastValues.get(d.type);
      return {
        alert: d.type,
        state: this.firing.has(d.type) ? 'firing' : this.pendingSince.has(d.type) ? 'pending' : 'inactive',
        value: value ?? null,
        threshold: d.threshold(this.config.alerts),
        activeSince: this.pendingSince.get(d.type) ?? null,
      };
    });
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.evaluate();
      this.schedule();
    }, this.config.alerting.evaluation_interval_s * 1000);
  }
}

export function formatValue(unit: AlertDefinition['unit'], value: number): string {
  switch (unit) {
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    case 'hours':
      return `${value.toFixed(2)} h`;
    case 'usd':
      return `$${value.toFixed(2)}`;
  }
}

function describe(definition: AlertDefinition, config: BridgeConfig, value: number, threshold: number): string {
  return `${definition.measures(config)}: ${formatValue(definition.unit, value)} ≥ ${formatValue(definition.unit, threshold)}`;
}
