/**
 * A team with the real binaries on loopback: three bridges, one Prometheus, two clustered
 * Alertmanagers, all configured by `claude-bridge team`. Only A's alert moves only A's bridge;
 * one Alertmanager is killed while it fires and the other still delivers the resolve, once.
 * Then B's bridge cannot be reached by Alertmanager while B's alert fires, and catches up, once,
 * when it can again. Every bridge's webhook calls are counted by outcome (its own counter).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { WEBHOOK_OUTCOMES } from '../../src/http/routes-alertmanager.js';
import { main } from '../../src/cli/main.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { usageComponent } from '../../src/sources/usage/index.js';
import { systemClock } from '../../src/util/clock.js';
import { shortenForDurations } from '../support/alerting.js';
import { describeWithBinaries } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { queriesOf, readDashboards, substituteVariables } from '../support/grafana.js';
import { freePort, startService, waitFor, type Service } from '../support/processes.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const NAMES = ['alice', 'bob', 'carol'] as const;
const tokenOf = (name: string) => `team-token-${name}-0123456789`;

function statusLine(percent: number): Record<string, unknown> {
  const input = readJsonFixture<Record<string, any>>('claude-code', 'statusline-input.json');
  const resetsAt = Math.floor(systemClock.now() / 1000) + 3600;
  return { ...input, rate_limits: { five_hour: { used_percentage: percent, resets_at: resetsAt }, seven_day: { used_percentage: 5, resets_at: resetsAt + 86_400 } } };
}

/** The sum of a metric's samples whose line also holds `filter` (a label matcher as exposed). */
function sumOf(exposition: string, metric: string, filter = ''): number {
  return exposition
    .split('\n')
    .filter((l) => (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) && l.includes(filter))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function counter(bridge: RunningBridge, metric: string): Promise<number> {
  return sumOf((await bridge.get('/prometheus')).text, metric);
}

/** The webhook calls a bridge saw, by outcome (claude_bridge_webhook_notifications_total). */
async function webhookCalls(bridge: RunningBridge): Promise<Record<(typeof WEBHOOK_OUTCOMES)[number], number>> {
  const text = (await bridge.get('/prometheus')).text;
  const count = (outcome: string) => sumOf(text, 'claude_bridge_webhook_notifications_total', `outcome="${outcome}"`);
  return Object.fromEntries(WEBHOOK_OUTCOMES.map((outcome) => [outcome, count(outcome)])) as Record<(typeof WEBHOOK_OUTCOMES)[number], number>;
}

/** Team dashboard queries this scenario feeds for every developer (the bridges run no usage source). */
const FED_PER_DEVELOPER = [
  'panel "Developers" A',
  'panel "Developers" B',
  'panel "Developers" G',
  'panel "Developers" H',
  'panel "Recovery state by developer" A',
  'panel "Rate-limit use (5 h) by developer" A',
  'panel "Rate-limit use (5 h) by developer" B',
  'panel "Bridges scraped" A',
];

const NO_CALLS = { applied: 0, unchanged: 0, ignored: 0, rejected: 0, failed: 0 };

/** Sends bob's notices through `proxyPort`, so the test can cut Alertmanager's path to his bridge only. */
function routeWebhookThrough(alertmanagerYaml: string, developer: string, proxyPort: number): string {
  const doc = parseDocument(alertmanagerYaml);
  const receivers = doc.toJS() as { receivers: { name: string; webhook_configs?: { url: string }[] }[] };
  const index = receivers.receivers.findIndex((r) => r.name === `bridge-${developer}`);
  const url = new URL(receivers.receivers[index]!.webhook_configs![0]!.url);
  url.port = String(proxyPort);
  doc.setIn(['receivers', index, 'webhook_configs', 0, 'url'], url.toString());
  return doc.toString({ lineWidth: 0 });
}

describeWithBinaries(['prometheus', 'prometheus-alertmanager'], 'team: three bridges, one Prometheus, two clustered Alertmanagers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-team-e2e-'));
  const bridges: Record<string, RunningBridge> = {};
  const services: Service[] = [];
  let promUrl = '';
  const amUrls: string[] = [];
  let bobPath: TcpProxy;
  const diagnostics = () => services.map((s) => `--- ${s.name} ---\n${s.logTail(1500)}`).join('\n');

  beforeAll(async () => {
    for (const name of NAMES) {
      const config = testConfig({
        bridge: { name },
        alerting: { mode: 'alertmanager' },
        auth: { token: tokenOf(name) },
        hooks_server: { enabled: false },
        usage: { source: 'none' },
      });
      bridges[name] = await startBridge({ config, clock: systemClock, components: [hooksComponent, usageComponent] });
      writeFileSync(path.join(dir, `token-${name}`), tokenOf(name));
    }
    bobPath = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(bridges.bob!.url).port) });
    const [promPort, am1, am2, c1, c2] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const team = {
      prometheus: { scrape_interval: '1s', evaluation_interval: '1s' },
      alertmanager: { peers: [`127.0.0.1:${am1}`, `127.0.0.1:${am2}`], group_wait: '0s', group_interval: '1s', repeat_interval: '5s' },
      developers: NAMES.map((name) => ({ name, url: bridges[name]!.url, token_file: path.join(dir, `token-${name}`) })),
    };
    writeFileSync(path.join(dir, 'team.yaml'), stringify(team));
    const io = { stdout: () => undefined, stderr: (t: string) => void process.stderr.write(t), env: {}, cwd: dir };
    expect(await main(['team', '--file', 'team.yaml', '--out', 'out'], io)).toBe(0);
    const rules = path.join(dir, 'out', 'rules', 'claude-bridge-team.yml');
    writeFileSync(rules, shortenForDurations(readFileSync(rules, 'utf8'), '2s'));
    const amConfig = path.join(dir, 'out', 'alertmanager.yml');
    writeFileSync(amConfig, routeWebhookThrough(readFileSync(amConfig, 'utf8'), 'bob', bobPath.port));
    for (const [i, [port, cluster, peer]] of [[am1, c1, c2], [am2, c2, c1]].entries()) {
      mkdirSync(path.join(dir, `am${i}`));
      services.push(
        startService(`alertmanager-${i + 1}`, 'prometheus-alertmanager', [
          `--config.file=${path.join(dir, 'out', 'alertmanager.yml')}`,
          `--storage.path=${path.join(dir, `am${i}`)}`,
          `--web.listen-address=127.0.0.1:${port}`,
          `--cluster.listen-address=127.0.0.1:${cluster}`,
          `--cluster.peer=127.0.0.1:${peer}`,
          '--cluster.settle-timeout=1s',
        ], path.join(dir, `am${i}.log`)),
      );
      amUrls.push(`http://127.0.0.1:${port}`);
    }
    promUrl = `http://127.0.0.1:${promPort}`;
    services.push(
      startService('prometheus', 'prometheus', [
        `--config.file=${path.join(dir, 'out', 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ], path.join(dir, 'prometheus.log')),
    );
    for (const url of [...amUrls, promUrl]) {
      await waitFor(`${url}/-/ready`, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), { timeoutMs: 20_000, diagnostics });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(Object.values(bridges).map((b) => b.stop()));
    await bobPath?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("A's alert moves only A's bridge; with one Alertmanager killed A still gets the resolve, applied once", async () => {
    const auth = (name: string) => ({ authorization: `Bearer ${tokenOf(name)}` });
    for (const name of NAMES) expect((await bridges[name]!.post('/statusline', statusLine(10), auth(name))).status).toBe(200);
    expect((await bridges.alice!.post('/statusline', statusLine(95), auth('alice'))).status).toBe(200);

    await waitFor('alice in backoff', async () => ((await bridges.alice!.get('/recovery/status')).body.state === 'backoff' ? true : undefined), { timeoutMs: 30_000, diagnostics });
    const alerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string> }[] } };
    expect(alerts.data.alerts.map((a) => a.labels.developer)).toEqual(['alice']);
    for (const name of ['bob', 'carol']) expect((await bridges[name]!.get('/recovery/status')).body.state).toBe('normal');
    const health = (await bridges.alice!.get('/health')).body;
    expect(health.name).toBe('alice');

    await services[0]!.stop(); // alertmanager-1 dies while the alert fires
    expect((await bridges.alice!.post('/statusline', statusLine(10), auth('alice'))).status).toBe(200);
    await waitFor('alice back to normal', async () => ((await bridges.alice!.get('/recovery/status')).body.state === 'normal' ? true : undefined), { timeoutMs: 30_000, diagnostics });

    expect(await counter(bridges.alice!, 'claude_bridge_recovery_transitions_total')).toBe(2);
    for (const name of ['bob', 'carol']) expect(await counter(bridges[name]!, 'claude_bridge_recovery_transitions_total')).toBe(0);
    // Two notices applied (the firing, the resolve) for two state changes; any other call was a re-send that changed nothing.
    const calls = await webhookCalls(bridges.alice!);
    expect(calls).toEqual({ ...NO_CALLS, applied: 2, unchanged: calls.unchanged });
    expect(await counter(bridges.alice!, 'claude_bridge_alerts_fired_total')).toBe(1);
    for (const name of ['bob', 'carol']) expect(await webhookCalls(bridges[name]!)).toEqual(NO_CALLS);
    console.log(`alice: webhook calls ${JSON.stringify(calls)}, 2 state changes; bob and carol: no calls`);
  }, 60_000);

  it("bob's bridge, unreachable for Alertmanager while his alert fires, catches up when it is back and applies the notice once", async () => {
    const auth = { authorization: `Bearer ${tokenOf('bob')}` };
    const liveAlertmanagers = amUrls.filter((_url, i) => services[i]!.child.exitCode === null && services[i]!.child.signalCode === null);
    const failedRequests = async () => {
      let sum = 0;
      for (const url of liveAlertmanagers) {
        sum += sumOf(await (await fetch(`${url}/metrics`)).text(), 'alertmanager_notification_requests_failed_total', 'integration="webhook"');
      }
      return sum;
    };
    const failedBefore = await failedRequests();
    await bobPath.cut();
    expect((await bridges.bob!.post('/statusline', statusLine(95), auth)).status).toBe(200);

    // Down long enough for Alertmanager to fail, back off and fail again.
    await waitFor('Alertmanager failing twice to reach bob', async () => ((await failedRequests()) >= failedBefore + 2 ? true : undefined), { timeoutMs: 40_000, diagnostics });
    // Prometheus still scrapes bob's bridge, so the alert keeps firing; only the webhook path is down.
    const firing = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; labels: Record<string, string> }[] } };
    expect(firing.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.developer)).toEqual(['bob']);
    expect((await bridges.bob!.get('/recovery/status')).body.state).toBe('normal');
    expect(await webhookCalls(bridges.bob!)).toEqual(NO_CALLS);

    await bobPath.restore();
    await waitFor('bob in backoff', async () => ((await bridges.bob!.get('/recovery/status')).body.state === 'backoff' ? true : undefined), { timeoutMs: 40_000, diagnostics });
    // A repeat (repeat_interval 5s) arrives and changes nothing.
    await waitFor('a repeated notice at bob', async () => ((await webhookCalls(bridges.bob!)).unchanged > 0 ? true : undefined), { timeoutMs: 40_000, diagnostics });
    expect(await webhookCalls(bridges.bob!)).toMatchObject({ applied: 1, ignored: 0, rejected: 0, failed: 0 });
    expect(await counter(bridges.bob!, 'claude_bridge_recovery_transitions_total')).toBe(1);
    expect(await counter(bridges.bob!, 'claude_bridge_alerts_fired_total')).toBe(1);
    expect(bobPath.connections).toBeGreaterThan(0); // the notices did come the way the test cut

    expect((await bridges.bob!.post('/statusline', statusLine(10), auth)).status).toBe(200);
    await waitFor('bob back to normal', async () => ((await bridges.bob!.get('/recovery/status')).body.state === 'normal' ? true : undefined), { timeoutMs: 40_000, diagnostics });
    const calls = await webhookCalls(bridges.bob!);
    expect(calls).toEqual({ ...NO_CALLS, applied: 2, unchanged: calls.unchanged });
    expect(await counter(bridges.bob!, 'claude_bridge_recovery_transitions_total')).toBe(2);
    expect(await webhookCalls(bridges.carol!)).toEqual(NO_CALLS);
    expect((await bridges.alice!.get('/recovery/status')).body.state).toBe('normal');
    console.log(`bob: ${(await failedRequests()) - failedBefore} failed webhook requests while cut, then calls ${JSON.stringify(calls)}, 2 state changes`);
  }, 90_000);

  it('every dashboard query runs in the team Prometheus; $developer lists the team and narrows every panel to the chosen developers', async () => {
    const series = (await (await fetch(`${promUrl}/api/v1/series?${new URLSearchParams({ 'match[]': 'claude_bridge_build_info' }).toString()}`)).json()) as { data: Record<string, string>[] };
    expect([...new Set(series.data.map((s) => s.developer))].sort()).toEqual([...NAMES]);
    const problems: string[] = [];
    let checked = 0;
    for (const [selection, expected] of [['.*', [...NAMES]], ['bob', ['bob']], ['alice|carol', ['alice', 'carol']]] as const) {
      for (const { dashboard } of readDashboards()) {
        for (const query of queriesOf(dashboard).filter((q) => !q.labelValues)) {
          const expr = substituteVariables(query.expr, dashboard, { rateInterval: '30s', interval: '1s', range: '5m' }, { developer: selection });
          const where = `${query.dashboard} / ${query.where} (developer=~"${selection}")`;
          const response = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
          const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string> }[] } };
          checked += 1;
          if (body.status !== 'success') {
            problems.push(`${where}: ${body.error}`);
            continue;
          }
          const developers = [...new Set(body.data!.result.flatMap((r) => (r.metric.developer === undefined ? [] : [r.metric.developer])))].sort();
          if (developers.some((d) => !(expected as readonly string[]).includes(d))) problems.push(`${where}: series of ${developers.join(', ')}`);
          if (query.dashboard === 'Claude Code: Team' && FED_PER_DEVELOPER.includes(query.where) && developers.join() !== expected.join()) {
            problems.push(`${where}: developers ${developers.join(', ') || 'none'}, expected ${expected.join(', ')}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    console.log(`${checked} dashboard queries run for All, one and two developers`);
  }, 60_000);
});
