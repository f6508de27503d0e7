import { UsageError } from './command.js';
import type { SettingsChange } from './install-hooks.js';
import { isJsonObject } from '../util/json.js';

/** The bridge's OTLP receiver (config `otlp.host`/`otlp.port`). */
export const DEFAULT_TELEMETRY_URL = 'http://127.0.0.1:4318';

/**
 * Which `env` keys the bridge set, and the user's values it replaced (with --force-telemetry):
 * kept in the same `env` block, so `--uninstall` removes exactly those and restores the rest.
 */
export const TELEMETRY_MARKER = 'CLAUDE_BRIDGE_TELEMETRY_ENV';

/** Claude Code reads these from settings.json's `env` block (its monitoring documentation). */
export function telemetryEnv(endpoint: string): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    // Short intervals: a cost or token alert can fire seconds after the spend, a 429 at once.
    OTEL_METRIC_EXPORT_INTERVAL: '5000',
    OTEL_LOGS_EXPORT_INTERVAL: '1000',
  };
}

/** Set by the user, these would send a signal elsewhere than the endpoint above. */
const OVERRIDING_KEYS = ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL'];

/** A user's own value that works with the bridge as it is (kept, never tracked). */
function compatible(key: string, value: string): boolean {
  if (key === 'OTEL_METRICS_EXPORTER' || key === 'OTEL_LOGS_EXPORTER') return value.split(',').map((v) => v.trim()).includes('otlp');
  if (key === 'OTEL_EXPORTER_OTLP_PROTOCOL') return value === 'http/json' || value === 'http/protobuf';
  if (key === 'OTEL_METRIC_EXPORT_INTERVAL' || key === 'OTEL_LOGS_EXPORT_INTERVAL') return /^\d+$/.test(value);
  return false;
}

export const TELEMETRY_OPTIONS = {
  telemetry: { type: 'boolean' },
  'telemetry-url': { type: 'string' },
  'force-telemetry': { type: 'boolean' },
} as const;

export const TELEMETRY_USAGE = `  --telemetry          also make Claude Code export its own telemetry (OTLP, http/protobuf) to the bridge:
                       adds CLAUDE_CODE_ENABLE_TELEMETRY and the OTEL_* variables to settings.json's "env"
  --telemetry-url URL  the bridge's OTLP receiver (default ${DEFAULT_TELEMETRY_URL}: config otlp.host/otlp.port)
  --force-telemetry    replace telemetry variables you set yourself (--uninstall restores them)`;

interface Marker {
  keys: string[];
  replaced: Record<string, string>;
}

type Values = Record<string, string | boolean | undefined>;

/** Makes the error for a settings file the installer must not touch (its SettingsError; no import cycle). */
export type Refusal = (message: string) => Error;

/** Adds (with --telemetry) or, on --uninstall, removes the bridge's telemetry variables. */
export function withTelemetry(change: SettingsChange, values: Values, refuse: Refusal): SettingsChange {
  if (values.uninstall) return merge(change, uninstallTelemetry(change.settings, refuse));
  if (!values.telemetry && !values['force-telemetry'] && values['telemetry-url'] === undefined) return change;
  return merge(change, installTelemetry(change.settings, telemetryUrl(values['telemetry-url']), Boolean(values['force-telemetry']), refuse));
}

