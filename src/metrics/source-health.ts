import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX, sharedMetric } from './registry.js';
import type { Clock } from '../util/clock.js';
import { iso } from '../util/time.js';

/** What every input reports about itself, for /health and for Prometheus. */
export interface SourceStatus {
  enabled: boolean;
  up: boolean;
  last_success: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** Source-specific facts (version, reconnects, state, …). */
  details: Record<string, unknown>;
}

export interface HealthReporter {
  readonly name: string;
  status(): SourceStatus;
}

/**
 * One source's up/last-success bookkeeping, node_exporter style: each source owns a handle that
 * sets its own child of the shared `claude_bridge_source_up{source}` families.
 */
export class SourceHealth implements HealthReporter {
  private up = false;
  private lastSuccess: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private details: Record<string, unknown> = {};
  private liveDetails: (() => Record<string, unknown>) | null = null;

  constructor(
    readonly name: string,
    registry: Registry,
    private readonly clock: Clock,
    private readonly enabled = true,
  ) {
    const upGauge = sharedMetric(
      registry,
      `${METRIC_PREFIX}source_up`,
      () =>
        new Gauge({
          name: `${METRIC_PREFIX}source_up`,
          help: 'Whether the input source worked at its last attempt (1) or not (0).',
          labelNames: ['source'],
          registers: [registry],
        }),
    );
    const successGauge = sharedMetric(
      registry,
      `${METRIC_PREFIX}source_last_success_timestamp_seconds`,
      () =>
        new Gauge({
          name: `${METRIC_PREFIX}source_last_success_timestamp_seconds`,
          help: 'When the input source last worked, as a Unix timestamp; 0 if never.',
          labelNames: ['source'],
          registers: [registry],
        }),
    );
    const errorsCounter = sharedMetric(
      registry,
      `${METRIC_PREFIX}source_errors_total`,
      () =>
        new Counter({
          name: `${METRIC_PREFIX}source_errors_total`,
          help: 'Failed attempts of the input source since the bridge started.',
          labelNames: ['source'],
          registers: [registry],
        }),
    );
    this.metrics = { upGauge, successGauge, errorsCounter };
    if (enabled) {
      upGauge.set({ source: name }, 0);
      successGauge.set({ source: name }, 0);
      errorsCounter.inc({ source: name }, 0);
    }
  }

  private readonly metrics: { upGauge: Gauge; successGauge: Gauge; errorsCounter: Counter };
  private errorCount = 0;

  /** `live`: details read at each status() instead of now (replaces the previous `live`). */
  success(details?: Record<string, unknown>, live?: () => Record<string, unknown>): void {
    this.up = true;
    this.lastSuccess = this.clock.now();
    if (details) this.details = { ...this.details, ...details };
    if (live) this.liveDetails = live;
    this.metrics.upGauge.set({ source: this.name }, 1);
    this.metrics.successGauge.set({ source: this.name }, this.lastSuccess / 1000);
  }

  failure(error: string, details?: Record<string, unknown>): void {
    this.up = false;
    this.lastError = error;
    this.lastErrorAt = this.clock.now();
    this.errorCount += 1;
    if (details) this.details = { ...this.details, ...details };
    this.metrics.upGauge.set({ source: this.name }, 0);
    this.metrics.errorsCounter.inc({ source: this.name });
  }

  /** Marks the source down without counting an error (e.g. a socket that is reconnecting). */
  down(details?: Record<string, unknown>): void {
    this.up = false;
    if (details) this.details = { ...this.details, ...details };
    this.metrics.upGauge.set({ source: this.name }, 0);
  }

  setDetails(details: Record<string, unknown>): void {
    this.details = { ...this.details, ...details };
  }

  status(): SourceStatus {
    return {
      enabled: this.enabled,
      up: this.enabled && this.up,
      last_success: iso(this.lastSuccess),
      last_error: this.lastError,
      last_error_at: iso(this.lastErrorAt),
      details: { ...this.details, ...this.liveDetails?.() },
    };
  }
}
