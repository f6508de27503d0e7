import { existsSync } from 'node:fs';
import { parse } from 'yaml';
import { ALERTMANAGER_WEBHOOK_PATH } from '../../src/http/routes-alertmanager.js';
import { loadConfig } from '../../src/config/index.js';
import { describeWithBinaries, readRepoFile, repoPath, run, REPO_ROOT } from '../support/binaries.js';

interface Service {
  image?: string;
  build?: unknown;
  user?: string;
  environment?: Record<string, string>;
  extra_hosts?: string[];
  ports?: string[];
  volumes?: string[];
  command?: string[];
}
const compose = () => parse(readRepoFile('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describeWithBinaries(['docker-compose'], 'docker-compose (offline)', () => {
  it('docker-compose config -q accepts docker-compose.yml', () => {
    const result = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
    expect(result.stderr.replace(/.*HOME variable is not set.*\n?/, '')).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('docker-compose.yml', () => {
  it('runs bridge, prometheus, alertmanager and grafana on pinned image tags', () => {
    const { services } = compose();
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'bridge', 'grafana', 'prometheus']);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(/^[\w./-]+:v?\d+\.\d+\.\d+$/) });
    }
    expect(readRepoFile('docker-compose.yml')).not.toMatch(/:latest\b/);
    expect(services.bridge!.build).toBe('.');
  });

  it('the bridge reaches the host hooks server through host.docker.internal and reads ~/.claude read-only', () => {
    const bridge = compose().services.bridge!;
    expect(bridge.extra_hosts).toContain('host.docker.internal:host-gateway');
    expect(bridge.environment!.CLAUDE_BRIDGE_HOOKS_URL).toBe('${CLAUDE_BRIDGE_HOOKS_URL:-ws://host.docker.internal:4000/stream}');
    expect(bridge.volumes).toContain('${HOME}/.claude:/home/node/.claude:ro');
    expect(bridge.environment!.CLAUDE_BRIDGE_HOST).toBe('0.0.0.0');
    expect(bridge.volumes).toContain('./config.yaml:/etc/claude-bridge/config.yaml:ro');
  });

  it('mounts the Prometheus config and rules, the Alertmanager config and Grafana on :3000', () => {
    const { services } = compose();
    expect(services.prometheus!.volumes).toEqual(
      expect.arrayContaining(['./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', './prometheus/rules:/etc/prometheus/rules:ro']),
    );
    expect(services.prometheus!.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(services.alertmanager!.volumes).toContain('./alertmanager:/etc/alertmanager:ro');
    expect(services.alertmanager!.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(services.grafana!.ports).toContain('127.0.0.1:3000:3000');
    for (const mount of Object.values(services).flatMap((s) => s.volumes ?? [])) {
      const source = mount.split(':')[0]!;
      if (source.startsWith('./')) expect({ mount, exists: existsSync(repoPath(source)) }).toEqual({ mount, exists: true });
    }
  });

  it('Prometheus and Alertmanager address the compose services', () => {
    const prometheus = parse(readRepoFile('prometheus/prometheus.yml'));
    const bridgeJob = prometheus.scrape_configs.find((s: { job_name: string }) => s.job_name === 'claude-bridge');
    expect(bridgeJob).toMatchObject({ metrics_path: '/prometheus', static_configs: [{ targets: ['bridge:8080'] }] });
    expect(prometheus.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    expect(prometheus.rule_files).toEqual(['rules/*.yml']);
    expect(readRepoFile('alertmanager/alertmanager.yml')).toContain(`url: http://bridge:8080${ALERTMANAGER_WEBHOOK_PATH}`);
    expect(compose().services.bridge!.environment!.CLAUDE_BRIDGE_PORT).toBe('8080');
  });

  it('the bridge runs the shipped config.yaml with alerting.mode switched to alertmanager by environment', () => {
    const bridge = compose().services.bridge!;
    const env = bridge.environment as Record<string, string>;
    const shipped = loadConfig({ configPath: 'config.yaml' }, {}, REPO_ROOT).config;
    const container = loadConfig({ configPath: 'config.yaml' }, { CLAUDE_BRIDGE_ALERTING_MODE: env.CLAUDE_BRIDGE_ALERTING_MODE }, REPO_ROOT).config;
    expect(container.alerting.mode).toBe('alertmanager');
    expect({ ...container, alerting: { ...container.alerting, mode: shipped.alerting.mode } }).toEqual(shipped);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readRepoFile('Dockerfile');
  const ignored = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is multi-stage on a pinned Node LTS image (an even major, at least the engines minimum)', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    const major = Number(/^ARG NODE_IMAGE=node:(\d+)\.\d+\.\d+-[\w-]+$/m.exec(dockerfile)?.[1]);
    const minimum = Number(/\d+/.exec(JSON.parse(readRepoFile('package.json')).engines.node)![0]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(minimum);
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  it('runs as a non-root user, listens on 0.0.0.0, takes its config from CLAUDE_BRIDGE_* and checks /health', () => {
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(dockerfile).toMatch(/CLAUDE_BRIDGE_HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/CLAUDE_BRIDGE_CONFIG=\/etc\/claude-bridge\/config\.yaml/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(repoPath(source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.includes(source) }).toEqual({ source, ignored: false });
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });
});
