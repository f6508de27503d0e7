import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BridgeConfig } from '../../config/schema.js';
import { expandHome } from '../../config/index.js';
import { isSaneInstant } from '../../util/time.js';
import { claudeMonitorPlan } from './limits.js';
import { modelFamily } from './model-family.js';
import { lastLine, runSubprocess, SubprocessError, type RunOptions } from './subprocess.js';
import {
  allKindsTokens,
  inputOutputTokens,
  UsageSourceError,
  type ActiveBlock,
  type Availability,
  type FamilyUsage,
  type ModelFamily,
  type RateLimitFigure,
  type RateLimitWindowName,
  type UsageSnapshot,
  type UsageSource,
} from './types.js';

export const UPGRADE_HINT = 'upgrade to claude-monitor 4 (machine-readable output) with `uv tool upgrade claude-monitor`';
const FIVE_HOURS_MS = 5 * 3600 * 1000;

/** Exit codes of `claude-monitor --once`: all but 30 come with a snapshot. */
export const CLAUDE_MONITOR_EXIT = { ok: 0, nearLimit: 10, limitHit: 11, noActiveSession: 20, error: 30 } as const;
const EXIT_STATUS: Record<number, string> = { 0: 'ok', 10: 'near_limit', 11: 'limit_hit', 20: 'no_active_session' };

export type ClaudeMonitorProbe =
  | { found: false; reason: string }
  | { found: true; path: string; version: string; major: number; supported: boolean };

export interface ClaudeMonitorOptions {
  usage: BridgeConfig['usage'];
  env?: NodeJS.ProcessEnv;
  /** Environment for the child (CLAUDE_CONFIG_DIR). */
  childEnv?: Record<string, string | undefined>;
  now: () => number;
}

/** `claude-monitor --once --output json` (v4). v3 only has a full-screen TUI and is refused. */
export class ClaudeMonitorSource implements UsageSource {
  readonly name = 'claude-monitor' as const;
  private probed: { key: string; probe: ClaudeMonitorProbe } | null = null;
  private inFlight: AbortController | null = null;

  constructor(private readonly options: ClaudeMonitorOptions) {}

  /** Finds the executable and reads its version; re-reads only when the file changes. */
  async probe(): Promise<ClaudeMonitorProbe> {
    const executable = this.locate();
    if (executable.path === null) return { found: false, reason: executable.reason };
    const key = fileIdentity(executable.path);
    if (this.probed?.key === key) return this.probed.probe;
    const probe = await this.readVersion(executable.path);
    this.probed = { key, probe };
    return probe;
  }

  /** Usable when a v4 is installed; a v3 is a problem (counted once per binary), none is standby. */
  async availability(): Promise<Availability> {
    const probe = await this.probe();
    if (!probe.found) return { usable: false, standby: { found: false, reason: probe.reason } };
    if (probe.supported) return { usable: true };
    return {
      usable: false,
      key: `${probe.path}@${probe.version}`,
      problem: `claude-monitor ${probe.version} is not supported: ${UPGRADE_HINT}`,
      details: probeDetails(probe),
    };
  }

  async poll(): Promise<UsageSnapshot> {
    const probe = await this.probe();
    if (!probe.found) throw new UsageSourceError(probe.reason, { found: false });
    if (!probe.supported) {
      throw new UsageSourceError(`claude-monitor ${probe.version} is not supported: ${UPGRADE_HINT}`, probeDetails(probe));
    }
    const args = ['--once', '--output', 'json', '--plan', claudeMonitorPlan(this.options.usage)];
    const result = await this.run(probe.path, args);
    return parseClaudeMonitorRun(result.exitCode, result.stdout, result.stderr, this.options.now(), probeDetails(probe));
  }

  cancel(): void {
    this.inFlight?.abort();
  }

  private locate(): { path: string | null; reason: string } {
    const configured = this.options.usage.claude_monitor_path;
    if (configured) {
      const file = expandHome(configured);
      return { path: isExecutable(file) ? file : null, reason: `claude-monitor not found at usage.claude_monitor_path (${file})` };
    }
    return { path: findOnPath('claude-monitor', this.options.env ?? process.env), reason: 'claude-monitor not found on PATH' };
  }

