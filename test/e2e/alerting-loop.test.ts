/**
 * The whole loop with the real binaries on loopback, using the repo's own prometheus.yml,
 * alertmanager.yml (its bearer-token block switched on) and generated rules, with only addresses
 * and intervals changed: status line over the threshold → Prometheus alert → Alertmanager →
 * webhook → backoff → a held PreToolUse hook → status line back down → resolved → normal. Then
 * every dashboard query runs against that Prometheus.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALERT_DEFINITIONS } from '../../src/alerts/definitions.js';
import { RULES_FILE } from '../../src/alerts/rules.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { usageComponent } from '../../src/sources/usage/index.js';
import { systemClock } from '../../src/util/clock.js';
import { enableBearerToken, overrideAlertmanager, overridePrometheus, shortenForDurations } from '../support/alerting.js';
import { describeWithBinaries, readRepoFile } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { checkPromql, queriesOf, readDashboards, substituteVariables } from '../support/grafana.js';
import { freePort, startService, waitFor, type Service } from '../support/processes.js';

const TOKEN = 'e2e-bearer-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const RATE_LIMIT = ALERT_DEFINITIONS.find((d) => d.type === 'rate_limit')!;
const RANGES = { rateInterval: '30s', interval: '1s', range: '5m' };

/** What the scenario makes the bridge export (and the rules derive): dashboard queries over only these must return data. */
const FED_METRICS = new Set([
  'claude_bridge_build_info',
  'claude_bridge_recovery_state',
  'claude_bridge_recovery_backoff_attempt',
  'claude_bridge_recovery_backoff_delay_seconds',
  'claude_bridge_alerts_active',
  'claude_bridge_alerts_fired_total',
  'claude_bridge_recovery_transitions_total',
  'claude_bridge_rate_limit_used_ratio',
  'claude_bridge_statusline_updates_total',
  'claude_bridge_hook_events_total',
  'claude_bridge_tool_calls_total',
  'claude_bridge_tool_duration_seconds_bucket',
  'claude_bridge_hook_decisions_total',
  'claude_bridge:alert_value',
  'claude_bridge:alert_threshold',
  'ALERTS',
]);

/** Of the recorded alert values only the rate-limit one has an input in this scenario. */
function isFed(selector: string): boolean {
  const metric = /^[\w:]+/.exec(selector)?.[0] ?? '';
  if (!FED_METRICS.has(metric)) return false;
  return metric !== 'claude_bridge:alert_value' || !/alert_type=~?"(?!rate_limit")/.test(selector);
}

/**
 * Prometheus and Alertmanager run on the wall clock, so the bridge under test does too: this is
 * the clock it is given, and every instant of the scenario is read from it.
 */
const clock = systemClock;

function statusLine(fiveHourPercent: number): Record<string, unknown> {
  const input = readJsonFixture<Record<string, any>>('claude-code', 'statusline-input.json');
  const resetsAt = Math.floor(clock.now() / 1000) + 3600;
  return {
    ...input,
    rate_limits: {
      five_hour: { used_percentage: fiveHourPercent, resets_at: resetsAt },
      seven_day: { used_percentage: Math.min(fiveHourPercent, 40), resets_at: resetsAt + 86_400 },
    },
  };
}

