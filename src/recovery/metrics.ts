import { Counter, Gauge, type Registry } from 'prom-client';
import { ALERT_TYPES } from '../alerts/types.js';
import { METRIC_PREFIX } from '../metrics/registry.js';
import type { RecoveryController } from './controller.js';
import { RECOVERY_STATES } from './types.js';

/** Exports the recovery controller: point-in-time values are read from its snapshot at scrape time. */
export function registerRecoveryMetrics(registry: Registry, controller: RecoveryController): void {
  const snapshot = () => controller.snapshot();
  new Gauge({
    name: `${METRIC_PREFIX}recovery_state`,
    help: 'Current recovery state, one-hot: 1 for the active state, 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const current = snapshot().state;
      for (const state of RECOVERY_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}recovery_backoff_attempt`,
    help: 'Exponential backoff attempt number; 0 when not backing off and the quiet period has passed.',
    registers: [registry],
    collect() {
      this.set(snapshot().backoff.attempt);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}recovery_backoff_delay_seconds`,
    help: 'Delay applied to held hook calls during backoff; 0 when not backing off.',
    registers: [registry],
    collect() {
      this.set(snapshot().backoff.delayMs / 1000);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}recovery_paused_until_timestamp_seconds`,
    help: 'When the session pause ends, as a Unix timestamp; 0 when not paused.',
    registers: [registry],
    collect() {
      const s = snapshot();
      this.set(s.state === 'paused' && s.pausedUntil !== null ? s.pausedUntil / 1000 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}alerts_active`,
    help: 'Whether each alert is active in the recovery controller (1) or not (0).',
    labelNames: ['alert'],
    registers: [registry],
    collect() {
      const active = new Set(snapshot().activeAlerts.map((a) => a.type));
      for (const alert of ALERT_TYPES) this.set({ alert }, active.has(alert) ? 1 : 0);
    },
  });
  const fired = new Counter({
    name: `${METRIC_PREFIX}alerts_fired_total`,
    help: 'Alert firings received by the recovery controller, by alert and origin.',
    labelNames: ['alert', 'origin'],
    registers: [registry],
  });
  const transitions = new Counter({
    name: `${METRIC_PREFIX}recovery_transitions_total`,
    help: 'Recovery state transitions, by previous and new state.',
    labelNames: ['from', 'to'],
    registers: [registry],
  });
  controller.subscribe({
    onFired: (firing) => fired.inc({ alert: firing.type, origin: firing.origin }),
    onTransition: (t) => transitions.inc({ from: t.from, to: t.to }),
  });
}
