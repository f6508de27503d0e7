import { z } from 'zod';
import { ACTION_LABELS, ALERT_DEFINITIONS, definitionByAlertname } from '../alerts/definitions.js';
import { isAlertType, type AlertType } from '../alerts/types.js';
import type { BridgeConfig } from '../config/schema.js';
import type { RecoveryController } from '../recovery/controller.js';
import { type Logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { HttpError } from '../util/errors.js';
import type { RouteModule } from '../component.js';
import { isJsonObject } from '../util/json.js';
import { truncate } from '../util/text.js';
import { MAX_ORIGIN_KEY_LENGTH } from '../recovery/types.js';

export const ALERTMANAGER_WEBHOOK_PATH = '/alertmanager/webhook';

/** Alertmanager caps a group's notice with max_alerts; this bounds what one request can do. */
const MAX_ALERTS_PER_PAYLOAD = 1000;
/** Resolved alert instances remembered, so a firing notice that arrives after its resolve is ignored. */
const REMEMBERED_RESOLVES = 1000;

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

/** The envelope; each alert in it is checked on its own, so one bad alert does not drop the others. */
export const webhookPayload = z
  .object({
    version: z.literal('4', { error: 'version must be "4" (Alertmanager webhook payload version 4)' }),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().optional(),
    groupKey: z.string().optional(),
    alerts: z.array(z.unknown()).max(MAX_ALERTS_PER_PAYLOAD),
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

/** Per payload: an alert type escalates the backoff once, however many of its alerts the notice holds. */
interface PayloadContext {
  escalated: Set<AlertType>;
  resolved: ResolvedInstances;
}

/** Alert instances (fingerprint + start) seen resolved, oldest forgotten first. */
class ResolvedInstances {
  private readonly seen = new Set<string>();
  add(alert: WebhookAlert): void {
    this.seen.add(instanceKey(alert));
    if (this.seen.size > REMEMBERED_RESOLVES) this.seen.delete(this.seen.values().next().value as string);
  }
  has(alert: WebhookAlert): boolean {
    return this.seen.has(instanceKey(alert));
  }
}

const instanceKey = (alert: WebhookAlert) => `${truncate(alert.fingerprint, MAX_ORIGIN_KEY_LENGTH)}@${Date.parse(alert.startsAt)}`;

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
      const resolved = new ResolvedInstances();
      router.post(ALERTMANAGER_WEBHOOK_PATH, guard, json, (req, res) => {
        const payload = parsePayload(req.body);
        if (config.alerting.mode === 'embedded') {
          logger.warn('Alertmanager notice ignored: alerting.mode is "embedded"', { alerts: payload.alerts.length });
        }
        const context: PayloadContext = { escalated: new Set(), resolved };
        const parsed = payload.alerts.map((raw) => ({ raw, alert: webhookAlert.safeParse(raw) }));
        if (parsed.length > 0 && parsed.every((p) => !p.alert.success)) {
          throw new HttpError(400, `not an Alertmanager webhook payload: ${parsed.map((p, i) => invalidAlert(p.raw, p.alert.error!, i).reason).join('; ')}`);
        }
        // Valid alerts are applied even when others in the notice are not (a 4xx would drop them for good).
        const outcomes = parsed.map(({ raw, alert }, i) =>
          alert.success ? applyAlert(alert.data, controller, config, logger, context) : invalidAlert(raw, alert.error, i),
        );
        if (outcomes.some((o) => o.result === 'applied') && controller.persistenceError() !== null) {
          // Alertmanager retries on 5xx, and re-applying what did get through is a no-op.
          throw new HttpError(503, 'the notice is applied but could not be saved yet (see GET /health); retry later');
        }
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

function invalidAlert(raw: unknown, error: z.ZodError, index: number): AlertOutcome {
  const fields = isJsonObject(raw) ? raw : {};
  const labels = isJsonObject(fields.labels) ? fields.labels : {};
  return {
    fingerprint: typeof fields.fingerprint === 'string' ? fields.fingerprint.slice(0, 64) : '',
    alertname: typeof labels.alertname === 'string' ? labels.alertname.slice(0, 200) : null,
    status: fields.status === 'resolved' ? 'resolved' : 'firing',
    alert_type: null,
    result: 'ignored',
    reason: `invalid alert: ${error.issues.map((i) => `${['alerts', index, ...i.path].join('.')}: ${i.message}`).join('; ')}`,
  };
}

function applyAlert(alert: WebhookAlert, controller: RecoveryController, config: BridgeConfig, logger: Logger, context: PayloadContext): AlertOutcome {
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
  if (alert.status === 'firing' && context.resolved.has(alert)) {
    return { ...base, result: 'ignored', reason: 'this alert was resolved already: a firing notice that arrived after its resolve' };
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
            escalate: !context.escalated.has(type),
          })
        : controller.resolve({ type, origin: 'alertmanager', key: alert.fingerprint });
    if (alert.status === 'resolved') context.resolved.add(alert);
    if (change.changed && alert.status === 'firing') context.escalated.add(type);
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
