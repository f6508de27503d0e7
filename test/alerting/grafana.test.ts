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
/** Series Prometheus itself writes per scrape target (the team dashboard reads them). */
const PER_TARGET_SERIES = new Set(['up', 'scrape_samples_scraped']);
const DEVELOPER_MARK = 'DEVELOPER_MARK';

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

  it('has the Overview, Hook activity, Usage and Team dashboards with unique fixed uids', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^claude-bridge-[a-z-]+$/);
    expect(dashboards.map((d) => d.dashboard.title).sort()).toEqual([
      'Claude Code: Hook activity',
      'Claude Code: Overview',
      'Claude Code: Team',
      'Claude Code: Usage',
    ]);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: a developer variable (All or several, from the bridges\' developer label)', (_file, dashboard) => {
    const variable = dashboard.templating.list[0];
    expect(variable).toMatchObject({ name: 'developer', type: 'query', includeAll: true, multi: true, allValue: '.*', current: { value: ['$__all'] } });
    expect(queriesOf(dashboard).find((q) => q.where === 'variable $developer')?.labelValues).toEqual({ metric: 'claude_bridge_build_info', label: 'developer' });
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: every selector of every panel and annotation query is filtered by $developer', (_file, dashboard) => {
    const queries = queriesOf(dashboard).filter((q) => !q.where.startsWith('variable'));
    expect(queries.length).toBeGreaterThan(5);
    for (const query of queries) {
      const { selectors } = checkPromql(substituteVariables(query.expr, dashboard, RANGES, { developer: DEVELOPER_MARK }));
      expect(selectors.length).toBeGreaterThan(0);
      for (const selector of selectors) {
        expect({ where: query.where, selector, filtered: selector.includes(`developer=~"${DEVELOPER_MARK}"`) }).toEqual({ where: query.where, selector, filtered: true });
      }
    }
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
      const known = (name: string) =>
        catalogue.names.has(name) || fromRules.has(name) || PER_TARGET_SERIES.has(name) || catalogue.prefixes.some((p) => name.startsWith(p));
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
      'ALERTS{developer=~"$developer", alertstate="firing"}',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  it('the Team dashboard shows per developer: scrape up, recovery state, block tokens, cost today, burn rate and firing alerts', () => {
    const team = dashboards.find((d) => d.dashboard.uid === 'claude-bridge-team')!.dashboard;
    const table = panelsOf(team).find((p) => p.title === 'Developers')!;
    const exprs: string[] = table.targets.map((t: Json) => t.expr);
    for (const expr of exprs) expect(expr).toMatch(/ by \(developer(, state)?\) /);
    for (const needle of [
      'up{',
      'claude_bridge_recovery_state{',
      'claude_bridge_usage_block_tokens{',
      'claude_bridge_usage_cost_usd{developer=~"$developer", scope="day"}',
      'claude_bridge_usage_burn_rate_tokens_per_second{',
      'ALERTS{developer=~"$developer", alertstate="firing"}',
    ]) {
      expect(exprs.some((e) => e.includes(needle))).toBe(true);
    }
    expect(panelsOf(team).find((p) => p.type === 'state-timeline')!.targets[0].legendFormat).toBe('{{developer}}');
  });
});
