import { parseDocument } from 'yaml';

const TOKEN_BLOCK = /# >>> bearer token[\s\S]*?# <<< bearer token/;

/**
 * alertmanager.yml with its commented bearer-token block switched on, as a user would: the
 * commented YAML lines in the block lose their `# `, the prose stays a comment.
 */
export function enableBearerToken(alertmanagerYaml: string, credentialsFile?: string): string {
  const block = TOKEN_BLOCK.exec(alertmanagerYaml);
  if (!block) throw new Error('alertmanager.yml has no "# >>> bearer token … # <<< bearer token" block');
  let enabled = block[0].replace(/^(\s*)# ( *[A-Za-z_]+:.*)$/gm, '$1$2');
  if (credentialsFile) enabled = enabled.replace(/credentials_file: .*/, `credentials_file: ${credentialsFile}`);
  return alertmanagerYaml.replace(block[0], enabled);
}

type Node = { get(key: string, keepScalar?: boolean): unknown; set(key: string, value: unknown): void; has(key: string): boolean };
type Seq = { items: Node[] };

/** Every route of an Alertmanager config, the root first. */
export function routesOf(doc: ReturnType<typeof parseDocument>): Node[] {
  const out: Node[] = [];
  const visit = (route: Node | undefined) => {
    if (!route) return;
    out.push(route);
    const children = route.get('routes') as Seq | undefined;
    for (const child of children?.items ?? []) visit(child);
  };
  visit(doc.get('route') as Node);
  return out;
}

export interface AlertingOverrides {
  /** host:port of the bridge's webhook (replaces the host of every webhook URL). */
  bridgeAddress: string;
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

/** The shipped alertmanager.yml with only addresses and intervals changed. */
export function overrideAlertmanager(text: string, overrides: AlertingOverrides): string {
  const doc = parseDocument(text);
  const routes = routesOf(doc);
  const intervals = { group_wait: overrides.groupWait, group_interval: overrides.groupInterval, repeat_interval: overrides.repeatInterval };
  for (const route of routes) {
    for (const [key, value] of Object.entries(intervals)) {
      // The root sets them all; a child only where it sets its own (the others inherit).
      if (route === routes[0] || route.has(key)) route.set(key, value);
    }
  }
  const receivers = doc.get('receivers') as Seq;
  for (const receiver of receivers.items) {
    const webhooks = receiver.get('webhook_configs') as Seq | undefined;
    for (const webhook of webhooks?.items ?? []) {
      const url = new URL(String(webhook.get('url')));
      url.host = overrides.bridgeAddress;
      webhook.set('url', url.toString());
    }
  }
  return doc.toString();
}

export interface PrometheusOverrides {
  bridgeAddress: string;
  alertmanagerAddress: string;
  scrapeInterval: string;
  evaluationInterval: string;
}

/** The shipped prometheus.yml with only addresses and intervals changed (rule_files stay relative). */
export function overridePrometheus(text: string, overrides: PrometheusOverrides): string {
  const doc = parseDocument(text);
  doc.setIn(['global', 'scrape_interval'], overrides.scrapeInterval);
  doc.setIn(['global', 'evaluation_interval'], overrides.evaluationInterval);
  const alertmanagers = doc.getIn(['alerting', 'alertmanagers']) as Seq;
  for (const am of alertmanagers.items) {
    (am.get('static_configs') as Seq).items.forEach((sc) => sc.set('targets', [overrides.alertmanagerAddress]));
  }
  const scrapes = doc.get('scrape_configs') as Seq;
  const bridgeJob = scrapes.items.find((s) => s.get('job_name') === 'claude-bridge');
  if (!bridgeJob) throw new Error('prometheus.yml has no claude-bridge scrape job');
  (bridgeJob.get('static_configs') as Seq).items.forEach((sc) => sc.set('targets', [overrides.bridgeAddress]));
  return doc.toString();
}

/** The shipped rule file with every alert's for-duration shortened (nothing else changed). */
export function shortenForDurations(ruleYaml: string, forDuration: string): string {
  const doc = parseDocument(ruleYaml);
  const groups = doc.get('groups') as Seq;
  for (const group of groups.items) {
    for (const rule of (group.get('rules') as Seq).items) {
      if (rule.has('alert')) rule.set('for', forDuration);
    }
  }
  return doc.toString();
}
