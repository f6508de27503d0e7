import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ACTION_LABELS, ALERT_DEFINITIONS } from '../../src/alerts/definitions.js';
import {
  ALERT_GROUP,
  RECORDED_SERIES,
  RULES_FILE,
  buildRuleGroups,
  renderRuleFile,
  type AlertingRule,
  type RecordingRule,
} from '../../src/alerts/rules.js';
import type { CliIO } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/index.js';
import { describeWithBinaries, readRepoFile, repoPath, run, REPO_ROOT } from '../support/binaries.js';
import { testConfig } from '../support/config.js';

const shippedConfig = () => loadConfig({ configPath: repoPath('config.yaml') }, {}, REPO_ROOT).config;

function alertingRules(config = testConfig()): AlertingRule[] {
  return buildRuleGroups(config).find((g) => g.name === ALERT_GROUP)!.rules as AlertingRule[];
}

function captureIO(cwd: string): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env: {},
    cwd,
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

describe('generated Prometheus rules', () => {
  it('the committed rule file is exactly what the generator makes from config.yaml (run "npm run rules")', () => {
    expect(readRepoFile(RULES_FILE)).toBe(renderRuleFile(shippedConfig()));
  });

  it('has one alerting rule per alert definition, each carrying its threshold, for-duration, action and severity', () => {
    const config = testConfig({
      alerts: { rate_limit_threshold: 0.75, cost_threshold: 12.5, for_seconds: { rate_limit: 1.5, cost_threshold: 0 } },
      recovery: { rate_limit: 'session_pause', token_limit: 'graceful_degradation' },
      usage: { cost_scope: 'block' },
    });
    const rules = alertingRules(config);
    expect(rules.map((r) => r.alert)).toEqual(ALERT_DEFINITIONS.map((d) => d.alertname));
    const byType = Object.fromEntries(rules.map((r) => [r.labels.alert_type, r]));
    expect(byType.rate_limit).toMatchObject({
      expr: 'max by (developer) (claude_bridge_rate_limit_used_ratio) >= 0.75',
      for: '1500ms',
      labels: { action: 'pause', alert_type: 'rate_limit', severity: 'critical' },
    });
    expect(byType.cost_threshold).toMatchObject({
      expr: 'max by (developer) (claude_bridge_usage_cost_usd{scope="block"}) >= 12.5',
      for: '0s',
      labels: { action: 'degrade', alert_type: 'cost_threshold' },
    });
    expect(byType.token_threshold!.labels.action).toBe('degrade');
    expect(byType.time_limit!.expr).toBe('max by (developer) (claude_bridge_usage_session_duration_seconds) / 3600 >= 4.5');
    for (const rule of rules) {
      expect(Object.keys(rule.labels).sort()).toEqual(['action', 'alert_type', 'severity']);
      expect(Object.values(ACTION_LABELS)).toContain(rule.labels.action);
    }
  });

  it('annotations state the value (formatted per unit) and the threshold', () => {
    const byType: Record<string, AlertingRule['annotations']> = Object.fromEntries(
      alertingRules(shippedConfig()).map((r) => [r.labels.alert_type, r.annotations]),
    );
    expect(byType.rate_limit!.summary).toBe('rate_limit at {{ $value | humanizePercentage }} (threshold 90%)');
    expect(byType.time_limit!.summary).toBe('time_limit at {{ printf "%.2f" $value }} h (threshold 4.50 h)');
    expect(byType.cost_threshold!.summary).toBe('cost_threshold at ${{ printf "%.2f" $value }} (threshold $50.00)');
    for (const annotations of Object.values(byType)) {
      expect(annotations.description).toMatch(/\{\{ .*\$value.* \}\}.*threshold of .* for \d+m?s\. Recovery action: \w+\.$/);
    }
  });

  it('a value expression with a comparison or set operator is parenthesised before the threshold', () => {
    const definition = { ...ALERT_DEFINITIONS[0]!, valueExpr: () => 'a or b{x=">"}' };
    const rules = buildRuleGroups(testConfig(), [definition]).find((g) => g.name === ALERT_GROUP)!.rules as AlertingRule[];
    expect(rules[0]!.expr).toBe('(a or b{x=">"}) >= 0.9');
  });

  it('records each alert value and threshold for the dashboards; colons only in recording rules', () => {
    const groups = buildRuleGroups(testConfig());
    const recording = groups.flatMap((g) => g.rules).filter((r): r is RecordingRule => 'record' in r);
    expect(new Set(recording.map((r) => r.record))).toEqual(new Set(Object.values(RECORDED_SERIES)));
    expect(recording.filter((r) => r.record === RECORDED_SERIES.alertThreshold).map((r) => [r.labels.alert_type, r.expr])).toEqual(
      ALERT_DEFINITIONS.map((d) => [d.type, `vector(${d.threshold(testConfig().alerts)})`]),
    );
    for (const rule of groups.flatMap((g) => g.rules)) {
      if ('alert' in rule) expect(rule.alert).not.toContain(':');
    }
  });

  it('the committed file parses as YAML without anchors or aliases', () => {
    const text = readRepoFile(RULES_FILE);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text).groups).toHaveLength(2);
  });
});

