import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import type { MetricsSection, RouteModule } from '../component.js';
import type { BridgeConfig } from '../config/schema.js';
import type { HealthService } from '../health.js';
import type { RecoveryController } from '../recovery/controller.js';
import { HttpError } from '../util/errors.js';
import { describeRecovery } from './routes-core.js';

export interface StatusDeps {
  config: BridgeConfig;
  health: HealthService;
  controller: RecoveryController;
  sections: MetricsSection[];
}

/**
 * Everything the status page and `claude-bridge status` show, in one answer: the recovery state,
 * each source's health, every component's `/metrics` section (usage, hooks, sessions) and the
 * thresholds the figures are compared with.
 */
export async function statusSummary(deps: StatusDeps) {
  const snapshot = deps.controller.snapshot();
  const sections = await Promise.all(deps.sections.map(async (s) => [s.key, await s.read()] as const));
  const health = deps.health.report();
  const { alerts, usage } = deps.config;
  return {
    timestamp: new Date(snapshot.now).toISOString(),
    recovery: describeRecovery(snapshot),
    health: { status: health.status, sources: health.sources },
    auth_required: Boolean(deps.config.auth.token),
    thresholds: {
      cost_usd: alerts.cost_threshold,
      cost_scope: usage.cost_scope,
      tokens_used_ratio: alerts.token_threshold,
      rate_limit_used_ratio: alerts.rate_limit_threshold,
    },
    ...Object.fromEntries(sections),
  };
}

export type StatusSummary = Awaited<ReturnType<typeof statusSummary>>;

/** `GET /status` (the summary as JSON) and the page itself, `GET /` for browsers (`Accept: text/html`). */
export function statusPageRoutes(deps: StatusDeps): RouteModule {
  return {
    endpoints: [
      { method: 'GET', path: '/status', description: 'One summary for the status page and `claude-bridge status`: recovery, health, usage, sessions, thresholds.' },
      { method: 'GET', path: '/', description: 'The status page for browsers (Accept: text/html); this listing for API clients.' },
    ],
    mount(router) {
      router.get('/status', async (_req, res) => {
        res.json(await statusSummary(deps));
      });
    },
  };
}

/** Serves the page to a browser asking for HTML; anything else goes on to the JSON listing. */
export function statusPageHandler(): RequestHandler {
  return (req, res, next) => {
    if (req.accepts(['json', 'html']) !== 'html') return next();
    res.type('html');
    res.set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': PAGE_POLICY, 'X-Frame-Options': 'DENY' });
    res.send(statusPage());
  };
}

/** The page inlines its script and style and loads nothing else; no frame may embed it. */
const PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'";

let cached: string | null = null;

/** The page `npm run build` writes (scripts/build-ui.mjs): next to this module in dist, or in dist when run from src. */
export function statusPage(): string {
  if (cached !== null) return cached;
  const candidates = ['../ui/status-page.html', '../../dist/ui/status-page.html'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new HttpError(503, 'the status page is not built: run `npm run build`');
  cached = readFileSync(found, 'utf8');
  return cached;
}
