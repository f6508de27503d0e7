import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/index.js';
import { defaultDeveloperName, DEVELOPER_NAME } from '../../src/config/schema.js';
import { describeWithBinaries, repoPath, run } from '../support/binaries.js';

function captureIO(cwd: string) {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t), env: {}, cwd };
  return io;
}

describe('bridge identity', () => {
  it('defaults to the OS user name made a valid label value; the env and the file override it', () => {
    expect(defaultDeveloperName()).toMatch(DEVELOPER_NAME);
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-name-'));
    expect(loadConfig({}, {}, dir).config.bridge.name).toBe(defaultDeveloperName());
    writeFileSync(path.join(dir, 'config.yaml'), 'bridge:\n  name: alice\n');
    expect(loadConfig({}, {}, dir).config.bridge.name).toBe('alice');
    expect(loadConfig({}, { CLAUDE_BRIDGE_NAME: 'bob' }, dir).config.bridge.name).toBe('bob');
    writeFileSync(path.join(dir, 'config.yaml'), 'bridge:\n  name: "Alice Smith"\n');
    expect(() => loadConfig({}, {}, dir)).toThrow(/bridge\.name/);
  });
});

describeWithBinaries(['promtool', 'amtool'], 'claude-bridge team', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-team-'));
  const out = path.join(dir, 'out');

  beforeAll(async () => {
    const io = captureIO(dir);
    const code = await main(['team', '--file', repoPath('examples/team/team.yaml'), '--out', out, '--config', repoPath('config.yaml')], io);
    expect({ code, err: io.err }).toEqual({ code: 0, err: '' });
  });

  it('writes a Prometheus config that promtool accepts, one labelled target per developer', () => {
    const check = run('promtool', ['check', 'config', path.join(out, 'prometheus.yml')]);
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    const prom = parse(readFileSync(path.join(out, 'prometheus.yml'), 'utf8'));
    expect(prom.scrape_configs[0].static_configs).toEqual([
      { targets: ['alice-laptop:8080'], labels: { developer: 'alice' } },
      { targets: ['bob-laptop:8080'], labels: { developer: 'bob' } },
      { targets: ['carol-desk:8080'], labels: { developer: 'carol' } },
    ]);
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager-1:9093', 'alertmanager-2:9093']);
  });

  it('gives each developer their own thresholds, restricted to their series', () => {
    const rules = parse(readFileSync(path.join(out, 'rules', 'claude-bridge-team.yml'), 'utf8'));
    const rateLimit = (dev: string) =>
      rules.groups.flatMap((g: { rules: { alert?: string; expr: string }[] }) => g.rules).find(
        (r: { alert?: string; expr: string }) => r.alert === 'ClaudeBridgeRateLimitNear' && r.expr.includes(`developer="${dev}"`),
      );
    expect(rateLimit('alice').expr).toBe('max by (developer) (claude_bridge_rate_limit_used_ratio{developer="alice"}) >= 0.9');
    expect(rateLimit('bob').expr).toBe('max by (developer) (claude_bridge_rate_limit_used_ratio{developer="bob"}) >= 0.95');
  });

  it('routes each developer\'s recovery alerts to their own bridge only, with their token, and on to humans', () => {
    const file = path.join(out, 'alertmanager.yml');
    expect(run('amtool', ['check-config', file]).status).toBe(0);
    const routes = (labels: string[]) => run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels]).stdout.trim();
    expect(routes(['developer=alice', 'action=backoff'])).toBe('bridge-alice,humans');
    expect(routes(['developer=bob', 'action=pause'])).toBe('bridge-bob,humans');
    expect(routes(['developer=bob', 'action=notify'])).toBe('humans');
    expect(routes(['developer=dave', 'action=backoff'])).toBe('humans');
    const am = parse(readFileSync(file, 'utf8'));
    const bob = am.receivers.find((r: { name: string }) => r.name === 'bridge-bob');
    expect(bob.webhook_configs[0]).toEqual({
      url: 'http://bob-laptop:8080/alertmanager/webhook',
      send_resolved: true,
      http_config: { authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/tokens/bob' } },
    });
  });

  it('refuses a bad team file with every problem named, writing nothing', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'alertmanager:\n  peers: []\ndevelopers:\n  - name: Alice\n    url: ftp://x\n    token_file: t\n');
    const io = captureIO(dir);
    expect(await main(['team', '--file', bad, '--out', path.join(dir, 'bad-out')], io)).toBe(1);
    expect(io.err).toMatch(/alertmanager\.peers/);
    expect(io.err).toMatch(/developers\.0\.name/);
    expect(io.err).toMatch(/developers\.0\.url/);
  });
});
