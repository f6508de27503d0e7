import { z } from 'zod';
import { ACTION_LABELS, ALERT_DEFINITIONS, definitionByAlertname } from '../alerts/definitions.js';
import { isAlertType, type AlertType } from '../alerts/types.js';
import type { BridgeConfig } from '../config/schema.js';
import type { RecoveryController } from '../recovery/controller.js';
import { type Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { HttpError } from '../util/errors.js';
import type { RouteModule } from '../component.js';

export const ALERTMANAGER_WEBHOOK_PATH = '/alertmanager/webhook';

const timestamp = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'expected an RFC 3339 time');

/** Alertmanager's webhook body, version 4. Unknown fields are kept out of the way, not refused. */
const webhookAlert = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).optional(),
    startsAt: timestamp,
    // A firing alert's endsAt is the zero time 0001-01-01T00:00:00Z; it is not used.
    endsAt: z.string().optional(),
    generatorURL: z.string().optional(),
    fingerprint: z.string().min(1),
  })
  .loose();

export const webhookPayload = z
  .object({
    version: z.literal('4', { error: 'version must be "4" (Alertmanager webhook payload version 4)' }),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().optional(),
    groupKey: z.string().optional(),
    alerts: z.array(webhookAlert),
  })
  .loose();

export type WebhookAlert = z.infer<typeof webhookAlert>;

export interface AlertOutcome {
  fingerprint: string;
  alertname: string | null;
  status: 'firing' | 'resolved';
  alert_type: AlertType | null;
  /** applied: the controller changed; unchanged: already known (a re-send); ignored: see reason. */
  result: 'applied' | 'unchanged' | 'ignored';
  reason?: string;
}

/**
 * `POST /alertmanager/webhook`: Alertmanager's notices drive the recovery controller. Each alert
 * is keyed by its fingerprint, so re-sends (repeat_interval, retries) change nothing.
 */
export function alertmanagerRoutes(controller: RecoveryController, config: BridgeConfig): RouteModule {
  return {
    endpoints: [
      {
        method: 'POST',
        path: ALERTMANAGER_WEBHOOK_PATH,
        description: 'Alertmanager webhook receiver (payload version 4): firing and resolved alerts drive the recovery controller.',
        mutating: true,
      },
    ],
    mount(router, { guard, json, logger }) {
      router.post(ALERTMANAGER_WEBHOOK_PATH, guard, json, (req, res) => {
        const payload = parsePayload(req.body);
        if (config.alerting.mode === 'embedded') {
          logger.warn('Alertmanager notice ignored: alerting.mode is "embedded"', { alerts: payload.alerts.length });
        }
        const outcomes = payload.alerts.map((alert) => applyAlert(alert, controller, config, logger));
        logger.info('alertmanager notification', {
          receiver: payload.receiver,
          status: payload.status,
          alerts: outcomes.map((o) => `${o.alertname ?? o.fingerprint} ${o.status}: ${o.result}`),
        });
        res.json({ status: payload.status, alerts: outcomes });
      });
    },
  };
}

function parsePayload(body: unknown) {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new HttpError(400, 'expected a JSON body (Content-Type: application/json) with an Alertmanager webhook payload');
  }
  const parsed = webhookPayload.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new HttpError(400, `not an Alertmanager webhook payload: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function applyAlert(alert: WebhookAlert, controller: RecoveryController, config: BridgeConfig, logger: Logger): AlertOutcome {
  const type = alertTypeOf(alert.labels, config);
  const base = {
    fingerprint: alert.fingerprint,
    alertname: alert.labels.alertname ?? null,
    status: alert.status,
    alert_type: type,
  };
  if (config.alerting.mode === 'embedded') {
    return {
      ...base,
      result: 'ignored',
      reason: 'alerting.mode is "embedded": set it to "alertmanager" or "both" to act on Alertmanager notices',
    };
  }
  if (type === null) {
    return { ...base, result: 'ignored', reason: 'no alert_type label, known alertname or recovery action label' };
  }
  try {
    const change =
      alert.status === 'firing'
        ? controller.fire({
            type,
            origin: 'alertmanager',
            key: alert.fingerprint,
            startedAt: Date.parse(alert.startsAt),
            summary: alert.annotations?.summary ?? alert.labels.alertname ?? type,
          })
        : controller.resolve({ type, origin: 'alertmanager', key: alert.fingerprint });
    return { ...base, result: change.changed ? 'applied' : 'unchanged' };
  } catch (error) {
    // Alertmanager retries on 5xx, and re-applying what did get through is a no-op.
    logger.error('could not apply an Alertmanager notice', { fingerprint: alert.fingerprint, error: errorMessage(error) });
    throw new HttpError(503, 'the recovery controller could not apply the notice; retry later');
  }
}

/**
 * Which of the bridge's alerts a notice is about: the generated rules label it `alert_type`;
 * other rules are recognised by alertname, or else by their recovery action label, mapped to the
 * alert whose configured action it is (first in table order: backoff → rate_limit, pause →
 * time_limit, degrade → cost_threshold under the default config).
 */
export function alertTypeOf(labels: Record<string, string>, config: BridgeConfig): AlertType | null {
  const labelled = labels.alert_type;
  if (labelled !== undefined && isAlertType(labelled)) return labelled;
  const byName = labels.alertname === undefined ? undefined : definitionByAlertname(labels.alertname);
  if (byName) return byName.type;
  const action = labels.action;
  if (action === undefined || action === ACTION_LABELS.notify) return null;
  return ALERT_DEFINITIONS.find((d) => ACTION_LABELS[d.action(config)] === action)?.type ?? null;
}
