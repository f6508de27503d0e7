import { z } from 'zod';
import { ALERT_TYPES, isAlertType } from '../alerts/types.js';
import type { RecoveryController } from '../recovery/controller.js';
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
        const resolve = TRUE_VALUES.has(typeof req.query.resolve === 'string' ? req.query.resolve.toLowerCase() : '') || req.query.status === 'resolved';
        const result = resolve
          ? controller.resolve({ type })
          : controller.fire({
              type,
              origin: 'manual',
              summary: body.data.summary ?? `manual trigger of ${type}`,
              ...(body.data.resets_at !== undefined ? { resetsAt: toMs(body.data.resets_at) } : {}),
            });
        res.json({ alert: type, status: resolve ? 'resolved' : 'firing', changed: result.changed, recovery: describeRecovery(result.snapshot) });
      });
      router.post('/recovery/resume', guard, (_req, res) => {
        const result = controller.resume('manual resume (POST /recovery/resume)');
        res.json({ resumed: true, recovery: describeRecovery(result.snapshot) });
      });
    },
  };
}

function toMs(value: string | number): number {
  return typeof value === 'number' ? value * 1000 : Date.parse(value);
}