describeWithBinaries(['prometheus', 'prometheus-alertmanager'], 'alerting loop with real Prometheus and Alertmanager', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-e2e-'));
  let bridge: RunningBridge;
  let prometheus: Service;
  let alertmanager: Service;
  let promUrl: string;
  let amUrl: string;
  /** A moment while the alert fired and the hook had been served: dashboards are queried then. */
  let queryTime = 0;
  const diagnostics = () =>
    [prometheus, alertmanager].map((s) => (s ? `--- ${s.name} log ---\n${s.logTail()}` : '')).join('\n');

  const promQuery = async (query: string, time?: number) => {
    const params = new URLSearchParams({ query, ...(time ? { time: String(time) } : {}) });
    const response = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', body: params });
    return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  };

  beforeAll(async () => {
    const config = testConfig({
      alerting: { mode: 'alertmanager' },
      auth: { token: TOKEN },
      hooks_server: { enabled: false },
      usage: { source: 'none' },
      recovery: { backoff: { base_s: 1, cap_s: 2 } },
    });
    bridge = await startBridge({ config, clock, components: [hooksComponent, usageComponent] });
    const bridgeAddress = new URL(bridge.url).host;
    const [promPort, amPort] = [await freePort(), await freePort()];
    promUrl = `http://127.0.0.1:${promPort}`;
    amUrl = `http://127.0.0.1:${amPort}`;

    const tokenFile = path.join(dir, 'bridge-token');
    writeFileSync(tokenFile, TOKEN);
    writeFileSync(
      path.join(dir, 'alertmanager.yml'),
      overrideAlertmanager(enableBearerToken(readRepoFile('alertmanager/alertmanager.yml'), tokenFile), {
        bridgeAddress,
        groupWait: '0s',
        groupInterval: '1s',
        repeatInterval: '1m',
      }),
    );
    mkdirSync(path.join(dir, 'rules'));
    writeFileSync(path.join(dir, RULES_FILE.replace(/^prometheus\//, '')), shortenForDurations(readRepoFile(RULES_FILE), '2s'));
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      overridePrometheus(readRepoFile('prometheus/prometheus.yml'), {
        bridgeAddress,
        alertmanagerAddress: `127.0.0.1:${amPort}`,
        scrapeInterval: '1s',
        evaluationInterval: '1s',
      }),
    );

    alertmanager = startService(
      'alertmanager',
      'prometheus-alertmanager',
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ],
      path.join(dir, 'alertmanager.log'),
    );
    prometheus = startService(
      'prometheus',
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      path.join(dir, 'prometheus.log'),
    );
    for (const url of [amUrl, promUrl]) {
      await waitFor(`${url}/-/ready`, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), {
        timeoutMs: 20_000,
        diagnostics,
      });
    }
  }, 40_000);

  afterAll(async () => {
    await Promise.all([prometheus?.stop(), alertmanager?.stop()]);
    await bridge?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it('threshold → Prometheus → Alertmanager → webhook → backoff → held hook → resolved → normal', async () => {
    const t0 = clock.now();
    const high = await bridge.post('/statusline', statusLine(95), AUTH);
    expect(high.status).toBe(200);

    const firing = await waitFor(
      `${RATE_LIMIT.alertname} firing in Prometheus`,
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
        return body.data.alerts.find((a) => a.labels.alertname === RATE_LIMIT.alertname && a.state === 'firing');
      },
      { timeoutMs: 20_000, diagnostics },
    );
    expect(firing.labels).toMatchObject({ action: 'backoff', alert_type: 'rate_limit', severity: 'critical' });
    const firedAfter = clock.now() - t0;

    const routed = await waitFor(
      'the alert in Alertmanager, routed to the bridge',
      async () => {
        const alerts = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as { labels: Record<string, string>; receivers: { name: string }[] }[];
        return alerts.find((a) => a.labels.alertname === RATE_LIMIT.alertname);
      },
      { timeoutMs: 10_000, diagnostics },
    );
    expect(routed.receivers.map((r) => r.name).sort()).toEqual(['claude-bridge', 'humans']);

    const backoff = await waitFor(
      'the webhook to put the bridge in backoff',
      async () => {
        const status = (await bridge.get('/recovery/status')).body;
        return status.state === 'backoff' ? status : undefined;
      },
      { timeoutMs: 20_000, diagnostics },
    );
    const backoffAfter = clock.now() - t0;
    expect(backoff.active_alerts).toEqual([
      expect.objectContaining({ alert: 'rate_limit', origins: [expect.objectContaining({ origin: 'alertmanager', key: expect.any(String) })] }),
    ]);

    const preToolUse = readJsonFixture<Record<string, unknown>>('claude-code', 'http-hook-inputs', 'PreToolUse.json');
    const expectedHoldMs = (await bridge.get('/recovery/status')).body.backoff.delay_ms as number;
    const started = clock.now();
    const held = await bridge.post('/hooks/PreToolUse', preToolUse);
    const heldMs = clock.now() - started;
    expect(held.status).toBe(200);
    expect(held.body).toEqual({});
    expect(expectedHoldMs).toBeGreaterThanOrEqual(1000);
    expect(heldMs).toBeGreaterThanOrEqual(expectedHoldMs - 50);
    expect(heldMs).toBeLessThan(expectedHoldMs + 1500);
    const post = await bridge.post('/hooks/PostToolUse', readJsonFixture('claude-code', 'http-hook-inputs', 'PostToolUse.json'));
    expect(post.status).toBe(200);

    // Two scrapes after the hook calls, so rates over them have data; the alert still fires.
    const hooksServedAt = clock.now() / 1000;
    queryTime = await waitFor(
      'two scrapes of the bridge after the hook calls',
      async () => {
        const body = await promQuery('min(timestamp(claude_bridge_hook_decisions_total))');
        const scrapedAt = Number((body.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
        return scrapedAt >= hooksServedAt + 1 ? scrapedAt : undefined; // scrape_interval 1s: the second scrape since
      },
      { timeoutMs: 10_000, diagnostics },
    );
    expect((await bridge.get('/recovery/status')).body.state).toBe('backoff');

    const t1 = clock.now();
    const low = await bridge.post('/statusline', statusLine(10), AUTH);
    expect(low.status).toBe(200);
    const normal = await waitFor(
      'the resolved notice to return the bridge to normal',
      async () => {
        const status = (await bridge.get('/recovery/status')).body;
        return status.state === 'normal' ? status : undefined;
      },
      { timeoutMs: 20_000, diagnostics },
    );
    expect(normal.active_alerts).toEqual([]);
    console.log(
      `alert firing in Prometheus after ${firedAfter} ms, bridge in backoff after ${backoffAfter} ms, ` +
        `PreToolUse held ${heldMs} ms (delay ${expectedHoldMs} ms), back to normal ${clock.now() - t1} ms after the status line dropped`,
    );
    const fast = await bridge.post('/hooks/PreToolUse', preToolUse);
    expect(fast.body).toEqual({});
  }, 60_000);

  it('every dashboard query evaluates in Prometheus; those the scenario feeds return data', async () => {
    expect(queryTime).toBeGreaterThan(0);
    const problems: string[] = [];
    let fedCount = 0;
    let queryCount = 0;
    for (const { dashboard } of readDashboards()) {
      for (const query of queriesOf(dashboard)) {
        const expr = substituteVariables(query.expr, dashboard, RANGES);
        // One bridge and no team scrape config: no developer label, so $developer lists nothing (All still matches).
        const fed = query.labelValues?.label !== 'developer' && checkPromql(expr).selectors.every(isFed);
        const where = `${query.dashboard} / ${query.where}: ${expr}`;
        queryCount += 1;
        let result: unknown[] | undefined;
        if (query.labelValues) {
          const params = new URLSearchParams({ 'match[]': query.labelValues.metric, start: String(queryTime - 300), end: String(queryTime) });
          const body = (await (await fetch(`${promUrl}/api/v1/series?${params.toString()}`)).json()) as { status: string; error?: string; data: Record<string, string>[] };
          if (body.status !== 'success') problems.push(`${where}: ${body.error}`);
          result = body.data?.filter((s) => s[query.labelValues!.label] !== undefined);
        } else {
          const body = await promQuery(expr, queryTime);
          if (body.status !== 'success') problems.push(`${where}: ${body.error}`);
          result = body.data?.result;
        }
        if (fed) {
          fedCount += 1;
          if (!result || result.length === 0) problems.push(`${where}: no data, though the scenario feeds it`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(fedCount).toBeGreaterThan(15);
    console.log(`${queryCount} dashboard queries evaluated; ${fedCount} fed by the scenario returned data`);
  }, 20_000);
});
