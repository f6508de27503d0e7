import { z } from 'zod';
import { ALERT_TYPES, isAlertType } from '../alerts/types.js';
import type { RecoveryController } from '../recovery/controller.js';
import { MAX_PAUSE_AHEAD_MS, type ChangeResult } from '../recovery/types.js';
import { describeRecovery } from './routes-core.js';
import { HttpError } from '../util/errors.js';
import type { RouteModule } from '../component.js';

const triggerBody = z
  .object({
    summary: z.string().max(500).optional(),
    /** When the usage window resets: ISO time or Unix seconds. A pause resumes then. */
    resets_at: z.union([z.iso.datetime({ offset: true }), z.number().positive()]).optional(),
  })
  .loose();

const TRUE_VALUES = new Set(['1', 'true', 'yes']);

export function recoveryRoutes(controller: RecoveryController): RouteModule {
  return {
    endpoints: [
      {
        method: 'POST',
        path: '/alerts/:alert_type',
        description: `Fire an alert by hand (${ALERT_TYPES.join(', ')}); ?resolve=1 resolves it.`,
        mutating: true,
      },
      { method: 'POST', path: '/recovery/resume', description: 'Return to normal now: clears alerts, pause and backoff.', mutating: true },
    ],
    mount(router, { guard, json }) {
      router.post('/alerts/:alert_type', guard, json, (req, res) => {
        const type = String(req.params.alert_type);
        if (!isAlertType(type)) {
          throw new HttpError(404, `unknown alert type "${type}"`, { valid_alert_types: [...ALERT_TYPES] });
        }
        const body = triggerBody.safeParse(req.body ?? {});
        if (!body.success) {
          throw new HttpError(400, `invalid body: ${body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
        }
        const resetsAt = body.data.resets_at === undefined ? undefined : toMs(body.data.resets_at);
        const now = controller.snapshot().now;
        if (resetsAt !== undefined && !(resetsAt > now && resetsAt - now <= MAX_PAUSE_AHEAD_MS)) {
          throw new HttpError(400, 'invalid body: resets_at must lie ahead, at most 8 days (the longest usage window is 7 days)');
        }
        const resolve = TRUE_VALUES.has(typeof req.query.resolve === 'string' ? req.query.resolve.toLowerCase() : '') || req.query.status === 'resolved';
        const result = resolve
          ? controller.resolve({ type })
          : controller.fire({
              type,
              origin: 'manual',
              summary: body.data.summary ?? `manual trigger of ${type}`,
              ...(resetsAt !== undefined ? { resetsAt } : {}),
            });
        requireDurable(result);
        res.json({ alert: type, status: resolve ? 'resolved' : 'firing', changed: result.changed, recovery: describeRecovery(result.snapshot) });
      });
      router.post('/recovery/resume', guard, (_req, res) => {
        const result = controller.resume('manual resume (POST /recovery/resume)');
        requireDurable(result);
        res.json({ resumed: true, recovery: describeRecovery(result.snapshot) });
      });
    },
  };
}

/** A 2xx says the change survives a restart: when it could not be saved, answer 503 (it is retried). */
export function requireDurable(result: ChangeResult): void {
  if (!result.durable) throw new HttpError(503, 'the change is applied but could not be saved yet (see GET /health); retry later');
}

function toMs(value: string | number): number {
  return typeof value === 'number' ? value * 1000 : Date.parse(value);
}