  private async readVersion(file: string): Promise<ClaudeMonitorProbe> {
    const result = await this.run(file, ['--version']);
    const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(`${result.stdout}\n${result.stderr}`);
    if (result.exitCode !== 0 || !match) {
      throw new UsageSourceError(`cannot read the version of ${file} (exit ${result.exitCode}): ${lastLine(result.stdout || result.stderr) || 'no output'}`);
    }
    const major = Number(match[1]);
    return { found: true, path: file, version: match[0], major, supported: major >= 4 };
  }

  private async run(file: string, args: string[]) {
    const controller = new AbortController();
    this.inFlight = controller;
    const options: RunOptions = {
      timeoutMs: this.options.usage.timeout_s * 1000,
      maxOutputBytes: this.options.usage.max_output_bytes,
      signal: controller.signal,
      ...(this.options.childEnv ? { env: this.options.childEnv } : {}),
    };
    try {
      return await runSubprocess(file, args, options);
    } catch (error) {
      if (error instanceof SubprocessError) throw new UsageSourceError(error.message, { failure: error.kind });
      throw error;
    } finally {
      this.inFlight = null;
    }
  }
}

function probeDetails(probe: Extract<ClaudeMonitorProbe, { found: true }>): Record<string, unknown> {
  return {
    path: probe.path,
    version: probe.version,
    supported: probe.supported,
    ...(probe.supported ? {} : { hint: UPGRADE_HINT }),
  };
}

/** Exit codes 0, 10, 11 and 20 are data; 30 and anything else are errors. */
export function parseClaudeMonitorRun(
  exitCode: number,
  stdout: string,
  stderr: string,
  now: number,
  details: Record<string, unknown> = {},
): UsageSnapshot {
  const status = EXIT_STATUS[exitCode];
  if (status === undefined) {
    const why = exitCode === CLAUDE_MONITOR_EXIT.error ? 'reported an error' : `exited with unexpected code ${exitCode}`;
    throw new UsageSourceError(`claude-monitor ${why}: ${lastLine(stderr) || lastLine(stdout) || 'no message'}`, { ...details, exit_code: exitCode });
  }
  const document = parseJson(stdout);
  if (document === undefined && exitCode === CLAUDE_MONITOR_EXIT.noActiveSession) {
    return emptySnapshot(now, { ...details, exit_code: exitCode, status });
  }
  const parsed = snapshotSchema.safeParse(document);
  if (!parsed.success) {
    throw new UsageSourceError(`claude-monitor printed no JSON snapshot: ${JSON.stringify(stdout.slice(0, 120))}`, { ...details, exit_code: exitCode });
  }
  const snapshot = parsed.data;
  if (!snapshot.schema_version?.startsWith('1.')) {
    throw new UsageSourceError(`claude-monitor snapshot schema ${snapshot.schema_version ?? '(none)'} is not supported (expected 1.x)`, details);
  }
  return {
    source: 'claude-monitor',
    takenAt: now,
    activeBlock: exitCode === CLAUDE_MONITOR_EXIT.noActiveSession ? null : activeBlockOf(snapshot),
    completedBlockTokens: [],
    rateLimits: rateLimitsOf(snapshot),
    tokenLimit: snapshot.plan_info?.token_limit ?? snapshot.limits?.five_hour?.token_limit ?? null,
    details: { ...details, exit_code: exitCode, status, plan: snapshot.plan ?? null, confidence: snapshot.confidence ?? null },
  };
}

