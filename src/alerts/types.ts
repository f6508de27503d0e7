import type { AlertsConfig, BridgeConfig, RecoveryAction } from '../config/schema.js';

/** Alert types the recovery controller knows. */
export const ALERT_TYPES = ['rate_limit', 'time_limit', 'token_threshold', 'cost_threshold', 'test_alert'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export function isAlertType(value: string): value is AlertType {
  return (ALERT_TYPES as readonly string[]).includes(value);
}

/**
 * The live figures the embedded evaluator compares with thresholds. Each is undefined while no
 * source knows it; an undefined figure never fires (and resolves a firing alert, as an absent
 * series does in Prometheus).
 */
export interface UsageSignals {
  /** Tokens used in the active 5-hour block / its token limit, 0–1. */
  tokensUsedRatio?: number;
  /** Highest rate-limit use across windows, 0–1 (official status line figure when fresh). */
  rateLimitUsedRatio?: number;
  /** Cost in USD for the configured scope (block or day). */
  costUsd?: number;
  /** Elapsed time of the current session (5-hour block), seconds. */
  sessionSeconds?: number;
  /** When the usage window resets, ms since epoch: a pause resumes then. */
  windowResetsAt?: number;
}

export interface SignalProvider {
  signals(): UsageSignals;
}

export const noSignals: SignalProvider = { signals: () => ({}) };

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