describe('claude-bridge rules', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-rules-'));

  it('prints the rules for a config, writes them with --out, and --check compares', async () => {
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, 'alerts:\n  token_threshold: 0.5\n');
    const printed = captureIO(dir);
    expect(await main(['rules', '--config', config], printed)).toBe(0);
    expect(printed.out).toContain('max by (developer) (claude_bridge_usage_tokens_used_ratio) >= 0.5');

    const out = path.join(dir, 'rules', 'claude-bridge.yml');
    expect(await main(['rules', '--config', config, '--out', out], captureIO(dir))).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(printed.out);

    const upToDate = captureIO(dir);
    expect(await main(['rules', '--config', config, '--out', out, '--check'], upToDate)).toBe(0);
    expect(upToDate.out).toContain('up to date');

    writeFileSync(config, 'alerts:\n  token_threshold: 0.6\n');
    const stale = captureIO(dir);
    expect(await main(['rules', '--config', config, '--out', out, '--check'], stale)).toBe(1);
    expect(stale.err).toMatch(/differs from the generated rules \(line \d+: has .*0\.5.*expected .*0\.6/);
    expect(readFileSync(out, 'utf8')).toBe(printed.out); // --check never writes
  });

  it('--check on a missing file fails; --check without --out is a usage error; a bad config exits 1', async () => {
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    const missing = captureIO(dir);
    expect(await main(['rules', '--out', path.join(dir, 'empty', 'none.yml'), '--check'], missing)).toBe(1);
    expect(missing.err).toContain('does not exist');

    const usage = captureIO(dir);
    expect(await main(['rules', '--check'], usage)).toBe(2);
    expect(usage.err).toContain('--check needs --out');

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'alerts:\n  token_threshold: 2\n');
    const invalid = captureIO(dir);
    expect(await main(['rules', '--config', bad], invalid)).toBe(1);
    expect(invalid.err).toContain('alerts.token_threshold');
  });

  it('the committed file passes --check against config.yaml', async () => {
    const io = captureIO(REPO_ROOT);
    expect(await main(['rules', '--config', 'config.yaml', '--out', RULES_FILE, '--check'], io)).toBe(0);
  });
});

describeWithBinaries(['promtool'], 'promtool on the shipped Prometheus files', () => {
  it('promtool check config accepts prometheus/prometheus.yml and the rules it loads', () => {
    const result = run('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`rules found`);
  });

  it('promtool check rules accepts the generated rules', () => {
    const result = run('promtool', ['check', 'rules', RULES_FILE]);
    expect(result.stderr + result.stdout).toContain(`SUCCESS: ${ALERT_DEFINITIONS.length * 3} rules found`);
    expect(result.status).toBe(0);
  });

  it('promtool test rules: every alert fires at its threshold after its for-duration and stays silent below', () => {
    const result = run('promtool', ['test', 'rules', 'prometheus/tests/claude-bridge.test.yml']);
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('the promtool tests cover every alert, firing and silent', () => {
    const tests = parse(readRepoFile('prometheus/tests/claude-bridge.test.yml')) as {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    expect(tests.rule_files).toEqual([`../rules/${path.basename(RULES_FILE)}`]);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const definition of ALERT_DEFINITIONS) {
      const mine = cases.filter((c) => c.alertname === definition.alertname);
      expect({ alert: definition.alertname, fires: mine.some((c) => c.exp_alerts.length > 0) }).toEqual({ alert: definition.alertname, fires: true });
      expect({ alert: definition.alertname, silent: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({ alert: definition.alertname, silent: true });
    }
  });

  it('the promtool tests fail against rules with another threshold (they do test something)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-promtool-'));
    mkdirSync(path.join(dir, 'rules'));
    mkdirSync(path.join(dir, 'tests'));
    const looser = shippedConfig();
    looser.alerts.rate_limit_threshold = 0.91;
    writeFileSync(path.join(dir, 'rules', path.basename(RULES_FILE)), renderRuleFile(looser));
    writeFileSync(path.join(dir, 'tests', 'claude-bridge.test.yml'), readRepoFile('prometheus/tests/claude-bridge.test.yml'));
    const result = run('promtool', ['test', 'rules', path.join(dir, 'tests', 'claude-bridge.test.yml')]);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('ClaudeBridgeRateLimitNear');
  });
});
