import type { BridgeConfig, RecoveryAction } from '../config/schema.js';
import { actionFor } from '../alerts/definitions.js';
import type { AlertType } from '../alerts/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { type Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { backoffDelayMs, nextDayAt } from './backoff.js';
import type { PersistedState, StateStore } from './store.js';
import { isSaneInstant } from '../util/time.js';
import { truncate } from '../util/text.js';
import {
  MAX_ORIGIN_KEY_LENGTH,
  MAX_ORIGINS_PER_ALERT,
  MAX_PAUSE_AHEAD_MS,
  MAX_SUMMARY_LENGTH,
  type ActiveAlert,
  type ActiveOrigin,
  type AlertFiring,
  type AlertResolution,
  type ChangeResult,
  type RecoverySnapshot,
  type RecoveryStateName,
  type Transition,
} from './types.js';

/** While the state cannot be saved, the write is tried again this often (and /health says so). */
const PERSIST_RETRY_MS = 5000;

export interface RecoveryControllerOptions {
  config: BridgeConfig;
  clock: Clock;
  store: StateStore;
  logger: Logger;
  /** When the current usage window resets (ms), if a source knows. */
  windowResetsAt?: () => number | undefined;
  random?: () => number;
}

export interface RecoveryEvents {
  onTransition?: (transition: Transition) => void;
  onFired?: (firing: AlertFiring, action: RecoveryAction) => void;
}

interface BackoffState {
  attempt: number;
  delayMs: number;
  until: number | null;
  resolvedAt: number | null;
}

/**
 * The recovery state machine. Alerts from any origin fire and resolve; the state is derived
 * (paused > backoff > degraded > normal) from the active alerts, the backoff bookkeeping and the
 * pause deadline. One timer wakes it for the next deadline (backoff escalation, auto-resume,
 * lapse of one-shot signals, backoff reset).
 */
export class RecoveryController {
  private readonly alerts = new Map<AlertType, { since: number; origins: Map<string, ActiveOrigin> }>();
  private backoff: BackoffState = { attempt: 0, delayMs: 0, until: null, resolvedAt: null };
  private pausedUntil: number | null = null;
  private state: RecoveryStateName = 'normal';
  private stateSince: number;
  private timer: TimerHandle | null = null;
  private readonly listeners: RecoveryEvents[] = [];
  private readonly random: () => number;
  private persistError: string | null = null;

  constructor(private readonly options: RecoveryControllerOptions) {
    this.random = options.random ?? Math.random;
    this.stateSince = options.clock.now();
  }

  subscribe(events: RecoveryEvents): void {
    this.listeners.push(events);
  }

  /** Restores the persisted state (if any) and arms the timer. */
  start(): { restored: boolean; problem?: string; keptAs?: string } {
    const result = this.options.store.load();
    if (result.problem) {
      this.options.logger.error('recovery state file was unreadable; kept aside and starting fresh', {
        file: this.options.store.location,
        problem: result.problem,
        kept_as: result.keptAs,
      });
    }
    if (result.state) this.restore(result.state);
    this.settle('restored');
    this.persist();
    return { restored: result.state !== null, ...(result.problem ? { problem: result.problem, keptAs: result.keptAs } : {}) };
  }

