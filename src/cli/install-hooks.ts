import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError, type CliIO, type Command } from './command.js';
import { TELEMETRY_OPTIONS, TELEMETRY_USAGE, withTelemetry } from './telemetry.js';
import { errorMessage } from '../util/errors.js';
import { isJsonObject } from '../util/json.js';

/** Claude Code hook events that accept HTTP hooks (SessionStart does not). */
export const HTTP_HOOK_EVENTS = [
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'Notification',
  'UserPromptSubmit',
  'Stop',
  'StopFailure',
  'SubagentStart',
  'SubagentStop',
  'PreCompact',
  'SessionEnd',
] as const;

const TOOL_EVENTS = new Set<string>(['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest']);
/** Above the bridge's longest hold (hooks.max_hold_ms: 50 s and 25 s), so a held answer still counts. */
const HELD_EVENT_TIMEOUT_S: Record<string, number> = { PreToolUse: 60, UserPromptSubmit: 30 };
/** Other events are answered at once; a short timeout keeps a stuck bridge from stalling Claude Code. */
const DEFAULT_TIMEOUT_S = 10;
export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:8080';
const STATUSLINE_COMMAND = 'claude-bridge statusline';

type Json = Record<string, unknown>;

export interface SettingsChange {
  settings: Json;
  changes: string[];
  warnings: string[];
}

/** A settings file the installer must not touch. */
export class SettingsError extends Error {}

export const installHooksCommand: Command = {
  name: 'install-hooks',
  usage: `claude-bridge install-hooks [--settings PATH] [--url URL] [--dry-run] [--uninstall] [--statusline] [--force-statusline] [--telemetry]

  --settings PATH      Claude Code settings file (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)
  --url URL            the bridge's base URL (default ${DEFAULT_BRIDGE_URL}); its hook entries are recognised by <URL>/hooks/
  --dry-run            print the resulting settings instead of writing them
  --uninstall          remove only the bridge's own entries (and its status line)
  --statusline         also set the status line to '${STATUSLINE_COMMAND} --url URL' (an existing different one is kept)
  --force-statusline   replace an existing different status line
${TELEMETRY_USAGE}

Installs an HTTP hook for ${HTTP_HOOK_EVENTS.join(', ')}.
A timestamped backup (settings.json.bak-<time>) is written before anything changes; running it
twice changes nothing.`,
  options: {
    settings: { type: 'string' },
    url: { type: 'string' },
    'dry-run': { type: 'boolean' },
    uninstall: { type: 'boolean' },
    statusline: { type: 'boolean' },
    'force-statusline': { type: 'boolean' },
    ...TELEMETRY_OPTIONS,
  },
  async run(values, io) {
    const base = bridgeUrl(values.url);
    const file = settingsPath(values.settings, io);
    const statusline = { statusline: Boolean(values.statusline || values['force-statusline']), forceStatusline: Boolean(values['force-statusline']) };
    try {
      const original = existsSync(file) ? readFileSync(file, 'utf8') : null;
      const settings = original === null ? {} : parseSettings(original, file);
      const hooks = values.uninstall ? uninstallBridgeHooks(settings, base) : installBridgeHooks(settings, base, statusline);
      const result = withTelemetry(hooks, values, (message) => new SettingsError(message));
      for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
      return applyChange(file, original, result, Boolean(values['dry-run']), io);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      io.stderr(`claude-bridge install-hooks: ${error.message}\n`);
      return 1;
    }
  },
};

/** Adds or updates one bridge entry per event; everything else in the file is left as it was. */
export function installBridgeHooks(
  input: Json,
  base: string,
  options: { statusline?: boolean; forceStatusline?: boolean } = {},
): SettingsChange {
  const settings = structuredClone(input);
  const changes: string[] = [];
  const warnings: string[] = [];
  const hooks = hooksSection(settings, true)!;
  for (const event of HTTP_HOOK_EVENTS) {
    const change = installEvent(hooks, event, base);
    if (change) changes.push(change);
  }
  if (options.statusline) installStatusLine(settings, base, Boolean(options.forceStatusline), changes, warnings);
  return { settings, changes, warnings };
}

/** Removes the entries whose URL starts with `<base>/hooks/`, and the status line if it is ours. */
export function uninstallBridgeHooks(input: Json, base: string): SettingsChange {
  const settings = structuredClone(input);
  const changes: string[] = [];
  const hooks = hooksSection(settings, false);
  if (hooks) {
    for (const event of Object.keys(hooks)) {
      const groups = hooks[event];
      if (!Array.isArray(groups)) continue;
      const own = ownEntries(groups, base);
      if (own.length === 0) continue;
      removeHooks(groups, new Set(own.map((entry) => entry.hook)));
      changes.push(`removed ${event}`);
      if (groups.length === 0) delete hooks[event];
    }
    if (changes.length > 0 && Object.keys(hooks).length === 0) delete settings.hooks;
  }
  if (isOwnStatusLine(settings.statusLine)) {
    delete settings.statusLine;
    changes.push('removed statusLine');
  }
  return { settings, changes, warnings: [] };
}

