import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { errorMessage } from '../util/errors.js';
import type { z } from 'zod';
import { configSchema, type BridgeConfig } from './schema.js';
import { isJsonObject } from '../util/json.js';

export const DEFAULT_CONFIG_FILE = 'config.yaml';

/** A config that cannot be used; `problems` lists every one, each naming its key. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigOverrides {
  configPath?: string;
  port?: number;
  host?: string;
}

export interface LoadedConfig {
  config: BridgeConfig;
  /** The file that was read, or null when built-in defaults were used. */
  file: string | null;
  /** Things worth a log line (e.g. falling back to defaults). */
  notices: string[];
}

/** Environment variables that override the file. */
export const ENV = {
  config: 'CLAUDE_BRIDGE_CONFIG',
  name: 'CLAUDE_BRIDGE_NAME',
  port: 'CLAUDE_BRIDGE_PORT',
  host: 'CLAUDE_BRIDGE_HOST',
  hooksUrl: 'CLAUDE_BRIDGE_HOOKS_URL',
  authToken: 'CLAUDE_BRIDGE_AUTH_TOKEN',
  stateDir: 'CLAUDE_BRIDGE_STATE_DIR',
  alertingMode: 'CLAUDE_BRIDGE_ALERTING_MODE',
  allowedHosts: 'CLAUDE_BRIDGE_ALLOWED_HOSTS',
  logLevel: 'LOG_LEVEL',
} as const;

/**
 * defaults < config file < environment < command-line flags. An explicitly named file that does
 * not exist is an error; the default `config.yaml` missing means built-in defaults.
 */
export function loadConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): LoadedConfig {
  const notices: string[] = [];
  const explicit = overrides.configPath ?? env[ENV.config];
  const file = path.resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  let raw: unknown = {};
  let usedFile: string | null = file;
  if (existsSync(file)) {
    raw = parseYamlFile(file);
  } else if (explicit) {
    throw new ConfigError(file, [`config file not found: ${file}`]);
  } else {
    usedFile = null;
    notices.push(`no ${DEFAULT_CONFIG_FILE} in ${cwd}: using built-in defaults`);
  }
  const source = usedFile ?? 'built-in defaults';
  const merged = applyOverrides(raw, overrides, env, source);
  return { config: validateConfig(merged, source), file: usedFile, notices };
}

export function parseYamlFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
    JSON.stringify(value); // a circular alias (&a … *a inside itself) cannot become a config
  } catch (error) {
    throw new ConfigError(file, [`YAML: ${aliasProblem(error)}`]);
  }
  return value ?? {};
}

function aliasProblem(error: unknown): string {
  const message = errorMessage(error);
  if (/circular/i.test(message)) return 'an alias refers to the node that contains it (a circular reference); use a copy instead';
  if (/alias/i.test(message)) return `${message} (too many or too deep aliases)`;
  return message;
}

export function validateConfig(raw: unknown, source = 'config'): BridgeConfig {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(source, result.error.issues.map(describeIssue));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => (issue.path.length ? `${key}.${k}` : k));
    return `${names.join(', ')}: unknown key${names.length > 1 ? 's' : ''}`;
  }
  const got = 'input' in issue ? ` (got ${JSON.stringify(issue.input) ?? 'nothing'})` : '';
  return `${key}: ${expectation(issue)}${got}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `expected ${issue.origin === 'string' ? 'length' : 'a value'} ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `expected ${issue.origin === 'string' ? 'length' : 'a value'} ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_union':
      return 'expected "plan", "p90" or a positive whole number';
    default:
      return `expected ${issue.message}`;
  }
}

function applyOverrides(raw: unknown, overrides: ConfigOverrides, env: NodeJS.ProcessEnv, source: string): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, ['(top level): expected a mapping of sections']);
  }
  const config = structuredClone(raw) as Record<string, unknown>;
  const set = (section: string, key: string, value: unknown) => {
    const current = config[section];
    const target = isJsonObject(current) ? current : {};
    config[section] = { ...target, [key]: value };
  };
  const envPort = env[ENV.port];
  if (envPort !== undefined) set('server', 'port', parseEnvNumber(ENV.port, envPort, source));
  if (env[ENV.name]) set('bridge', 'name', env[ENV.name]);
  if (env[ENV.host]) set('server', 'host', env[ENV.host]);
  if (env[ENV.hooksUrl]) set('hooks_server', 'url', env[ENV.hooksUrl]);
  if (env[ENV.authToken]) set('auth', 'token', env[ENV.authToken]);
  if (env[ENV.stateDir]) set('state', 'dir', env[ENV.stateDir]);
  if (env[ENV.alertingMode]) set('alerting', 'mode', env[ENV.alertingMode]);
  if (env[ENV.allowedHosts]) set('server', 'allowed_hosts', env[ENV.allowedHosts]!.split(',').map((h) => h.trim()).filter(Boolean));
  if (env[ENV.logLevel]) set('logging', 'level', env[ENV.logLevel]!.toLowerCase());
  if (overrides.port !== undefined) set('server', 'port', overrides.port);
  if (overrides.host !== undefined) set('server', 'host', overrides.host);
  return config;
}

function parseEnvNumber(name: string, value: string, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(source, [`${name}: expected a whole number (got ${JSON.stringify(value)})`]);
  return n;
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(homedir(), p.slice(1)) : p;
}
