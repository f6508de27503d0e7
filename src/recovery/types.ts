import type { RecoveryAction } from '../config/schema.js';
import type { AlertType } from '../alerts/types.js';

export const RECOVERY_STATES = ['normal', 'backoff', 'paused', 'degraded'] as const;
export type RecoveryStateName = (typeof RECOVERY_STATES)[number];

/** Who raised an alert: each origin resolves its own. */
export const ALERT_ORIGINS = ['manual', 'embedded', 'alertmanager', 'hook'] as const;
export type AlertOrigin = (typeof ALERT_ORIGINS)[number];

export interface AlertFiring {
  type: AlertType;
  origin: AlertOrigin;
  /** Tells apart alerts of one origin, e.g. Alertmanager fingerprints. */
  key?: string;
  /** When the sender says the alert started, ms; a repeat with the same start is a no-op. */
  startedAt?: number;
  /** When the usage window resets, ms: a pause resumes then. */
  resetsAt?: number;
  /** One-shot signals (a StopFailure) lapse at this time, ms. */
  expiresAt?: number;
  summary?: string;
  /**
   * For facts that many senders may repeat (rate limits seen in hooks): while the backoff hold
   * they would escalate is still running, a repeat only refreshes the origin's expiry.
   */
  coalesce?: boolean;
  /** false: join the alert without escalating a backoff already running (one payload, many alerts). */
  escalate?: boolean;
}

export interface AlertResolution {
  type: AlertType;
  /** Omit both to resolve the alert from every origin. */
  origin?: AlertOrigin;
  key?: string;
}

export interface ActiveOrigin {
  origin: AlertOrigin;
  key: string;
  since: number;
  startedAt: number | null;
  expiresAt: number | null;
  summary: string | null;
}

export interface ActiveAlert {
  type: AlertType;
  action: RecoveryAction;
  since: number;
  origins: ActiveOrigin[];
}

export interface DegradationRules {
  deny_tools: string[];
  context_message: string | null;
}

export interface RecoverySnapshot {
  state: RecoveryStateName;
  /** When the current state began, ms. */
  stateSince: number;
  now: number;
  activeAlerts: ActiveAlert[];
  backoff: { active: boolean; attempt: number; delayMs: number; until: number | null };
  pausedUntil: number | null;
  degraded: { active: boolean; rules: DegradationRules };
}

export interface Transition {
  from: RecoveryStateName;
  to: RecoveryStateName;
  at: number;
  reason: string;
}

/** What a mutation did, for API answers and counters. */
export interface ChangeResult {
  changed: boolean;
  /** The state is on disk (a 2xx may say so); false when the write failed (it is retried). */
  durable: boolean;
  snapshot: RecoverySnapshot;
}

/** A reset or resume time further ahead than this is not believed (the longest window is 7 days). */
export const MAX_PAUSE_AHEAD_MS = 8 * 24 * 3600 * 1000;
/** Origins kept per alert (e.g. Alertmanager fingerprints); the oldest goes first past this. */
export const MAX_ORIGINS_PER_ALERT = 64;
export const MAX_ORIGIN_KEY_LENGTH = 128;
export const MAX_SUMMARY_LENGTH = 500;
