import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { BridgeConfig } from '../config/schema.js';
import type { HookDecision, HookInput } from '../recovery/decide.js';
import type { PersistedState } from '../recovery/store.js';
import type { ActiveAlert, RecoverySnapshot } from '../recovery/types.js';
import { UsageError, type CliIO, type Command } from './command.js';
import { DEFAULT_BRIDGE_URL, parseBridgeUrl } from './install-hooks.js';
// Type-only: erased at build, so the modules still load lazily, only when the bridge is down.
import type * as DecideModule from '../recovery/decide.js';
import type * as StoreModule from '../recovery/store.js';

/*
 * Runs once per Claude Code hook event, so it starts as little as it can: node:http and nothing
 * else on the way to the bridge. Config, zod and the decision code load only when the bridge
 * cannot answer.
 */

const HOOK_EVENT = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * How long the bridge may take, below the timeout install-hooks --command gives the event: a
 * backoff hold (hooks.max_hold_ms) fits, and a bridge that hangs still leaves time to fall back.
 */
const BRIDGE_DEADLINE_MS: Record<string, number> = { PreToolUse: 58_000, UserPromptSubmit: 28_000 };
const DEFAULT_BRIDGE_DEADLINE_MS = 8_000;
/** The bridge takes hook inputs up to server.events_body_limit (32 MB): PostToolUse carries tool output. */
const MAX_INPUT_BYTES = 32 * 1024 * 1024;
const MAX_ANSWER_BYTES = 1024 * 1024;

type Json = Record<string, unknown>;

type BridgeReply =
  | { kind: 'answer'; body: string }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'unreachable'; why: string };

/**
 * `claude-bridge hook <Event>`: Claude Code's command hook, for when HTTP hooks cannot be used.
 * Claude Code's contract: exit 0 with JSON on stdout is the decision; exit 2 would block (so this
 * command never uses it); any other exit is a non-blocking error and the action proceeds.
 */