function emptySnapshot(now: number, details: Record<string, unknown>): UsageSnapshot {
  return { source: 'claude-monitor', takenAt: now, activeBlock: null, completedBlockTokens: [], rateLimits: {}, tokenLimit: null, details };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Snapshot = z.infer<typeof snapshotSchema>;
type ModelShare = z.infer<typeof modelShareSchema>;

function activeBlockOf(snapshot: Snapshot): ActiveBlock | null {
  const local = snapshot.local;
  const start = parseTime(local?.session_start);
  if (!local || local.is_active === false || start === null) return null;
  const tokens = {
    input: local.tokens?.input_tokens ?? 0,
    output: local.tokens?.output_tokens ?? 0,
    cache_creation: local.tokens?.cache_creation_input_tokens ?? 0,
    cache_read: local.tokens?.cache_read_input_tokens ?? 0,
  };
  return {
    start,
    end: parseTime(local.session_end) ?? start + FIVE_HOURS_MS,
    limitResetsAt: null,
    tokens,
    byFamily: familiesOf(local.model_distribution ?? []),
    costUsd: local.cost_usd ?? 0,
    burnRate: burnRateOf(local.burn_rate_tokens_per_minute, local.burn_rate_cost_per_hour, inputOutputTokens(tokens), allKindsTokens(tokens)),
  };
}

/**
 * claude-monitor's token burn rate counts all four kinds (its `total_tokens`); the bridge's counts
 * input+output, like the limit. Both are averages over the same span, so the ratio converts them.
 */
function burnRateOf(tokensPerMinute: number | null | undefined, usdPerHour: number | null | undefined, inputOutput: number, allKinds: number) {
  if (tokensPerMinute === null || tokensPerMinute === undefined) return null;
  const share = allKinds > 0 ? inputOutput / allKinds : 0;
  return { tokensPerMinute: tokensPerMinute * share, usdPerHour: usdPerHour ?? 0 };
}

function familiesOf(distribution: ModelShare[]) {
  const byFamily: Partial<Record<ModelFamily, FamilyUsage>> = {};
  for (const entry of distribution) {
    const family = modelFamily(entry.family ?? entry.model ?? 'other');
    const current = byFamily[family] ?? { tokens: 0, costUsd: 0 };
    byFamily[family] = {
      tokens: current.tokens + (entry.input_tokens ?? 0) + (entry.output_tokens ?? 0),
      costUsd: (current.costUsd ?? 0) + (entry.cost_usd ?? 0),
    };
  }
  return byFamily;
}

function rateLimitsOf(snapshot: Snapshot): Partial<Record<RateLimitWindowName, RateLimitFigure>> {
  const out: Partial<Record<RateLimitWindowName, RateLimitFigure>> = {};
  for (const window of ['five_hour', 'seven_day'] as const) {
    const limit = snapshot.limits?.[window];
    if (typeof limit?.used_percentage !== 'number') continue;
    const official = (limit.confidence ?? snapshot.confidence) === 'official' && snapshot.stale !== true;
    out[window] = {
      usedRatio: limit.used_percentage / 100,
      resetsAt: saneOrNull(typeof limit.resets_at_epoch === 'number' ? limit.resets_at_epoch * 1000 : parseTime(limit.resets_at)),
      source: official ? 'official' : 'estimate',
    };
  }
  return out;
}

function saneOrNull(ms: number | null): number | null {
  return isSaneInstant(ms) ? ms : null;
}

function parseTime(value: string | null | undefined): number | null {
  if (!value) return null;
  return saneOrNull(Date.parse(value));
}

// Tolerant: unknown fields pass, a field of the wrong type reads as absent.
const num = z.number().nullish().catch(null);
const str = z.string().nullish().catch(null);
const windowSchema = z
  .looseObject({ used_percentage: num, token_limit: num, resets_at: str, resets_at_epoch: num, confidence: str })
  .nullish()
  .catch(null);
const modelShareSchema = z.looseObject({ family: str, model: str, input_tokens: num, output_tokens: num, cost_usd: num });
const snapshotSchema = z.looseObject({
  schema_version: str,
  confidence: str,
  stale: z.boolean().nullish().catch(null),
  plan: str,
  plan_info: z.looseObject({ token_limit: num }).nullish().catch(null),
  limits: z.looseObject({ five_hour: windowSchema, seven_day: windowSchema }).nullish().catch(null),
  local: z
    .looseObject({
      is_active: z.boolean().nullish().catch(null),
      session_start: str,
      session_end: str,
      tokens: z
        .looseObject({ input_tokens: num, output_tokens: num, cache_creation_input_tokens: num, cache_read_input_tokens: num })
        .nullish()
        .catch(null),
      cost_usd: num,
      burn_rate_tokens_per_minute: num,
      burn_rate_cost_per_hour: num,
      model_distribution: z.array(modelShareSchema).nullish().catch(null),
    })
    .nullish()
    .catch(null),
});

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const extension of extensions) {
      const candidate = path.join(dir, name + extension);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

function fileIdentity(file: string): string {
  const stat = statSync(file);
  return `${file}:${stat.mtimeMs}:${stat.size}`;
}
