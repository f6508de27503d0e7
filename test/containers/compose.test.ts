/**
 * `docker-compose up` of the repository's docker-compose.yml, byte for byte, with every service
 * but Grafana (no Grafana image can be made on these machines: its provisioning and dashboards
 * are checked statically in test/alerting/grafana.test.ts, and every dashboard query runs against
 * a real Prometheus in test/e2e). Prometheus and Alertmanager are stand-ins built by
 * scripts/containers.sh from Debian's binaries under the compose file's image names: the suite
 * title and output say which versions they really run.
 *
 * The mounted configs are the repository's with only intervals shortened (as in test/e2e) and
 * the bearer-token block switched on as the README tells a user to. The closed loop runs inside
 * the containers: status line at 95 % → rule fires in Prometheus → Alertmanager → the bridge's
 * webhook → backoff → a PreToolUse hook held → status line down → resolved → normal. The hooks
 * server runs on the host, listening on the docker bridge address, and the bridge container
 * follows it through host.docker.internal.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { ALERT_DEFINITIONS } from '../../src/alerts/definitions.js';
import { RULES_FILE } from '../../src/alerts/rules.js';
import { enableBearerToken, overrideAlertmanager, overridePrometheus, shortenForDurations } from '../support/alerting.js';
import { describeWithContainerEngine, readRepoFile, repoPath } from '../support/binaries.js';
import { readFixture, readJsonFixture } from '../support/fixtures.js';
import { waitFor } from '../support/processes.js';
import { seriesValue } from '../usage/support/usage.js';
import { BRIDGE_IMAGE, buildBridgeImage, composeImage, describeImage, dockerBridgeAddress, dockerfileNodeImage, engineNow, requestJson } from './support/engine.js';

const PROMETHEUS_IMAGE = composeImage('prometheus');
const ALERTMANAGER_IMAGE = composeImage('alertmanager');
const STARTED = ['alertmanager', 'bridge', 'prometheus'];
const PUBLISHED = { bridge: 'http://127.0.0.1:8080', otlp: 'http://127.0.0.1:4318', prometheus: 'http://127.0.0.1:9090', alertmanager: 'http://127.0.0.1:9093' };
const TOKEN = `compose-test-${randomBytes(12).toString('hex')}`;
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const RATE_LIMIT = ALERT_DEFINITIONS.find((d) => d.type === 'rate_limit')!;

function describeSafely(image: string): string {
  try {
    return describeImage(image);
  } catch {
    return 'not inspected';
  }
}

/** Free on 127.0.0.1 right now: the compose file publishes fixed ports there. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createTcpServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A status line whose windows reset an hour after the engine's time (the bridge's clock in its container). */
function statusLine(fiveHourPercent: number): Record<string, unknown> {
  const input = readJsonFixture<Record<string, unknown>>('claude-code', 'statusline-input.json');
  const resetsAt = Math.floor(engineNow() / 1000) + 3600;
  return {
    ...input,
    rate_limits: {
      five_hour: { used_percentage: fiveHourPercent, resets_at: resetsAt },
      seven_day: { used_percentage: Math.min(fiveHourPercent, 40), resets_at: resetsAt + 86_400 },
    },
  };
}

/**
 * A hooks server on the host, on the docker bridge address only: it serves the recorded
 * WebSocket frames of the real one and remembers where its clients connect from.
 */
async function startHostHooksServer(address: string): Promise<{ url: string; clients: string[]; close: () => Promise<void> }> {
  const frames = readFixture('hooks-server', 'ws-frames.jsonl').split('\n').filter(Boolean);
  const http: Server = createHttpServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server: http, path: '/stream' });
  const clients: string[] = [];
  wss.on('connection', (socket, req) => {
    clients.push(req.socket.remoteAddress ?? 'unknown');
    for (const frame of frames) socket.send(frame);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, address, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://host.docker.internal:${port}/stream`,
    clients,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => http.close(() => resolve()));
      }),
  };
}