  stop(): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.persist();
  }

  fire(firing: AlertFiring): ChangeResult {
    const now = this.now();
    const originName = truncate(firing.key ?? '', MAX_ORIGIN_KEY_LENGTH);
    const key = originKey(firing.origin, originName);
    const entry = this.alerts.get(firing.type);
    const existing = entry?.origins.get(key);
    const startedAt = isSaneInstant(firing.startedAt) ? firing.startedAt : null;
    if (existing && startedAt !== null && existing.startedAt === startedAt) {
      return this.unchanged(); // a re-send of what is already applied
    }
    const action = actionFor(firing.type, this.options.config);
    const origin: ActiveOrigin = {
      origin: firing.origin,
      key: originName,
      since: existing?.since ?? now,
      startedAt,
      expiresAt: isSaneInstant(firing.expiresAt) ? firing.expiresAt : null,
      summary: firing.summary === undefined ? null : truncate(firing.summary, MAX_SUMMARY_LENGTH),
    };
    if (entry && firing.coalesce && action === 'exponential_backoff' && this.backoff.until !== null && now < this.backoff.until) {
      // The hold this would escalate is still running: the same limit, seen again (by another
      // session, or over another transport). Only its expiry moves; nothing is written for it.
      this.addOrigin(entry.origins, key, origin);
      this.arm(now);
      return this.unchanged();
    }
    if (entry) this.addOrigin(entry.origins, key, origin);
    else this.alerts.set(firing.type, { since: now, origins: new Map([[key, origin]]) });

    if (action === 'exponential_backoff' && (firing.escalate !== false || this.backoff.until === null)) this.escalateBackoff(now);
    if (action === 'session_pause' && this.pausedUntil === null) {
      this.pausedUntil = this.resumeTime(firing, now);
    }
    this.options.logger.warn('alert fired', { alert: firing.type, origin: firing.origin, action, summary: firing.summary });
    for (const l of this.listeners) l.onFired?.(firing, action);
    this.settle(`${firing.type} fired (${firing.origin})`);
    return this.changed();
  }

  resolve(resolution: AlertResolution): ChangeResult {
    const entry = this.alerts.get(resolution.type);
    if (!entry) return this.unchanged();
    if (resolution.origin === undefined) {
      entry.origins.clear();
    } else if (!entry.origins.delete(originKey(resolution.origin, resolution.key?.slice(0, MAX_ORIGIN_KEY_LENGTH)))) {
      return this.unchanged();
    }
    if (entry.origins.size === 0) this.removeAlert(resolution.type, this.now());
    this.settle(`${resolution.type} resolved${resolution.origin ? ` (${resolution.origin})` : ''}`);
    return this.changed();
  }

  /** Manual return to normal: every alert cleared, pause lifted, backoff forgotten. */
  resume(reason = 'manual resume'): ChangeResult {
    this.alerts.clear();
    this.pausedUntil = null;
    this.backoff = { attempt: 0, delayMs: 0, until: null, resolvedAt: null };
    this.settle(reason);
    return this.changed();
  }

  private changed(): ChangeResult {
    return { changed: true, durable: this.persistError === null, snapshot: this.snapshot() };
  }

  private unchanged(): ChangeResult {
    return { changed: false, durable: this.persistError === null, snapshot: this.snapshot() };
  }

  /** Keeps at most MAX_ORIGINS_PER_ALERT origins: whoever sends, the state stays small. */
  private addOrigin(origins: Map<string, ActiveOrigin>, key: string, origin: ActiveOrigin): void {
    origins.set(key, origin);
    while (origins.size > MAX_ORIGINS_PER_ALERT) {
      let oldest: string | null = null;
      for (const [k, o] of origins) if (oldest === null || o.since < origins.get(oldest)!.since) oldest = k;
      origins.delete(oldest!);
    }
  }

  snapshot(): RecoverySnapshot {
    const now = this.now();
    const activeAlerts: ActiveAlert[] = [...this.alerts.entries()].map(([type, entry]) => ({
      type,
      action: actionFor(type, this.options.config),
      since: entry.since,
      origins: [...entry.origins.values()].map((o) => ({ ...o })),
    }));
    const backoffActive = this.hasAction('exponential_backoff');
    const degradedActive = this.hasAction('graceful_degradation');
    const rules = this.options.config.recovery.degradation;
    return {
      state: this.deriveState(now),
      stateSince: this.stateSince,
      now,
      activeAlerts,
      backoff: {
        active: backoffActive,
        attempt: this.backoff.attempt,
        delayMs: backoffActive ? this.backoff.delayMs : 0,
        until: backoffActive ? this.backoff.until : null,
      },
      pausedUntil: this.pausedUntil,
      degraded: { active: degradedActive, rules: { deny_tools: [...rules.deny_tools], context_message: rules.context_message } },
    };
  }

  /** Whether the last state write failed (reported in /health). */
  persistenceError(): string | null {
    return this.persistError;
  }

  private escalateBackoff(now: number): void {
    const b = this.backoff;
    const wasActive = b.until !== null;
    const withinQuietPeriod =
      b.resolvedAt !== null && now - b.resolvedAt < this.options.config.recovery.backoff.reset_after_s * 1000;
    const attempt = wasActive || withinQuietPeriod ? b.attempt + 1 : 1;
    const delayMs = backoffDelayMs(attempt, this.options.config.recovery.backoff, this.random);
    this.backoff = { attempt, delayMs, until: now + delayMs, resolvedAt: null };
  }

  private resumeTime(firing: AlertFiring, now: number): number {
    const known = firing.resetsAt ?? this.options.windowResetsAt?.();
    if (known !== undefined && isSaneInstant(known) && known > now && known - now <= MAX_PAUSE_AHEAD_MS) return known;
    return nextDayAt(now, this.options.config.recovery.pause.fallback_resume_hour);
  }

  private removeAlert(type: AlertType, now: number): void {
    this.alerts.delete(type);
    const action = actionFor(type, this.options.config);
    if (action === 'exponential_backoff' && !this.hasAction('exponential_backoff') && this.backoff.until !== null) {
      this.backoff = { ...this.backoff, until: null, resolvedAt: now };
    }
    if (action === 'session_pause' && !this.hasAction('session_pause') && this.options.config.recovery.auto_recovery) {
      this.pausedUntil = null;
    }
    this.options.logger.info('alert resolved', { alert: type });
  }

  private hasAction(action: RecoveryAction): boolean {
    for (const type of this.alerts.keys()) if (actionFor(type, this.options.config) === action) return true;
    return false;
  }

  private deriveState(now: number): RecoveryStateName {
    if (this.isPaused(now)) return 'paused';
    if (this.hasAction('exponential_backoff')) return 'backoff';
    if (this.hasAction('graceful_degradation')) return 'degraded';
    return 'normal';
  }

  private isPaused(now: number): boolean {
    if (this.pausedUntil === null) return false;
    return !this.options.config.recovery.auto_recovery || now < this.pausedUntil;
  }

  /** Applies every deadline that has passed, records a transition if the state changed, persists, re-arms. */
  private settle(reason: string): void {
    const now = this.now();
    this.applyDeadlines(now);
    const next = this.deriveState(now);
    if (next !== this.state) {
      const transition: Transition = { from: this.state, to: next, at: now, reason };
      this.state = next;
      this.stateSince = now;
      this.options.logger.info('recovery state changed', { from: transition.from, to: transition.to, reason });
      for (const l of this.listeners) l.onTransition?.(transition);
    }
    this.persist();
    this.arm(now);
  }

  private applyDeadlines(now: number): void {
    for (const [type, entry] of [...this.alerts.entries()]) {
      for (const [key, origin] of [...entry.origins.entries()]) {
        if (origin.expiresAt !== null && origin.expiresAt <= now) entry.origins.delete(key);
      }
      if (entry.origins.size === 0) this.removeAlert(type, now);
    }
    const b = this.backoff;
    if (b.until !== null && now >= b.until && this.hasAction('exponential_backoff')) {
      this.escalateBackoff(now); // still limited after waiting: wait longer
    }
    if (b.until === null && b.resolvedAt !== null && now - b.resolvedAt >= this.options.config.recovery.backoff.reset_after_s * 1000) {
      this.backoff = { attempt: 0, delayMs: 0, until: null, resolvedAt: null };
    }
    if (this.pausedUntil !== null && this.options.config.recovery.auto_recovery && now >= this.pausedUntil) {
      this.options.logger.info('pause ended: resume time reached', { paused_until: new Date(this.pausedUntil).toISOString() });
      this.pausedUntil = null;
    }
  }

  private nextDeadline(): number | null {
    const candidates: number[] = [];
    for (const entry of this.alerts.values()) {
      for (const origin of entry.origins.values()) if (origin.expiresAt !== null) candidates.push(origin.expiresAt);
    }
    if (this.backoff.until !== null) candidates.push(this.backoff.until);
    if (this.backoff.until === null && this.backoff.resolvedAt !== null) {
      candidates.push(this.backoff.resolvedAt + this.options.config.recovery.backoff.reset_after_s * 1000);
    }
    if (this.pausedUntil !== null && this.options.config.recovery.auto_recovery) candidates.push(this.pausedUntil);
    if (this.persistError !== null) candidates.push(this.now() + PERSIST_RETRY_MS);
    return candidates.length ? Math.min(...candidates) : null;
  }

  private arm(now: number): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    const deadline = this.nextDeadline();
    if (deadline === null) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.settle('scheduled');
    }, Math.max(0, deadline - now));
  }

  private persist(): void {
    try {
      this.options.store.save(this.toPersisted());
      if (this.persistError !== null) {
        this.options.logger.info('recovery state persisted again');
        this.persistError = null;
      }
    } catch (error) {
      if (this.persistError === null) {
        this.options.logger.error('cannot persist recovery state', { file: this.options.store.location, error: errorMessage(error) });
      }
      this.persistError = errorMessage(error);
    }
  }

  private toPersisted(): PersistedState {
    return {
      version: 1,
      savedAt: this.now(),
      alerts: [...this.alerts.entries()].map(([type, entry]) => ({
        type,
        since: entry.since,
        origins: [...entry.origins.values()],
      })),
      backoff: { ...this.backoff },
      pausedUntil: this.pausedUntil,
      state: { name: this.state, since: this.stateSince },
    };
  }

  private restore(saved: PersistedState): void {
    const now = this.now();
    for (const alert of saved.alerts) {
      // The embedded evaluator re-fires what still holds; its old firings are not carried over.
      const origins = alert.origins.filter((o) => o.origin !== 'embedded');
      if (origins.length === 0) continue;
      this.alerts.set(alert.type, {
        since: alert.since,
        origins: new Map(origins.slice(-MAX_ORIGINS_PER_ALERT).map((o) => [originKey(o.origin, o.key), o])),
      });
    }
    this.backoff = { ...saved.backoff };
    if (!this.hasAction('exponential_backoff') && this.backoff.until !== null) {
      this.backoff = { ...this.backoff, until: null, resolvedAt: this.now() };
    }
    this.pausedUntil = saved.pausedUntil;
    if (this.pausedUntil !== null && this.pausedUntil - now > MAX_PAUSE_AHEAD_MS) {
      this.options.logger.error('dropping a saved pause that ends implausibly far ahead', { paused_until: saved.pausedUntil });
      this.pausedUntil = null;
    }
    this.state = saved.state.name;
    this.stateSince = saved.state.since;
    this.options.logger.info('recovery state restored', {
      state: saved.state.name,
      paused_until: saved.pausedUntil === null ? null : new Date(saved.pausedUntil).toISOString(),
      alerts: [...this.alerts.keys()],
    });
  }

  private now(): number {
    return this.options.clock.now();
  }
}

function originKey(origin: string, key: string | undefined): string {
  return `${origin}:${key ?? ''}`;
}
