import type { Registry } from 'prom-client';
import { SourceHealth, type HealthReporter, type SourceStatus } from '../../metrics/source-health.js';
import type { Clock } from '../../util/clock.js';

/**
 * active: in use, reported up or down (and counted in `claude_bridge_source_*`).
 * standby: `source: auto` found nothing to use here; shown in /health, not a problem.
 * disabled: not configured.
 */
export type InputRole = 'active' | 'standby' | 'disabled';

/** A usage input's /health entry whose role can change while the bridge runs (source: auto). */
export class UsageInputHealth implements HealthReporter {
  private health: SourceHealth | null = null;
  private standbyDetails: Record<string, unknown> = {};

  constructor(
    readonly name: string,
    private readonly registry: Registry,
    private readonly clock: Clock,
    private role: InputRole,
  ) {
    if (role === 'active') this.handle();
  }

  success(details?: Record<string, unknown>, live?: () => Record<string, unknown>): void {
    this.activate().success(details, live);
  }

  failure(error: string, details?: Record<string, unknown>): void {
    this.activate().failure(error, details);
  }

  standby(details: Record<string, unknown>): void {
    if (this.role === 'disabled') return;
    this.role = 'standby';
    this.standbyDetails = details;
    this.health?.down();
  }

  status(): SourceStatus {
    if (this.health && this.role === 'active') {
      const status = this.health.status();
      return { ...status, details: { ...status.details, role: this.role } };
    }
    const last = this.health?.status();
    return {
      enabled: false,
      up: false,
      last_success: last?.last_success ?? null,
      last_error: last?.last_error ?? null,
      last_error_at: last?.last_error_at ?? null,
      details: { ...this.standbyDetails, role: this.role },
    };
  }

  private activate(): SourceHealth {
    this.role = 'active';
    return this.handle();
  }

  /** Created on first use, so an input never used exports no `source_up` series. */
  private handle(): SourceHealth {
    this.health ??= new SourceHealth(this.name, this.registry, this.clock);
    return this.health;
  }
}
