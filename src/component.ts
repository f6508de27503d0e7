import type { RequestHandler, Router } from 'express';
import type { Registry } from 'prom-client';
import type { BridgeConfig } from './config/schema.js';
import type { HealthReporter } from './metrics/source-health.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

/**
 * The contract between the bridge and what plugs into it (the sources, and the bridge's own
 * decision routes). A component contributes metrics (on the registry it is given), health
 * reporters, one keyed section of `GET /metrics`, usage signals for the alerts, and routes. It
 * reports facts; it never decides: recovery decisions are made in src/recovery and served by
 * src/http. Nothing here names a particular source.
 */
export interface BridgeComponent {
  readonly name: string;
  routes?: RouteModule;
  health?: HealthReporter[];
  /** A section of the JSON `GET /metrics`, e.g. `hooks_data`. */
  section?: MetricsSection;
  /** Live usage figures for the embedded evaluator; merged across components (see mergeSignals). */
  signals?(): UsageSignals;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export type ComponentFactory = (context: ComponentContext) => BridgeComponent;

/** What a component may use. Facts go out through `report`; nothing reaches back into recovery. */
export interface ComponentContext {
  config: BridgeConfig;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  report: FactSink;
  /** The recovery state's name, for views a component serves (the status line shows it). */
  recoveryState(): string;
  /**
   * The usage signals of every other component, merged: a live source counts within the block a
   * usage source knows (its elapsed time) without importing it. Absent where no bridge runs.
   * Only one component may read it from its own `signals()` (two would read each other forever).
   */
  peerSignals?(): UsageSignals;
}

export interface MetricsSection {
  key: string;
  /** Read from the same prom-client metrics as `/prometheus`, hence possibly async. */
  read(): unknown;
}

/**
 * Facts that call for recovery at once rather than through a threshold: an API rate limit seen
 * in a StopFailure hook (or in telemetry). The alerts layer turns them into one-shot alerts.
 */
export interface FactSink {
  rateLimitHit(hit: RateLimitHit): void;
}

export interface RateLimitHit {
  sessionId: string;
  /** The same failure reported over two transports carries the same prompt id: it counts once. */
  promptId?: string;
  /** When it happened, ms since the epoch (a replayed report may be old). */
  at: number;
  /** For logs and `/recovery/status`, e.g. "StopFailure rate_limit reported by claude-code". */
  summary: string;
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

/**
 * The Prometheus series the generated rules read for the signals (the embedded evaluator reads
 * the signals themselves): whichever component knows a figure exports it under this name.
 */
export const ALERT_INPUT_METRICS = {
  tokensUsedRatio: 'claude_bridge_usage_tokens_used_ratio',
  rateLimitUsedRatio: 'claude_bridge_rate_limit_used_ratio',
  costUsd: 'claude_bridge_usage_cost_usd',
  sessionSeconds: 'claude_bridge_usage_session_duration_seconds',
} as const satisfies Partial<Record<keyof UsageSignals, string>>;

/**
 * Signals of several components in one: where two know the same figure the higher wins, so an
 * alert fires when any source sees its threshold crossed (and a pause lasts to the later reset).
 */
export function mergeSignals(all: UsageSignals[]): UsageSignals {
  const merged: UsageSignals = {};
  for (const signals of all) {
    for (const [key, value] of Object.entries(signals) as [keyof UsageSignals, number | undefined][]) {
      if (value === undefined || Number.isNaN(value)) continue;
      const current = merged[key];
      merged[key] = current === undefined ? value : Math.max(current, value);
    }
  }
  return merged;
}

export interface EndpointDoc {
  method: 'GET' | 'POST';
  path: string;
  description: string;
  /** Requires the bearer token when auth.token is set. */
  mutating?: boolean;
}

/** A group of endpoints owned by one concern; the app mounts each and lists them at GET /. */
export interface RouteModule {
  endpoints: EndpointDoc[];
  mount(router: Router, context: RouteContext): void;
}

export interface RouteContext {
  logger: Logger;
  /** Bearer-token guard for mutating endpoints. */
  guard: RequestHandler;
  /** Body parser for ordinary JSON requests. */
  json: RequestHandler;
  /** Body parser with the large limit, for event ingestion. */
  largeJson: RequestHandler;
  /** Body parser for Claude Code's hook inputs (server.hooks_body_limit). */
  hooksJson: RequestHandler;
}
