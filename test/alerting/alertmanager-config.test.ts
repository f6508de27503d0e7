import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ACTION_LABELS } from '../../src/alerts/definitions.js';
import { ALERTMANAGER_WEBHOOK_PATH } from '../../src/http/routes-alertmanager.js';
import { enableBearerToken } from '../support/alerting.js';
import { describeWithBinaries, readRepoFile, run } from '../support/binaries.js';

const CONFIG = 'alertmanager/alertmanager.yml';
const BRIDGE = 'claude-bridge';
const HUMANS = 'humans';
const RECOVERY_ACTIONS = Object.values(ACTION_LABELS).filter((a) => a !== ACTION_LABELS.notify);

interface Route {
  receiver?: string;
  matchers?: string[];
  continue?: boolean;
  routes?: Route[];
}

const shipped = () =>
  parse(readRepoFile(CONFIG)) as {
    route: Route;
    receivers: { name: string; webhook_configs?: { url: string; send_resolved: boolean; http_config?: unknown }[] }[];
    inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[];
  };

function routeTest(labels: string[], receivers: string[], configFile = CONFIG) {
  return run('amtool', ['config', 'routes', 'test', `--config.file=${configFile}`, `--verify.receivers=${receivers.join(',')}`, ...labels]);
}

describe('alertmanager.yml structure', () => {
  it('sends every recovery action to the bridge webhook with resolved notices', () => {
    const config = shipped();
    const bridge = config.receivers.find((r) => r.name === BRIDGE)!;
    expect(bridge.webhook_configs).toEqual([
      expect.objectContaining({ url: `http://bridge:8080${ALERTMANAGER_WEBHOOK_PATH}`, send_resolved: true }),
    ]);
    const toBridge = config.route.routes!.find((r) => r.receiver === BRIDGE)!;
    expect(toBridge.continue).toBe(true);
    expect(toBridge.matchers).toEqual([`action=~"${RECOVERY_ACTIONS.join('|')}"`]);
  });

  it('a sibling after the continue route notifies humans through a receiver left to fill in', () => {
    const { route, receivers } = shipped();
    const children = route.routes!;
    const bridgeIndex = children.findIndex((r) => r.receiver === BRIDGE);
    expect(children.slice(bridgeIndex + 1)).toContainEqual({ receiver: HUMANS });
    expect(receivers.find((r) => r.name === HUMANS)).toEqual({ name: HUMANS });
    expect(readRepoFile(CONFIG)).toMatch(/Fill in how people should hear about alerts/);
  });

  it('inhibits backoff while paused', () => {
    expect(shipped().inhibit_rules).toContainEqual(
      expect.objectContaining({ source_matchers: [`action="${ACTION_LABELS.session_pause}"`], target_matchers: [`action="${ACTION_LABELS.exponential_backoff}"`] }),
    );
  });

  it('shows, commented out, how to send the bearer token from a credentials file', () => {
    expect(shipped().receivers.find((r) => r.name === BRIDGE)!.webhook_configs![0]!.http_config).toBeUndefined();
    const enabled = parse(enableBearerToken(readRepoFile(CONFIG))) as ReturnType<typeof shipped>;
    expect(enabled.receivers.find((r) => r.name === BRIDGE)!.webhook_configs![0]!.http_config).toEqual({
      authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/bridge-token' },
    });
  });
});

describeWithBinaries(['amtool'], 'amtool on alertmanager.yml', () => {
  it('amtool check-config accepts it', () => {
    const result = run('amtool', ['check-config', CONFIG]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('amtool check-config accepts it with the bearer-token block uncommented', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-am-'));
    const file = path.join(dir, 'alertmanager.yml');
    writeFileSync(file, enableBearerToken(readRepoFile(CONFIG)));
    const result = run('amtool', ['check-config', file]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it.each(RECOVERY_ACTIONS)('an alert with action=%s reaches the bridge and humans', (action) => {
    const result = routeTest(['alertname=ClaudeBridgeRateLimitNear', `action=${action}`, 'severity=critical'], [BRIDGE, HUMANS]);
    expect(result.stdout.trim()).toBe(`${BRIDGE},${HUMANS}`);
    expect(result.status).toBe(0);
  });

  it.each([
    ['a plain alert', ['alertname=SomethingElse', 'severity=warning']],
    ['a notify-only alert', ['alertname=ClaudeBridgeTokenThreshold', `action=${ACTION_LABELS.notify}`]],
  ])('%s reaches humans only', (_name, labels) => {
    const result = routeTest(labels, [HUMANS]);
    expect(result.stdout.trim()).toBe(HUMANS);
    expect(result.status).toBe(0);
  });

  it('the verification fails when the expected receivers differ (amtool exit 1)', () => {
    const result = routeTest(['alertname=SomethingElse'], [BRIDGE]);
    expect(result.status).toBe(1);
  });
});