export const hookCommand: Command = {
  name: 'hook',
  usage: `claude-bridge hook <Event> [--url URL] [--config FILE] [--timeout-ms N]

  <Event>           the hook event, e.g. PreToolUse (Claude Code's hook_event_name)
  --url URL         the bridge (default $CLAUDE_BRIDGE_URL or ${DEFAULT_BRIDGE_URL})
  --config FILE     the bridge's config file (default $CLAUDE_BRIDGE_CONFIG, else built-in defaults):
                    read only when the bridge cannot be reached, for state.dir, hooks.command_fallback
                    and the recovery rules
  --timeout-ms N    how long to wait for the bridge's answer (default: ${BRIDGE_DEADLINE_MS.PreToolUse} for PreToolUse,
                    ${BRIDGE_DEADLINE_MS.UserPromptSubmit} for UserPromptSubmit, ${DEFAULT_BRIDGE_DEADLINE_MS} otherwise: room for a backoff hold)

Reads the hook input on stdin, posts it to <URL>/hooks/<Event> and prints the bridge's decision
(exit 0, JSON on stdout). When the bridge cannot be reached (or fails with a 5xx), applies
hooks.command_fallback: last_state answers from the recovery state the bridge last saved in
state.dir (a pause keeps holding until its resume time), fail_open lets everything through.
Errors exit 1: Claude Code then proceeds and shows the message. Install it with
'claude-bridge install-hooks --command'.`,
  options: {
    url: { type: 'string' },
    config: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
  async run(values, io) {
    const event = values.event;
    if (typeof event !== 'string' || !HOOK_EVENT.test(event)) {
      throw new UsageError(`expects the hook event name first, e.g. 'claude-bridge hook PreToolUse' (got ${JSON.stringify(event ?? null)})`);
    }
    const input = parseInput(await readInput(io.stdin));
    if (typeof input === 'string') return fail(io, input);
    if (typeof input.hook_event_name === 'string' && input.hook_event_name !== event) {
      return fail(io, `the command names the hook event "${event}" but the input's hook_event_name is "${input.hook_event_name}"`);
    }
    const url = parseBridgeUrl(typeof values.url === 'string' ? values.url : io.env.CLAUDE_BRIDGE_URL || undefined);
    const budget = { startedAt: Date.now(), ms: deadline(values, event) };
    const reply = await askBridge(url, event, JSON.stringify(input), budget.ms);
    if (reply.kind === 'refused') return fail(io, `the bridge at ${url} refused the hook input (${reply.status}: ${reply.message})`);
    if (reply.kind === 'answer') return printAnswer(io, reply.body, url);
    return answerFromDisk(event, input, values, io, `${url} ${reply.why}`, budget);
  },
};

function fail(io: CliIO, message: string): number {
  io.stderr(`claude-bridge hook: ${message}\n`);
  return 1;
}

function printAnswer(io: CliIO, body: string, url: string): number {
  if (body.trim() === '') return 0;
  try {
    const answer = JSON.parse(body) as unknown;
    if (isObject(answer)) {
      io.stdout(`${JSON.stringify(answer)}\n`);
      return 0;
    }
  } catch {
    // reported below
  }
  return fail(io, `the bridge at ${url} answered something that is not a JSON object: ${JSON.stringify(body.slice(0, 120))}`);
}

function deadline(values: Record<string, string | boolean | undefined>, event: string): number {
  if (values['timeout-ms'] === undefined) return BRIDGE_DEADLINE_MS[event] ?? DEFAULT_BRIDGE_DEADLINE_MS;
  const ms = Number(values['timeout-ms']);
  if (!Number.isInteger(ms) || ms <= 0) throw new UsageError(`--timeout-ms expects a positive whole number, got ${JSON.stringify(values['timeout-ms'])}`);
  return ms;
}

/** The hook input as an object, or what is wrong with it. */
function parseInput(text: string): Json | string {
  if (text.trim() === '') return 'no hook input on stdin (Claude Code writes the event as JSON there)';
  try {
    const value = JSON.parse(text) as unknown;
    return isObject(value) ? value : 'the hook input on stdin is not a JSON object';
  } catch (error) {
    return `the hook input on stdin is not JSON (${(error as Error).message})`;
  }
}

async function readInput(stdin: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stdin || (stdin as { isTTY?: boolean }).isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`the hook input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** POSTs the input to /hooks/<event>; never throws. */
async function askBridge(base: string, event: string, body: string, deadlineMs: number): Promise<BridgeReply> {
  const url = new URL(`${base}/hooks/${event}`);
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    let settled = false;
    const settle = (reply: BridgeReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reply);
    };
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      agent: false, // no kept-alive socket: the process exits as soon as it has printed
    });
    const timer = setTimeout(() => {
      settle({ kind: 'unreachable', why: `gave no answer within ${deadlineMs} ms` });
      req.destroy();
    }, deadlineMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'unreachable', why: `cannot be reached (${error.code ?? error.message})` }));
    req.on('response', (res) => {
      readAnswer(res).then(
        (text) => settle(classify(res.statusCode ?? 0, text)),
        (error: Error) => settle({ kind: 'unreachable', why: `broke off its answer (${error.message})` }),
      );
    });
    req.end(body);
  });
}

function classify(status: number, text: string): BridgeReply {
  if (status >= 200 && status < 300) return { kind: 'answer', body: text };
  if (status >= 500) return { kind: 'unreachable', why: `failed with ${status}` };
  let message = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not JSON: the raw text says it
  }
  return { kind: 'refused', status, message };
}

function readAnswer(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('connection closed')));
  });
}

/**
 * The bridge did not answer: apply hooks.command_fallback. last_state decides as the bridge would
 * from the state it last saved (a missing file means it never left normal), fail_open allows.
 */
async function answerFromDisk(
  event: string,
  input: Json,
  values: Record<string, string | boolean | undefined>,
  io: CliIO,
  why: string,
  budget: { startedAt: number; ms: number },
): Promise<number> {
  const { decide, renderHookOutput } = await import('../recovery/decide.js');
  const hookInput = { hook_event_name: event, ...(typeof input.tool_name === 'string' ? { tool_name: input.tool_name } : {}) };
  if (!decidedInAnyState(hookInput, decide)) {
    io.stdout('{}\n'); // nothing to read: no state changes this event's answer
    return 0;
  }
  const [{ loadConfig, validateConfig, expandHome, ConfigError, ENV }, { persistedStateSchema, STATE_FILE }, { actionFor }] = await Promise.all([
    import('../config/index.js'),
    import('../recovery/store.js'),
    import('../alerts/definitions.js'),
  ]);
  const configFile = typeof values.config === 'string' ? values.config : io.env[ENV.config];
  let config: BridgeConfig;
  try {
    config = configFile
      ? loadConfig({ configPath: configFile }, io.env, io.cwd).config
      : validateConfig(io.env[ENV.stateDir] ? { state: { dir: io.env[ENV.stateDir] } } : {}, 'built-in defaults');
  } catch (error) {
    if (error instanceof ConfigError) return fail(io, `the bridge ${why}, and its config cannot be read to fall back: ${error.message}`);
    throw error;
  }
  if (config.hooks.command_fallback === 'fail_open') {
    io.stdout('{}\n');
    return 0;
  }
  const file = path.join(expandHome(config.state.dir), STATE_FILE);
  const saved = await readSavedState(file, persistedStateSchema);
  if (typeof saved === 'string') return fail(io, `the bridge ${why}, and its saved state ${file} cannot be used (${saved}); letting the call through`);
  const now = Date.now();
  const snapshot = saved === null ? null : snapshotFromSaved(saved, config, now, (type) => actionFor(type, config));
  const decision = snapshot === null ? ({ kind: 'allow' } as const) : decide(hookInput, snapshot, { maxHoldMs: config.hooks.max_hold_ms });
  if (decision.kind === 'delay') {
    // a hold, within what is left of the time a silent bridge already took, so Claude Code gets the answer
    const left = Math.max(0, budget.startedAt + budget.ms - Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.min(decision.ms, left)));
  }
  io.stdout(`${JSON.stringify(renderHookOutput(event, withOrigin(decision, why)))}\n`);
  return 0;
}

/**
 * Whether any recovery state changes this event's answer: asked of the decision code itself, once
 * per effect (paused; backing off; degraded with this very tool restricted). Most events
 * (PostToolUse, Stop, …) have no decision, and need neither config nor state file, which cost
 * most of this command's time (yaml, zod) while the bridge is down.
 */
function decidedInAnyState(input: HookInput, decide: typeof DecideModule.decide): boolean {
  const normal: RecoverySnapshot = {
    state: 'normal',
    stateSince: 0,
    now: 0,
    activeAlerts: [],
    backoff: { active: false, attempt: 0, delayMs: 0, until: null },
    pausedUntil: null,
    degraded: { active: false, rules: { deny_tools: [], context_message: null } },
  };
  const effects: RecoverySnapshot[] = [
    { ...normal, state: 'paused', pausedUntil: 1 },
    { ...normal, state: 'backoff', backoff: { active: true, attempt: 1, delayMs: 1, until: 1 } },
    { ...normal, state: 'degraded', degraded: { active: true, rules: { deny_tools: input.tool_name ? [input.tool_name] : [], context_message: 'budget' } } },
  ];
  return effects.some((snapshot) => {
    const answer = decide(input, snapshot, { maxHoldMs: { [input.hook_event_name]: 1 } });
    return answer.kind !== 'allow' || answer.context !== undefined;
  });
}

/** The saved state, null when there is none, or what is wrong with the file (it is the bridge's: never moved or rewritten here). */
async function readSavedState(
  file: string,
  schema: typeof StoreModule.persistedStateSchema,
): Promise<PersistedState | null | string> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return (error as Error).message;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return `unexpected content: ${issue?.path.join('.') || 'root'} ${issue?.message ?? ''}`.trim();
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * What the bridge's recovery controller would report now from this saved state, without it
 * running: one-shot signals past their expiry have lapsed, a pause past its resume time has ended
 * (with auto_recovery), and the effects follow the actions of the alerts still active. Not the
 * controller's own restore: that drops the embedded evaluator's alerts (it re-fires them on start),
 * which here, with no evaluator, would silently end a degradation or backoff the bridge left on.
 */
function snapshotFromSaved(
  saved: PersistedState,
  config: BridgeConfig,
  now: number,
  actionOf: (type: ActiveAlert['type']) => ActiveAlert['action'],
): RecoverySnapshot {
  const activeAlerts: ActiveAlert[] = saved.alerts
    .map((alert) => ({ ...alert, action: actionOf(alert.type), origins: alert.origins.filter((o) => o.expiresAt === null || o.expiresAt > now) }))
    .filter((alert) => alert.origins.length > 0);
  const has = (action: ActiveAlert['action']) => activeAlerts.some((a) => a.action === action);
  const autoRecovery = config.recovery.auto_recovery;
  const pausedUntil = saved.pausedUntil !== null && autoRecovery && now >= saved.pausedUntil ? null : saved.pausedUntil;
  const backoffActive = has('exponential_backoff');
  const state = pausedUntil !== null ? 'paused' : backoffActive ? 'backoff' : has('graceful_degradation') ? 'degraded' : 'normal';
  const rules = config.recovery.degradation;
  return {
    state,
    stateSince: state === saved.state.name ? saved.state.since : saved.savedAt,
    now,
    activeAlerts,
    backoff: {
      active: backoffActive,
      attempt: saved.backoff.attempt,
      delayMs: backoffActive ? saved.backoff.delayMs : 0,
      until: backoffActive ? saved.backoff.until : null,
    },
    pausedUntil,
    degraded: { active: has('graceful_degradation'), rules: { deny_tools: [...rules.deny_tools], context_message: rules.context_message } },
  };
}

/** A refusal says that it comes from the saved state, so nobody looks for a bridge decision that was never made. */
function withOrigin(decision: HookDecision, why: string): HookDecision {
  if (decision.kind !== 'deny' && decision.kind !== 'block') return decision;
  return { ...decision, reason: `${decision.reason} (The bridge ${why}; this is the state it last saved.)` };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
