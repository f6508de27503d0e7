import type { UsageSignals } from '../component.js';
import type { AlertsConfig, BridgeConfig, RecoveryAction } from '../config/schema.js';

/** Alert types the recovery controller knows. */
export const ALERT_TYPES = ['rate_limit', 'time_limit', 'token_threshold', 'cost_threshold', 'test_alert'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export function isAlertType(value: string): value is AlertType {
  return (ALERT_TYPES as readonly string[]).includes(value);
}

export interface SignalProvider {
  signals(): UsageSignals;
}

export type Severity = 'info' | 'warning' | 'critical';

/**
 * One row of the alert table: the single source of truth for thresholds. The embedded
 * evaluator reads `read()`; the Prometheus rule generator writes `expr`.
 */
export interface AlertDefinition {
  type: Exclude<AlertType, 'test_alert'>;
  /** Prometheus alert name. */
  alertname: string;
  /** What it measures, in words. */
  measures: (config: BridgeConfig) => string;
  /** PromQL that yields the measured value (same unit as the threshold). */
  valueExpr: (config: BridgeConfig) => string;
  threshold: (alerts: AlertsConfig) => number;
  /** How to print the value and threshold in annotations. */
  unit: 'ratio' | 'hours' | 'usd';
  forSeconds: (alerts: AlertsConfig) => number;
  action: (config: BridgeConfig) => RecoveryAction;
  severity: Severity;
  read: (signals: UsageSignals) => number | undefined;
}