function installEvent(hooks: Json, event: string, base: string): string | null {
  const desired = { type: 'http', url: `${base}/hooks/${event}`, timeout: HELD_EVENT_TIMEOUT_S[event] ?? DEFAULT_TIMEOUT_S };
  const groups = hooks[event] ?? [];
  if (!Array.isArray(groups)) throw new SettingsError(`"hooks.${event}" is not a list; fix it by hand first (nothing was changed)`);
  hooks[event] = groups;
  const [first, ...duplicates] = ownEntries(groups, base);
  if (!first) {
    groups.push(TOOL_EVENTS.has(event) ? { matcher: '*', hooks: [desired] } : { hooks: [desired] });
    return `added ${event}`;
  }
  const unchanged = JSON.stringify(first.hook) === JSON.stringify(desired);
  first.group.hooks[first.group.hooks.indexOf(first.hook)] = desired;
  removeHooks(groups, new Set(duplicates.map((d) => d.hook)));
  if (unchanged && duplicates.length === 0) return null;
  return duplicates.length > 0 ? `updated ${event} (removed ${duplicates.length} duplicate entries)` : `updated ${event}`;
}

type Group = Json & { hooks: unknown[] };

function isGroup(value: unknown): value is Group {
  return isJsonObject(value) && Array.isArray(value.hooks);
}

/** The bridge's entries are the HTTP hooks whose URL starts with `<base>/hooks/`. */
function ownEntries(groups: unknown[], base: string): { group: Group; hook: unknown }[] {
  const found: { group: Group; hook: unknown }[] = [];
  for (const group of groups) {
    if (!isGroup(group)) continue;
    for (const hook of group.hooks) {
      if (isJsonObject(hook) && hook.type === 'http' && typeof hook.url === 'string' && hook.url.startsWith(`${base}/hooks/`)) {
        found.push({ group, hook });
      }
    }
  }
  return found;
}

/** Removes these hook entries; a matcher group left empty by that goes too. */
function removeHooks(groups: unknown[], doomed: Set<unknown>): void {
  for (let g = groups.length - 1; g >= 0; g--) {
    const group = groups[g];
    if (!isGroup(group)) continue;
    const kept = group.hooks.filter((hook) => !doomed.has(hook));
    if (kept.length === group.hooks.length) continue;
    group.hooks = kept;
    if (kept.length === 0) groups.splice(g, 1);
  }
}

function installStatusLine(settings: Json, base: string, force: boolean, changes: string[], warnings: string[]): void {
  const desired = { type: 'command', command: `${STATUSLINE_COMMAND} --url ${base}` };
  const existing = settings.statusLine;
  if (JSON.stringify(existing) === JSON.stringify(desired)) return;
  if (existing === undefined || isOwnStatusLine(existing) || force) {
    changes.push(existing === undefined ? 'set statusLine' : 'replaced statusLine');
    settings.statusLine = desired;
    return;
  }
  warnings.push(`kept the existing statusLine (${JSON.stringify(existing)}); pass --force-statusline to replace it`);
}

function isOwnStatusLine(value: unknown): boolean {
  return isJsonObject(value) && typeof value.command === 'string' && (value.command === STATUSLINE_COMMAND || value.command.startsWith(`${STATUSLINE_COMMAND} `));
}

function hooksSection(settings: Json, create: boolean): Json | null {
  if (settings.hooks === undefined) {
    if (!create) return null;
    settings.hooks = {};
  }
  if (!isJsonObject(settings.hooks)) throw new SettingsError('"hooks" is not an object; fix it by hand first (nothing was changed)');
  return settings.hooks;
}

function applyChange(file: string, original: string | null, result: SettingsChange, dryRun: boolean, io: CliIO): number {
  if (result.changes.length === 0) {
    io.stdout(`${file}: already up to date; nothing to change.\n`);
    return 0;
  }
  const text = `${JSON.stringify(result.settings, null, indentOf(original))}\n`;
  const summary = result.changes.map((c) => `  ${c}`).join('\n');
  if (dryRun) {
    io.stderr(`${file} (dry run, not written):\n${summary}\n`);
    io.stdout(text);
    return 0;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const backup = original === null ? null : writeBackup(file);
  writeAtomically(file, text);
  io.stdout(`${file}:\n${summary}\n${backup ? `backup: ${backup}\n` : ''}`);
  return 0;
}

function writeBackup(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  let backup = `${file}.bak-${stamp}`;
  for (let n = 1; existsSync(backup); n++) backup = `${file}.bak-${stamp}-${n}`;
  copyFileSync(file, backup);
  return backup;
}

function writeAtomically(file: string, text: string): void {
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
}

function parseSettings(text: string, file: string): Json {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${file} is not valid JSON (${errorMessage(error)}); nothing was changed`);
  }
  if (!isJsonObject(value)) throw new SettingsError(`${file} does not hold a JSON object; nothing was changed`);
  return value;
}

function indentOf(original: string | null): number | string {
  const match = original === null ? null : /^([ \t]+)"/m.exec(original);
  return match?.[1] ?? 2;
}

function bridgeUrl(raw: string | boolean | undefined): string {
  const value = typeof raw === 'string' ? raw : DEFAULT_BRIDGE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url expects an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url expects an http(s) URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

function settingsPath(raw: string | boolean | undefined, io: CliIO): string {
  if (typeof raw === 'string') return path.resolve(io.cwd, raw);
  const configDir = io.env.CLAUDE_CONFIG_DIR || path.join(io.env.HOME || homedir(), '.claude');
  return path.join(configDir, 'settings.json');
}