export function installTelemetry(input: Record<string, unknown>, endpoint: string, force: boolean, refuse: Refusal): SettingsChange {
  const settings = structuredClone(input);
  const env = envSection(settings, refuse);
  const marker = readMarker(env, refuse);
  const changes: string[] = [];
  const warnings: string[] = [];
  const conflicts: string[] = [];
  const desired = telemetryEnv(endpoint);
  for (const key of OVERRIDING_KEYS) {
    if (env[key] === undefined || marker.keys.includes(key)) continue;
    if (!force) conflicts.push(`env.${key} is set (${JSON.stringify(env[key])}) and would override the endpoint for that signal`);
    else {
      marker.replaced[key] ??= asText(env[key]);
      delete env[key];
      changes.push(`removed env.${key} (restored by --uninstall)`);
    }
  }
  for (const [key, value] of Object.entries(desired)) {
    const current = env[key];
    const ours = marker.keys.includes(key);
    if (current === value) continue;
    if (current === undefined || ours) {
      env[key] = value;
      if (!ours) marker.keys.push(key);
      changes.push(`${current === undefined ? 'set' : 'updated'} env.${key}=${value}`);
    } else if (typeof current === 'string' && compatible(key, current)) {
      if (key.endsWith('_INTERVAL')) warnings.push(`kept your env.${key}=${current} (the bridge would use ${value})`);
    } else if (force) {
      marker.replaced[key] ??= asText(current);
      env[key] = value;
      marker.keys.push(key);
      changes.push(`replaced env.${key}=${value} (yours, ${JSON.stringify(current)}, is restored by --uninstall)`);
    } else {
      conflicts.push(`env.${key} is already set to ${JSON.stringify(current)}`);
    }
  }
  if (conflicts.length > 0) throw refuse(refusal(conflicts, endpoint));
  if (changes.length > 0) {
    env[TELEMETRY_MARKER] = JSON.stringify({ keys: [...new Set(marker.keys)].sort(), replaced: marker.replaced });
    settings.env = env;
  }
  return { settings, changes, warnings };
}

/** Removes the variables the bridge set and puts back the ones it replaced; yours stay. */
export function uninstallTelemetry(input: Record<string, unknown>, refuse: Refusal): SettingsChange {
  const settings = structuredClone(input);
  if (!isJsonObject(settings.env) || settings.env[TELEMETRY_MARKER] === undefined) return { settings, changes: [], warnings: [] };
  const env = settings.env;
  const marker = readMarker(env, refuse);
  const changes: string[] = [];
  for (const key of marker.keys) {
    if (env[key] === undefined) continue;
    delete env[key];
    changes.push(`removed env.${key}`);
  }
  for (const [key, value] of Object.entries(marker.replaced)) {
    env[key] = value;
    changes.push(`restored env.${key}=${value}`);
  }
  delete env[TELEMETRY_MARKER];
  if (changes.length === 0) changes.push(`removed env.${TELEMETRY_MARKER}`);
  if (Object.keys(env).length === 0) delete settings.env;
  return { settings, changes, warnings: [] };
}

function refusal(conflicts: string[], endpoint: string): string {
  return [
    `Claude Code's telemetry is already configured in settings.json; nothing was changed:`,
    ...conflicts.map((c) => `  - ${c}`),
    `Claude Code exports to one endpoint. Either:`,
    `  - pass --force-telemetry to point it at the bridge (${endpoint}); --uninstall restores your values, or`,
    `  - keep your endpoint and fan out from your OpenTelemetry Collector: add an exporter`,
    `      otlphttp/claude-bridge: { endpoint: ${endpoint}, compression: gzip }`,
    `    to the metrics and logs pipelines that receive Claude Code's telemetry (README: "Claude Code's telemetry").`,
  ].join('\n');
}

function envSection(settings: Record<string, unknown>, refuse: Refusal): Record<string, unknown> {
  if (settings.env === undefined) return {};
  if (!isJsonObject(settings.env)) throw refuse('"env" is not an object; fix it by hand first (nothing was changed)');
  return settings.env;
}

function readMarker(env: Record<string, unknown>, refuse: Refusal): Marker {
  const raw = env[TELEMETRY_MARKER];
  if (typeof raw !== 'string') return { keys: [], replaced: {} };
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (isJsonObject(parsed) && Array.isArray(parsed.keys) && isJsonObject(parsed.replaced)) {
      return {
        keys: parsed.keys.filter((k): k is string => typeof k === 'string'),
        replaced: Object.fromEntries(Object.entries(parsed.replaced).filter((e): e is [string, string] => typeof e[1] === 'string')),
      };
    }
  } catch {
    // an edited marker: treated as none below
  }
  throw refuse(`env.${TELEMETRY_MARKER} was edited and cannot be read; remove the bridge's telemetry variables by hand`);
}

function telemetryUrl(raw: string | boolean | undefined): string {
  const value = typeof raw === 'string' ? raw : DEFAULT_TELEMETRY_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--telemetry-url expects an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--telemetry-url expects an http(s) URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function merge(a: SettingsChange, b: SettingsChange): SettingsChange {
  return { settings: b.settings, changes: [...a.changes, ...b.changes], warnings: [...a.warnings, ...b.warnings] };
}
