import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { repoPath } from './binaries.js';

export const DASHBOARD_DIR = repoPath('grafana', 'dashboards');

export type Json = Record<string, any>;

export interface DashboardFile {
  file: string;
  text: string;
  dashboard: Json;
}

export function readDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(DASHBOARD_DIR, file), 'utf8');
      return { file, text, dashboard: JSON.parse(text) as Json };
    });
}

/** Every panel, including those nested in collapsed rows. */
export function panelsOf(dashboard: Json): Json[] {
  return (dashboard.panels ?? []).flatMap((p: Json) => [p, ...(p.panels ?? [])]);
}

export interface DashboardQuery {
  dashboard: string;
  where: string;
  expr: string;
  /** A Grafana `label_values(metric, label)` variable query rather than PromQL. */
  labelValues?: { metric: string; label: string };
}

/** Every Prometheus query a dashboard runs: panel targets, annotations, variables. */
export function queriesOf(dashboard: Json): DashboardQuery[] {
  const title = String(dashboard.title);
  const queries: DashboardQuery[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      queries.push({ dashboard: title, where: `panel "${panel.title}" ${target.refId}`, expr: target.expr });
    }
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    if (annotation.expr) queries.push({ dashboard: title, where: `annotation "${annotation.name}"`, expr: annotation.expr });
  }
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const labelValues = /^label_values\(\s*([^,\s]+)\s*,\s*(\w+)\s*\)$/.exec(query ?? '');
    if (labelValues) {
      queries.push({ dashboard: title, where: `variable $${variable.name}`, expr: labelValues[1]!, labelValues: { metric: labelValues[1]!, label: labelValues[2]! } });
    } else if (query) {
      queries.push({ dashboard: title, where: `variable $${variable.name}`, expr: query });
    }
  }
  return queries;
}

export interface GrafanaRanges {
  rateInterval: string;
  interval: string;
  range: string;
}

/**
 * The query as Prometheus receives it: Grafana's built-ins and the dashboard's variables filled in
 * (All, unless `values` picks a value, as a regex: `a|b` for several).
 */
export function substituteVariables(expr: string, dashboard: Json, ranges: GrafanaRanges, values: Record<string, string> = {}): string {
  let result = expr
    .replaceAll('$__rate_interval', ranges.rateInterval)
    .replaceAll('${__rate_interval}', ranges.rateInterval)
    .replaceAll('$__interval', ranges.interval)
    .replaceAll('${__interval}', ranges.interval)
    .replaceAll('$__range', ranges.range)
    .replaceAll('${__range}', ranges.range);
  for (const variable of dashboard.templating?.list ?? []) {
    const value = values[variable.name] ?? (variable.includeAll ? (variable.allValue ?? '.*') : String(variable.current?.value ?? ''));
    result = result.replaceAll(`\${${variable.name}}`, value).replaceAll(`$${variable.name}`, value);
  }
  return result;
}

export interface PromqlCheck {
  errors: string[];
  metrics: string[];
  /** Each vector selector as written, e.g. `up{job="x"}`. */
  selectors: string[];
}

/** Parses PromQL with Prometheus' own (lezer) grammar; returns syntax errors and metric names. */
export function checkPromql(expr: string): PromqlCheck {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics: string[] = [];
  const selectors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 10), node.to + 10))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
      if (node.name === 'VectorSelector') selectors.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics, selectors };
}

/**
 * The metric names the bridge exports (docs/METRICS.md, the contract): exact names, and
 * prefixes for `name_*` rows. A histogram also exports `_bucket`, `_sum` and `_count`.
 */
export function catalogueMetrics(markdown: string): { names: Set<string>; prefixes: string[] } {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const line of markdown.split('\n')) {
    const row = /^\|\s*(claude_bridge_[^|]+?)\s*\|\s*([a-z]+)?/.exec(line);
    if (!row) continue;
    for (const name of row[1]!.split(',').map((n) => n.trim())) {
      if (name.endsWith('*')) {
        prefixes.push(name.slice(0, -1));
      } else {
        names.add(name);
        if (row[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      }
    }
  }
  return { names, prefixes };
}

/** Names the rule file creates: recorded series, and Prometheus' ALERTS series for alerting rules. */
export function ruleOutputs(ruleYaml: string): Set<string> {
  const doc = parse(ruleYaml) as { groups: { rules: { record?: string; alert?: string }[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  const names = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  if (rules.some((r) => r.alert)) {
    names.add('ALERTS');
    names.add('ALERTS_FOR_STATE');
  }
  return names;
}
