import { readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { RULES_FILE } from '../../src/alerts/rules.js';
import { buildDashboards, renderDashboard } from '../../src/grafana/dashboards.js';
import { DATASOURCES } from '../../src/grafana/model.js';
import { readRepoFile, repoPath } from '../support/binaries.js';
import {
  catalogueMetrics,
  checkPromql,
  panelsOf,
  queriesOf,
  readDashboards,
  ruleOutputs,
  substituteVariables,
  type Json,
} from '../support/grafana.js';

const RANGES = { rateInterval: '1m', interval: '15s', range: '6h' };
/** Grafana unit ids the dashboards may use; `suffix:` custom units are allowed too. */
const KNOWN_UNITS = new Set(['none', 'short', 's', 'h', 'percentunit', 'currencyUSD', 'dateTimeAsIso', 'eps', 'ops', 'cpm']);

const dashboards = readDashboards();
const provisionedDatasources = () =>
  readdirSync(repoPath('grafana/provisioning/datasources'))
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .flatMap((f) => (parse(readRepoFile('grafana/provisioning/datasources', f)) as { datasources: { uid: string; type: string; url: string }[] }).datasources);

/** Every `datasource` reference anywhere in a dashboard. */
function datasourceRefs(node: unknown, out: { uid?: string; type?: string }[] = []): { uid?: string; type?: string }[] {
  if (Array.isArray(node)) {
    for (const item of node) datasourceRefs(item, out);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') out.push(typeof value === 'string' ? { uid: value } : (value as { uid?: string }));
      else datasourceRefs(value, out);
    }
  }
  return out;
}

describe('Grafana provisioning', () => {
  it('provisions Prometheus and Alertmanager with the fixed uids the dashboards use', () => {
    const datasources = provisionedDatasources();
    expect(datasources.map((d) => [d.type, d.uid]).sort()).toEqual(
      Object.values(DATASOURCES)
        .map((d) => [d.type, d.uid])
        .sort(),
    );
    expect(datasources.find((d) => d.type === 'prometheus')!.url).toBe('http://prometheus:9090');
    expect(datasources.find((d) => d.type === 'alertmanager')!.url).toBe('http://alertmanager:9093');
  });

  it('a file provider loads the dashboards from the folder docker-compose mounts', () => {
    const files = readdirSync(repoPath('grafana/provisioning/dashboards')).filter((f) => f.endsWith('.yml'));
    const providers = files.flatMap((f) => (parse(readRepoFile('grafana/provisioning/dashboards', f)) as { providers: Json[] }).providers);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
    const compose = parse(readRepoFile('docker-compose.yml')) as { services: { grafana: { volumes: string[] } } };
    expect(compose.services.grafana.volumes).toContain('./grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(compose.services.grafana.volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describe('Grafana dashboards', () => {
  it('the committed dashboards are what src/grafana generates (run "npm run dashboards")', () => {
    const generated = buildDashboards();
    expect(dashboards.map((d) => d.file)).toEqual([...generated.keys()].sort());
    for (const { file, text } of dashboards) expect({ file, text }).toEqual({ file, text: renderDashboard(generated.get(file)!) });
  });

  it('has the Overview, Hook activity and Usage dashboards with unique fixed uids', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^claude-bridge-[a-z-]+$/);
    expect(dashboards.map((d) => d.dashboard.title).sort()).toEqual(['Claude Code: Hook activity', 'Claude Code: Overview', 'Claude Code: Usage']);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: unique panel ids, every panel titled and with a unit', (_file, dashboard) => {
    const panels = panelsOf(dashboard);
    expect(panels.length).toBeGreaterThan(5);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.title).toBeTruthy();
      const unit = panel.fieldConfig?.defaults?.unit;
      expect({ panel: panel.title, unit: KNOWN_UNITS.has(unit) || /^suffix:.+/.test(unit ?? '') }).toEqual({ panel: panel.title, unit: true });
      expect(panel.targets.length).toBeGreaterThan(0);
    }
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: every datasource reference is a provisioned uid', (_file, dashboard) => {
    const provisioned = new Map(provisionedDatasources().map((d) => [d.uid, d.type]));
    const refs = datasourceRefs(dashboard).filter((r) => r.uid !== '-- Grafana --');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect({ ref, provisioned: provisioned.get(ref.uid ?? '') === ref.type }).toEqual({ ref, provisioned: true });
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: every query parses as PromQL and names only catalogued metrics or rule outputs',
    (_file, dashboard) => {
      const catalogue = catalogueMetrics(readRepoFile('docs/METRICS.md'));
      const fromRules = ruleOutputs(readRepoFile(RULES_FILE));
      const known = (name: string) => catalogue.names.has(name) || fromRules.has(name) || catalogue.prefixes.some((p) => name.startsWith(p));
      for (const query of queriesOf(dashboard)) {
        const expr = substituteVariables(query.expr, dashboard, RANGES);
        expect(expr).not.toMatch(/\$\w|\[\[/);
        const { errors, metrics } = checkPromql(expr);
        expect({ where: query.where, expr, errors }).toEqual({ where: query.where, expr, errors: [] });
        expect(metrics.length).toBeGreaterThan(0);
        for (const metric of metrics) expect({ where: query.where, metric, known: known(metric) }).toEqual({ where: query.where, metric, known: true });
      }
    },
  );

  it('the PromQL check itself rejects broken queries and unknown metrics', () => {
    expect(checkPromql('sum(rate(claude_bridge_tool_calls_total[5m])').errors).not.toEqual([]);
    expect(checkPromql('claude_bridge_tool_calls_total{tool=~"a"} / on (tool) x').metrics).toEqual(['claude_bridge_tool_calls_total', 'x']);
    const catalogue = catalogueMetrics(readRepoFile('docs/METRICS.md'));
    expect(catalogue.names.has('claude_bridge_tool_duration_seconds_bucket')).toBe(true);
    expect(catalogue.names.has('claude_bridge_no_such_metric')).toBe(false);
  });

  it('the Overview covers recovery state, the 5-hour ratio against its threshold, cost, burn rate, time to limit and firing alerts', () => {
    const overview = dashboards.find((d) => d.dashboard.uid === 'claude-bridge-overview')!.dashboard;
    const exprs = queriesOf(overview).map((q) => q.expr).join('\n');
    for (const needle of [
      'claude_bridge_recovery_state',
      'claude_bridge_usage_tokens_used_ratio',
      'claude_bridge:alert_threshold',
      'claude_bridge_usage_cost_usd',
      'claude_bridge_usage_burn_rate_tokens_per_second',
      'claude_bridge_usage_time_to_limit_seconds',
      'ALERTS{alertstate="firing"}',
    ]) {
      expect(exprs).toContain(needle);
    }
  });
});
