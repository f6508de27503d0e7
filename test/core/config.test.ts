import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig, validateConfig } from '../../src/config/index.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function writeConfig(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-config-'));
  writeFileSync(path.join(dir, 'config.yaml'), text);
  return dir;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('the shipped config.yaml is valid and spells out exactly the built-in defaults', () => {
    const shipped = validateConfig(parse(readFileSync(path.join(REPO, 'config.yaml'), 'utf8')));
    expect(shipped).toEqual(validateConfig({}));
    expect(shipped.alerts).toMatchObject({ token_threshold: 0.8, time_threshold: 4.5, cost_threshold: 50, rate_limit_threshold: 0.9 });
    expect(shipped.recovery).toMatchObject({
      rate_limit: 'exponential_backoff',
      time_limit: 'session_pause',
      cost_limit: 'graceful_degradation',
      auto_recovery: true,
    });
    expect(shipped.server.host).toBe('127.0.0.1');
  });

  it('falls back to built-in defaults with a notice when there is no config.yaml', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-empty-'));
    const loaded = loadConfig({}, {}, dir);
    expect(loaded.file).toBeNull();
    expect(loaded.notices[0]).toMatch(/built-in defaults/);
    expect(loaded.config.server.port).toBe(8080);
  });

  it('refuses an explicitly named file that does not exist', () => {
    expect(problemsOf(() => loadConfig({ configPath: '/nonexistent/bridge.yaml' }, {}, '/'))).toEqual([
      'config file not found: /nonexistent/bridge.yaml',
    ]);
  });

  it('names the key, the bad value and the expectation for a value out of range', () => {
    const dir = writeConfig('alerts:\n  token_threshold: 1.5\n');
    expect(problemsOf(() => loadConfig({}, {}, dir))).toEqual(['alerts.token_threshold: expected a value <= 1 (got 1.5)']);
  });

  it('reports a wrong type with the key path', () => {
    const dir = writeConfig('server:\n  port: "eighty"\n');
    expect(problemsOf(() => loadConfig({}, {}, dir))).toEqual(['server.port: expected number (got "eighty")']);
  });

  it('reports a bad enum value with the allowed values', () => {
    const dir = writeConfig('recovery:\n  rate_limit: slow_down\n');
    const [problem] = problemsOf(() => loadConfig({}, {}, dir));
    expect(problem).toBe(
      'recovery.rate_limit: expected one of "exponential_backoff", "session_pause", "graceful_degradation", "notify" (got "slow_down")',
    );
  });

  it('reports unknown keys, nested and top level', () => {
    const dir = writeConfig('alerts:\n  token_treshold: 0.5\nextra: 1\n');
    expect(problemsOf(() => loadConfig({}, {}, dir)).sort()).toEqual(['alerts.token_treshold: unknown key', 'extra: unknown key']);
  });

  it('reports every problem at once, not only the first', () => {
    const dir = writeConfig('server:\n  port: 70000\nalerts:\n  cost_threshold: -1\nusage:\n  source: magic\n');
    const problems = problemsOf(() => loadConfig({}, {}, dir));
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/server\.port/);
    expect(problems.join('\n')).toMatch(/alerts\.cost_threshold/);
    expect(problems.join('\n')).toMatch(/usage\.source/);
  });

  it('reports YAML syntax errors and a non-mapping document', () => {
    expect(problemsOf(() => loadConfig({}, {}, writeConfig('alerts: [unclosed\n')))[0]).toMatch(/^YAML syntax/);
    expect(problemsOf(() => loadConfig({}, {}, writeConfig('- just\n- a list\n')))).toEqual(['(top level): expected a mapping of sections']);
    expect(problemsOf(() => loadConfig({}, {}, writeConfig('server: {}\nserver: {}\n')))[0]).toMatch(/YAML syntax/);
  });

  it('an empty file is the defaults', () => {
    expect(loadConfig({}, {}, writeConfig('')).config).toEqual(validateConfig({}));
  });

  it('applies environment overrides over the file and flags over the environment', () => {
    const dir = writeConfig('server:\n  port: 9000\n');
    const env = {
      CLAUDE_BRIDGE_PORT: '9100',
      CLAUDE_BRIDGE_HOST: '0.0.0.0',
      CLAUDE_BRIDGE_HOOKS_URL: 'ws://hooks:4000/stream',
      CLAUDE_BRIDGE_OTLP_HOST: '0.0.0.0',
      CLAUDE_BRIDGE_OTLP_PORT: '14318',
      LOG_LEVEL: 'DEBUG',
    };
    const fromEnv = loadConfig({}, env, dir).config;
    expect(fromEnv.otlp).toMatchObject({ host: '0.0.0.0', port: 14318 });
    expect(fromEnv.server).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(fromEnv.hooks_server.url).toBe('ws://hooks:4000/stream');
    expect(fromEnv.logging.level).toBe('debug');
    expect(loadConfig({ port: 9200, host: '127.0.0.2' }, env, dir).config.server).toMatchObject({ port: 9200, host: '127.0.0.2' });
  });

  it('names a bad environment value', () => {
    expect(problemsOf(() => loadConfig({}, { CLAUDE_BRIDGE_PORT: 'x' }, writeConfig('')))).toEqual([
      'CLAUDE_BRIDGE_PORT: expected a whole number (got "x")',
    ]);
    expect(problemsOf(() => loadConfig({}, { CLAUDE_BRIDGE_OTLP_PORT: '43 18' }, writeConfig('')))).toEqual([
      'CLAUDE_BRIDGE_OTLP_PORT: expected a whole number (got "43 18")',
    ]);
    expect(problemsOf(() => loadConfig({}, { LOG_LEVEL: 'loud' }, writeConfig('')))[0]).toMatch(/^logging\.level: expected one of/);
  });

  it('reads the config path from the environment', () => {
    const dir = writeConfig('alerts:\n  cost_threshold: 12\n');
    const loaded = loadConfig({}, { CLAUDE_BRIDGE_CONFIG: path.join(dir, 'config.yaml') }, '/');
    expect(loaded.config.alerts.cost_threshold).toBe(12);
  });
});
