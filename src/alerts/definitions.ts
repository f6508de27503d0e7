import { ALERT_INPUT_METRICS } from '../component.js';
import { DEVELOPER_LABEL, type BridgeConfig, type RecoveryAction } from '../config/schema.js';
import type { AlertDefinition, AlertType } from './types.js';

/** The highest value per developer: in a team's Prometheus each alert names whose bridge it is for. */
const perDeveloperMax = (selector: string) => `max by (${DEVELOPER_LABEL}) (${selector})`;

export const ALERT_DEFINITIONS: readonly AlertDefinition[] = [
  {
    type: 'rate_limit',
    alertname: 'ClaudeBridgeRateLimitNear',
    measures: () => 'share of the rate limit used, highest window (official status line figure when fresh)',
    valueExpr: () => perDeveloperMax(ALERT_INPUT_METRICS.rateLimitUsedRatio),
    threshold: (a) => a.rate_limit_threshold,
    unit: 'ratio',
    forSeconds: (a) => a.for_seconds.rate_limit,
    action: (c) => c.recovery.rate_limit,
    severity: 'critical',
    read: (s) => s.rateLimitUsedRatio,
  },
  {
    type: 'time_limit',
    alertname: 'ClaudeBridgeSessionTimeLimit',
    measures: () => 'hours elapsed in the current 5-hour usage block',
    valueExpr: () => `${perDeveloperMax(ALERT_INPUT_METRICS.sessionSeconds)} / 3600`,
    threshold: (a) => a.time_threshold,
    unit: 'hours',
    forSeconds: (a) => a.for_seconds.time_limit,
    action: (c) => c.recovery.time_limit,
    severity: 'warning',
    read: (s) => (s.sessionSeconds === undefined ? undefined : s.sessionSeconds / 3600),
  },
  {
    type: 'token_threshold',
    alertname: 'ClaudeBridgeTokenThreshold',
    measures: () => "share of the 5-hour block's token limit used",
    valueExpr: () => perDeveloperMax(ALERT_INPUT_METRICS.tokensUsedRatio),
    threshold: (a) => a.token_threshold,
    unit: 'ratio',
    forSeconds: (a) => a.for_seconds.token_threshold,
    action: (c) => c.recovery.token_limit,
    severity: 'warning',
    read: (s) => s.tokensUsedRatio,
  },
  {
    type: 'cost_threshold',
    alertname: 'ClaudeBridgeCostThreshold',
    measures: (c) => (c.usage.cost_scope === 'day' ? "today's cost in USD" : 'cost in USD of the active 5-hour block'),
    valueExpr: (c) => perDeveloperMax(`${ALERT_INPUT_METRICS.costUsd}{scope="${c.usage.cost_scope}"}`),
    threshold: (a) => a.cost_threshold,
    unit: 'usd',
    forSeconds: (a) => a.for_seconds.cost_threshold,
    action: (c) => c.recovery.cost_limit,
    severity: 'warning',
    read: (s) => s.costUsd,
  },
];

/** The recovery action an alert type triggers under this config. */
export function actionFor(type: AlertType, config: BridgeConfig): RecoveryAction {
  const definition = ALERT_DEFINITIONS.find((d) => d.type === type);
  return definition ? definition.action(config) : 'notify';
}

/** Short label values Alertmanager routes on (`action="backoff"` etc.). */
export const ACTION_LABELS: Record<RecoveryAction, string> = {
  exponential_backoff: 'backoff',
  session_pause: 'pause',
  graceful_degradation: 'degrade',
  notify: 'notify',
};

export function definitionByAlertname(alertname: string): AlertDefinition | undefined {
  return ALERT_DEFINITIONS.find((d) => d.alertname === alertname);
}
