/**
 * A team with the real binaries on loopback: three bridges, one Prometheus, two clustered
 * Alertmanagers, all configured by `claude-bridge team`. Only A's alert moves only A's bridge;
 * one Alertmanager is killed while it fires and the other still delivers the resolve, once.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { usageComponent } from '../../src/sources/usage/index.js';
import { systemClock } from '../../src/util/clock.js';
import { shortenForDurations } from '../support/alerting.js';
import { describeWithBinaries } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { freePort, startService, waitFor, type Service } from '../support/processes.js';

const NAMES = ['alice', 'bob', 'carol'] as const;
const tokenOf = (name: string) => `team-token-${name}-0123456789`;

function statusLine(percent: number): Record<string, unknown> {
  const input = readJsonFixture<Record<string, any>>('claude-code', 'statusline-input.json');
  const resetsAt = Math.floor(systemClock.now() / 1000) + 3600;
  return { ...input, rate_limits: { five_hour: { used_percentage: percent, resets_at: resetsAt }, seven_day: { used_percentage: 5, resets_at: resetsAt + 86_400 } } };
}

async function counter(bridge: RunningBridge, metric: string): Promise<number> {
  const text = (await bridge.get('/prometheus')).text;
  return text.split('\n').filter((l) => l.startsWith(metric)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describeWithBinaries(['prometheus', 'prometheus-alertmanager'], 'team: three bridges, one Prometheus, two clustered Alertmanagers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-team-e2e-'));
  const bridges: Record<string, RunningBridge> = {};
  const services: Service[] = [];
  let promUrl = '';
  const amUrls: string[] = [];
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
  }, 60_000);
});