describeWithContainerEngine(
  [dockerfileNodeImage(), PROMETHEUS_IMAGE, ALERTMANAGER_IMAGE],
  `docker-compose up: bridge + prometheus (${PROMETHEUS_IMAGE}: ${describeSafely(PROMETHEUS_IMAGE)}) + alertmanager ` +
    `(${ALERTMANAGER_IMAGE}: ${describeSafely(ALERTMANAGER_IMAGE)}); Grafana is checked statically, not run`,
  () => {
    const project = mkdtempSync(path.join(tmpdir(), 'bridge-compose-'));
    const projectName = `claudebridgetest${process.pid}`;
    const env = {
      ...process.env,
      HOME: path.join(project, 'home'),
      CLAUDE_BRIDGE_AUTH_TOKEN: TOKEN,
      COMPOSE_PROJECT_NAME: projectName,
      CLAUDE_BRIDGE_HOOKS_URL: '',
    };
    let hooks: Awaited<ReturnType<typeof startHostHooksServer>>;
    let up = false;

    const compose = (args: string[], timeoutMs = 120_000) => {
      const result = spawnSync('docker-compose', ['-f', path.join(project, 'docker-compose.yml'), '-p', projectName, ...args], {
        cwd: project,
        env,
        encoding: 'utf8',
        timeout: timeoutMs,
      });
      if (result.error) throw result.error;
      return result;
    };
    const diagnostics = () => {
      const logs = compose(['logs', '--no-color', '--tail', '30']);
      return `--- docker-compose logs ---\n${logs.stdout}${logs.stderr}`;
    };

    beforeAll(async () => {
      for (const [service, url] of Object.entries(PUBLISHED)) {
        const port = Number(new URL(url).port);
        if (!(await portFree(port))) throw new Error(`127.0.0.1:${port} is taken; docker-compose.yml publishes ${service} there: stop what listens on it`);
      }
      const build = await buildBridgeImage();
      console.log(
        `${BRIDGE_IMAGE} built in ${build.seconds} s${build.cached ? ' (from the layer cache)' : ''}; stand-ins: ` +
          `${PROMETHEUS_IMAGE} → ${describeImage(PROMETHEUS_IMAGE)}; ${ALERTMANAGER_IMAGE} → ${describeImage(ALERTMANAGER_IMAGE)}. ` +
          'Grafana is not started (no image can be made here): test/alerting/grafana.test.ts checks its provisioning statically.',
      );

      // The project folder: the compose file unchanged, the configs it mounts.
      copyFileSync(repoPath('docker-compose.yml'), path.join(project, 'docker-compose.yml'));
      copyFileSync(repoPath('config.yaml'), path.join(project, 'config.yaml'));
      mkdirSync(path.join(project, 'prometheus', 'rules'), { recursive: true });
      mkdirSync(path.join(project, 'alertmanager'));
      mkdirSync(path.join(project, 'home', '.claude', 'projects'), { recursive: true });
      writeFileSync(
        path.join(project, 'prometheus', 'prometheus.yml'),
        overridePrometheus(readRepoFile('prometheus/prometheus.yml'), {
          bridgeAddress: 'bridge:8080',
          alertmanagerAddress: 'alertmanager:9093',
          scrapeInterval: '1s',
          evaluationInterval: '1s',
        }),
      );
      writeFileSync(path.join(project, RULES_FILE), shortenForDurations(readRepoFile(RULES_FILE), '2s'));
      writeFileSync(
        path.join(project, 'alertmanager', 'alertmanager.yml'),
        overrideAlertmanager(enableBearerToken(readRepoFile('alertmanager/alertmanager.yml')), {
          bridgeAddress: 'bridge:8080',
          groupWait: '0s',
          groupInterval: '1s',
          repeatInterval: '1m',
        }),
      );
      writeFileSync(path.join(project, 'alertmanager', 'bridge-token'), TOKEN);
      // The containers run as uid 1000 (bridge) and nobody (Prometheus, Alertmanager).
      for (const dir of ['.', 'prometheus', 'prometheus/rules', 'alertmanager', 'home', 'home/.claude', 'home/.claude/projects']) {
        chmodSync(path.join(project, dir), 0o755);
      }
      for (const file of ['docker-compose.yml', 'config.yaml', 'prometheus/prometheus.yml', RULES_FILE, 'alertmanager/alertmanager.yml', 'alertmanager/bridge-token']) {
        chmodSync(path.join(project, file), 0o644);
      }

      hooks = await startHostHooksServer(dockerBridgeAddress());
      env.CLAUDE_BRIDGE_HOOKS_URL = hooks.url;

      const started = compose(['up', '-d', '--no-build', ...STARTED], 180_000);
      up = true;
      if (started.status !== 0) throw new Error(`docker-compose up failed:\n${started.stdout}${started.stderr}`);
      for (const url of [`${PUBLISHED.prometheus}/-/ready`, `${PUBLISHED.alertmanager}/-/ready`, `${PUBLISHED.bridge}/health`]) {
        await waitFor(url, async () => ((await fetch(url)).ok ? true : undefined), { timeoutMs: 60_000, diagnostics });
      }
    }, 600_000);

    afterAll(async () => {
      if (up) {
        const down = compose(['down', '--volumes', '--timeout', '10']);
        if (down.status !== 0) console.error(`docker-compose down failed:\n${down.stdout}${down.stderr}`);
      }
      await hooks?.close();
      rmSync(project, { recursive: true, force: true });
    }, 120_000);

    it('runs the repository compose file unchanged; bridge, prometheus and alertmanager are up, Grafana is not started', () => {
      expect(readFileSync(path.join(project, 'docker-compose.yml'), 'utf8')).toBe(readRepoFile('docker-compose.yml'));
      const running = compose(['ps', '--services', '--filter', 'status=running']).stdout.trim().split('\n').sort();
      expect(running).toEqual(STARTED);
      expect(compose(['ps', '-q', 'grafana']).stdout.trim()).toBe('');
    });

    it('the stand-ins run the versions their labels name', async () => {
      const prometheus = await requestJson(`${PUBLISHED.prometheus}/api/v1/status/buildinfo`);
      const alertmanager = await requestJson(`${PUBLISHED.alertmanager}/api/v2/status`);
      const versions = { prometheus: prometheus.body.data.version as string, alertmanager: alertmanager.body.versionInfo.version as string };
      console.log(`running: Prometheus ${versions.prometheus} as ${PROMETHEUS_IMAGE}, Alertmanager ${versions.alertmanager} as ${ALERTMANAGER_IMAGE}`);
      for (const [name, image] of [['prometheus', PROMETHEUS_IMAGE], ['alertmanager', ALERTMANAGER_IMAGE]] as const) {
        const description = describeImage(image);
        const claimed = description.startsWith('stand-in') ? description : image;
        expect({ name, claimed: claimed.includes(versions[name]!) }).toEqual({ name, claimed: true });
      }
    });

    it('Prometheus scrapes the bridge by its service name; the bridge follows the hooks server on the host through host.docker.internal', async () => {
      const target = await waitFor(
        'the claude-bridge scrape target up',
        async () => {
          const body = (await requestJson(`${PUBLISHED.prometheus}/api/v1/targets`)).body;
          return body.data.activeTargets.find((t: { labels: { job: string }; health: string }) => t.labels.job === 'claude-bridge' && t.health === 'up');
        },
        { timeoutMs: 30_000, diagnostics },
      );
      expect(target.scrapeUrl).toBe('http://bridge:8080/prometheus');
      const events = await waitFor(
        'the recorded hook events counted by the bridge',
        async () => {
          const text = (await requestJson(`${PUBLISHED.bridge}/prometheus`)).text;
          const count = seriesValue(text, 'claude_bridge_hook_events_total{event="PreToolUse",source_app="cc-hook-multi-agent-obvs"}');
          return count !== undefined && count > 0 ? text : undefined;
        },
        { timeoutMs: 30_000, diagnostics },
      );
      expect(events).toMatch(/claude_bridge_hook_events_total\{event="SessionStart"/);
      expect((await requestJson(`${PUBLISHED.bridge}/health`)).body.websocket).toBe('connected');
      // It came from the compose network, not from the host.
      expect(hooks.clients.length).toBeGreaterThan(0);
      expect(hooks.clients.every((client) => client !== '127.0.0.1' && client !== dockerBridgeAddress())).toBe(true);
    });

    it("takes Claude Code's telemetry on the published OTLP port (install-hooks --telemetry's endpoint) from the host", async () => {
      const recorded = readJsonFixture('claude-code', 'otlp', 'metrics-tool-run-2.1.332.json');
      const answer = await fetch(`${PUBLISHED.otlp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(recorded) });
      expect(answer.status).toBe(200);
      const text = (await requestJson(`${PUBLISHED.bridge}/prometheus`)).text;
      expect(seriesValue(text, 'claude_bridge_otlp_exports_total{signal="metrics",result="success"}')).toBe(1);
      expect((await requestJson(`${PUBLISHED.bridge}/health`)).body.sources.otlp).toMatchObject({ up: true });
    });

    it('status line 95 % → Prometheus → Alertmanager → webhook → backoff → held PreToolUse → resolved → normal', async () => {
      const t0 = performance.now();
      const high = await requestJson(`${PUBLISHED.bridge}/statusline`, { method: 'POST', headers: AUTH, body: JSON.stringify(statusLine(95)) });
      expect(high.status).toBe(200);
      const firing = await waitFor(
        `${RATE_LIMIT.alertname} firing in Prometheus`,
        async () => {
          const body = (await requestJson(`${PUBLISHED.prometheus}/api/v1/alerts`)).body;
          return body.data.alerts.find((a: { labels: Record<string, string>; state: string }) => a.labels.alertname === RATE_LIMIT.alertname && a.state === 'firing');
        },
        { timeoutMs: 30_000, diagnostics },
      );
      expect(firing.labels).toMatchObject({ action: 'backoff', alert_type: 'rate_limit' });
      const routed = await waitFor(
        'the alert in Alertmanager',
        async () => {
          const alerts = (await requestJson(`${PUBLISHED.alertmanager}/api/v2/alerts`)).body as { labels: Record<string, string>; receivers: { name: string }[] }[];
          return alerts.find((a) => a.labels.alertname === RATE_LIMIT.alertname);
        },
        { timeoutMs: 15_000, diagnostics },
      );
      expect(routed.receivers.map((r) => r.name).sort()).toEqual(['claude-bridge', 'humans']);
      const backoff = await waitFor(
        'the webhook (with the bearer token) to put the bridge in backoff',
        async () => {
          const status = (await requestJson(`${PUBLISHED.bridge}/recovery/status`)).body;
          return status.state === 'backoff' ? status : undefined;
        },
        { timeoutMs: 30_000, diagnostics },
      );
      const backoffAfter = Math.round(performance.now() - t0);
      expect(backoff.active_alerts).toEqual([expect.objectContaining({ alert: 'rate_limit', origins: [expect.objectContaining({ origin: 'alertmanager' })] })]);

      const preToolUse = readFixture('claude-code', 'http-hook-inputs', 'PreToolUse.json');
      const holdMs = backoff.backoff.delay_ms as number;
      const sent = performance.now();
      const held = await requestJson(`${PUBLISHED.bridge}/hooks/PreToolUse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: preToolUse });
      const heldMs = Math.round(performance.now() - sent);
      expect(held.status).toBe(200);
      expect(holdMs).toBeGreaterThanOrEqual(1000);
      expect(heldMs).toBeGreaterThanOrEqual(holdMs - 50);

      const t1 = performance.now();
      const low = await requestJson(`${PUBLISHED.bridge}/statusline`, { method: 'POST', headers: AUTH, body: JSON.stringify(statusLine(10)) });
      expect(low.status).toBe(200);
      const normal = await waitFor(
        'the resolved notice to return the bridge to normal',
        async () => {
          const status = (await requestJson(`${PUBLISHED.bridge}/recovery/status`)).body;
          return status.state === 'normal' ? status : undefined;
        },
        { timeoutMs: 30_000, diagnostics },
      );
      expect(normal.active_alerts).toEqual([]);
      console.log(
        `in containers: backoff ${backoffAfter} ms after the status line hit 95 %, PreToolUse held ${heldMs} ms (delay ${holdMs} ms), ` +
          `normal ${Math.round(performance.now() - t1)} ms after it dropped`,
      );
    }, 120_000);
  },
);
