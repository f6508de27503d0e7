import type { HealthReporter, SourceStatus } from './metrics/source-health.js';
import type { RecoveryController } from './recovery/controller.js';
import { BRIDGE_VERSION } from './version.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  /** The developer this bridge serves (`bridge.name`): the `developer` label in a team's Prometheus. */
  name: string;
  version: string;
  uptime_seconds: number;
  /** The hooks server connection (its `hooks_server` source's state), kept at the top for old clients. */
  websocket: string;
  recovery_state: string;
  alerts_count: number;
  problems: string[];
  sources: Record<string, SourceStatus>;
}

/**
 * unhealthy (503): the bridge cannot keep its own promises (recovery state not persisted).
 * degraded: an enabled input is down; everything else still works.
 */
export class HealthService {
  private readonly reporters: HealthReporter[] = [];

  constructor(
    private readonly controller: RecoveryController,
    private readonly startedAt: number,
    private readonly now: () => number,
    private readonly name: string,
  ) {}

  add(reporter: HealthReporter): void {
    this.reporters.push(reporter);
  }

  report(): HealthReport {
    const snapshot = this.controller.snapshot();
    const sources: Record<string, SourceStatus> = {};
    const problems: string[] = [];
    for (const reporter of this.reporters) {
      const status = reporter.status();
      sources[reporter.name] = status;
      if (status.enabled && !status.up) problems.push(`${reporter.name} is down${status.last_error ? `: ${status.last_error}` : ''}`);
    }
    const persistError = this.controller.persistenceError();
    if (persistError) problems.unshift(`recovery state cannot be saved: ${persistError}`);
    const status: HealthStatus = persistError ? 'unhealthy' : problems.length ? 'degraded' : 'healthy';
    return {
      status,
      name: this.name,
      version: BRIDGE_VERSION,
      uptime_seconds: Math.round((this.now() - this.startedAt) / 1000),
      websocket: typeof sources.hooks_server?.details.state === 'string' ? sources.hooks_server.details.state : 'disabled',
      recovery_state: snapshot.state,
      alerts_count: snapshot.activeAlerts.length,
      problems,
      sources,
    };
  }
}
