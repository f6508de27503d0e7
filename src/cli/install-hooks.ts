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

/** Command hooks exist for every event, SessionStart included. */
export const COMMAND_HOOK_EVENTS = ['SessionStart', ...HTTP_HOOK_EVENTS] as const;

const TOOL_EVENTS = new Set<string>(['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest']);
/** Above the bridge's longest hold (hooks.max_hold_ms: 50 s and 25 s), so a held answer still counts. */
const HELD_EVENT_TIMEOUT_S: Record<string, number> = { PreToolUse: 60, UserPromptSubmit: 30 };
/** Other events are answered at once; a short timeout keeps a stuck bridge from stalling Claude Code. */
const DEFAULT_TIMEOUT_S = 10;
export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:8080';
const STATUSLINE_COMMAND = 'claude-bridge statusline';
/** The bridge's command hooks are the commands that start with this (whatever their options). */
const HOOK_COMMAND = 'claude-bridge hook';

/** HTTP hooks (Claude Code ≥ 2.1.63), or `claude-bridge hook` commands (any version; hold a pause with the bridge down). */
export type HookKind = 'http' | 'command';

export interface InstallOptions {
  kind?: HookKind;
  /** The bridge's config file, named in each command hook (read when the bridge is down). */
  configFile?: string;
  statusline?: boolean;
  forceStatusline?: boolean;
}

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
  usage: `claude-bridge install-hooks [--settings PATH] [--url URL] [--command [--config FILE]] [--dry-run] [--uninstall] [--statusline] [--force-statusline] [--telemetry]

  --settings PATH      Claude Code settings file (default $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json)
  --url URL            the bridge's base URL (default ${DEFAULT_BRIDGE_URL}); its HTTP hook entries are recognised by <URL>/hooks/
  --command            install '${HOOK_COMMAND} <Event> --url URL' command hooks instead of HTTP hooks: for Claude Code
                       without HTTP hooks, and to keep a pause holding while the bridge is down
  --config FILE        with --command: the bridge's config file, passed to each command (state.dir,
                       hooks.command_fallback and the recovery rules it applies with the bridge down)
  --dry-run            print the resulting settings instead of writing them
  --uninstall          remove only the bridge's own entries, HTTP and command (and its status line)
  --statusline         also set the status line to '${STATUSLINE_COMMAND} --url URL' (an existing different one is kept)
  --force-statusline   replace an existing different status line
${TELEMETRY_USAGE}

Installs an HTTP hook for ${HTTP_HOOK_EVENTS.join(', ')};
with --command, a command hook for those and SessionStart. Either kind replaces the other: the
bridge never gets an event twice. A timestamped backup (settings.json.bak-<time>) is written
before anything changes; running it twice changes nothing. The command hooks run
'${HOOK_COMMAND}', so the claude-bridge executable must be on the PATH Claude Code runs with.`,
  options: {
    settings: { type: 'string' },
    url: { type: 'string' },
    command: { type: 'boolean' },
    config: { type: 'string' },
    'dry-run': { type: 'boolean' },
    uninstall: { type: 'boolean' },
    statusline: { type: 'boolean' },
    'force-statusline': { type: 'boolean' },
    ...TELEMETRY_OPTIONS,
  },
  async run(values, io) {
    const base = parseBridgeUrl(values.url);
    const file = settingsPath(values.settings, io);
    if (values.config !== undefined && !values.command) throw new UsageError('--config only applies to command hooks (--command)');
    const configFile = typeof values.config === 'string' ? path.resolve(io.cwd, values.config) : undefined;
    if (configFile && !values.uninstall && !existsSync(configFile)) io.stderr(`warning: ${configFile} does not exist (yet); the command hooks name it anyway\n`);
    const options: InstallOptions = {
      kind: values.command ? 'command' : 'http',
      ...(configFile ? { configFile } : {}),
      statusline: Boolean(values.statusline || values['force-statusline']),
      forceStatusline: Boolean(values['force-statusline']),
    };
    try {
      const original = existsSync(file) ? readFileSync(file, 'utf8') : null;
      const settings = original === null ? {} : parseSettings(original, file);
      const hooks = values.uninstall ? uninstallBridgeHooks(settings, base) : installBridgeHooks(settings, base, options);
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

/**
 * Adds or updates one bridge entry per event, of the kind asked for, and removes the bridge's
 * entries of the other kind; everything else in the file is left as it was.
 */
export function installBridgeHooks(input: Json, base: string, options: InstallOptions = {}): SettingsChange {
  const settings = structuredClone(input);
  const changes: string[] = [];
  const warnings: string[] = [];
  const hooks = hooksSection(settings, true)!;
  const kind = options.kind ?? 'http';
  const events = kind === 'command' ? COMMAND_HOOK_EVENTS : HTTP_HOOK_EVENTS;
  changes.push(...removeOwnEntries(hooks, base, kind === 'command' ? 'http' : 'command'));
  for (const event of events) {
    const change = installEvent(hooks, event, base, desiredHook(kind, event, base, options.configFile));
    if (change) changes.push(change);
  }
  if (options.statusline) installStatusLine(settings, base, Boolean(options.forceStatusline), changes, warnings);
  return { settings, changes, warnings };
}

/** Removes the HTTP entries whose URL starts with `<base>/hooks/`, the bridge's command hooks, and the status line if it is ours. */
export function uninstallBridgeHooks(input: Json, base: string): SettingsChange {
  const settings = structuredClone(input);
  const changes: string[] = [];
  const hooks = hooksSection(settings, false);
  if (hooks) {
    changes.push(...removeOwnEntries(hooks, base));
    if (changes.length > 0 && Object.keys(hooks).length === 0) delete settings.hooks;
  }
  if (isOwnStatusLine(settings.statusLine)) {
    delete settings.statusLine;
    changes.push('removed statusLine');
  }
  return { settings, changes, warnings: [] };
}

/** The bridge's entries of one kind (both kinds when none is named), removed from every event. */
function removeOwnEntries(hooks: Json, base: string, kind?: HookKind): string[] {
  const changes: string[] = [];
  for (const event of Object.keys(hooks)) {
    const groups = hooks[event];
    if (!Array.isArray(groups)) continue;
    const own = ownEntries(groups, base, kind);
    if (own.length === 0) continue;
    removeHooks(groups, new Set(own.map((entry) => entry.hook)));
    changes.push(kind ? `removed ${event} (${kind === 'http' ? 'HTTP hook' : 'command hook'})` : `removed ${event}`);
    if (groups.length === 0) delete hooks[event];
  }
  return changes;
}

function desiredHook(kind: HookKind, event: string, base: string, configFile: string | undefined): Json {
  const timeout = HELD_EVENT_TIMEOUT_S[event] ?? DEFAULT_TIMEOUT_S;
  if (kind === 'http') return { type: 'http', url: `${base}/hooks/${event}`, timeout };
  const config = configFile ? ` --config ${shellQuote(configFile)}` : '';
  return { type: 'command', command: `${HOOK_COMMAND} ${event} --url ${shellQuote(base)}${config}`, timeout };
}

/** Claude Code runs command hooks through a shell: quote what the shell would split or expand. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function installEvent(hooks: Json, event: string, base: string, desired: Json): string | null {
  const groups = hooks[event] ?? [];
  if (!Array.isArray(groups)) throw new SettingsError(`"hooks.${event}" is not a list; fix it by hand first (nothing was changed)`);
  hooks[event] = groups;
  const [first, ...duplicates] = ownEntries(groups, base, desired.type as HookKind);
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

/**
 * The bridge's entries: HTTP hooks whose URL starts with `<base>/hooks/`, and command hooks that
 * run `claude-bridge hook` (one settings file talks to one bridge, so any --url is ours).
 */
function ownEntries(groups: unknown[], base: string, kind?: HookKind): { group: Group; hook: unknown }[] {
  const found: { group: Group; hook: unknown }[] = [];
  for (const group of groups) {
    if (!isGroup(group)) continue;
    for (const hook of group.hooks) {
      if (isOwnHook(hook, base) && (kind === undefined || (hook as Json).type === kind)) found.push({ group, hook });
    }
  }
  return found;
}

function isOwnHook(hook: unknown, base: string): boolean {
  if (!isJsonObject(hook)) return false;
  if (hook.type === 'http') return typeof hook.url === 'string' && hook.url.startsWith(`${base}/hooks/`);
  return hook.type === 'command' && typeof hook.command === 'string' && hook.command.startsWith(`${HOOK_COMMAND} `);
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

/** The bridge's base URL from --url (default DEFAULT_BRIDGE_URL), without trailing slashes; a usage error unless http(s). */
export function parseBridgeUrl(raw: string | boolean | undefined): string {
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
