import type { Registry } from 'prom-client';
import type { RecoveryController } from '../recovery/controller.js';
import type { RecoverySnapshot } from '../recovery/types.js';
import type { HealthService } from '../health.js';
import type { MetricsSection } from '../component.js';
import type { RouteModule } from '../component.js';
import { iso } from '../util/time.js';


export function describeActiveAlerts(snapshot: RecoverySnapshot) {
  return snapshot.activeAlerts.map((a) => ({
    alert: a.type,
    action: a.action,
    since: iso(a.since),
    origins: a.origins.map((o) => ({
      origin: o.origin,
      ...(o.key ? { key: o.key } : {}),
      since: iso(o.since),
      ...(o.expiresAt !== null ? { expires_at: iso(o.expiresAt) } : {}),
      ...(o.summary ? { summary: o.summary } : {}),
    })),
  }));
}

export function describeRecovery(snapshot: RecoverySnapshot) {
  return {
    state: snapshot.state,
    state_since: iso(snapshot.stateSince),
    active_alerts: describeActiveAlerts(snapshot),
    timestamp: iso(snapshot.now),
    backoff: { attempt: snapshot.backoff.attempt, delay_ms: snapshot.backoff.delayMs, until: iso(snapshot.backoff.until) },
    paused_until: snapshot.state === 'paused' ? iso(snapshot.pausedUntil) : null,
    degraded: { active: snapshot.degraded.active, rules: snapshot.degraded.rules },
  };
}

export function statusRoutes(deps: {
  health: HealthService;
  controller: RecoveryController;
  registry: Registry;
  /** One keyed section per component that has one (hooks_data, usage_data, …). */
  sections: MetricsSection[];
}): RouteModule {
  return {
    endpoints: [
      { method: 'GET', path: '/health', description: 'Health of the bridge and of each input source; 503 when unhealthy.' },
      { method: 'GET', path: '/metrics', description: 'Unified JSON: hook activity, usage, recovery state, active alerts.' },
      { method: 'GET', path: '/prometheus', description: 'Prometheus exposition of every claude_bridge_ metric.' },
      { method: 'GET', path: '/recovery/status', description: 'Recovery state, backoff, pause and degradation details.' },
    ],
    mount(router) {
      router.get('/health', (_req, res) => {
        const report = deps.health.report();
        res.status(report.status === 'unhealthy' ? 503 : 200).json(report);
      });
      router.get('/metrics', async (_req, res) => {
        const snapshot = deps.controller.snapshot();
        const sections = await Promise.all(deps.sections.map(async (s) => [s.key, await s.read()] as const));
        res.json({
          timestamp: iso(snapshot.now),
          ...Object.fromEntries(sections),
          recovery_state: snapshot.state,
          active_alerts: describeActiveAlerts(snapshot),
        });
      });
      router.get('/prometheus', async (_req, res) => {
        const body = await deps.registry.metrics();
        res.set('Content-Type', deps.registry.contentType).send(body);
      });
      router.get('/recovery/status', (_req, res) => {
        res.json(describeRecovery(deps.controller.snapshot()));
      });
    },
  };
}
