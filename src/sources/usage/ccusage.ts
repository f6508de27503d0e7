import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { BridgeConfig } from '../../config/schema.js';
import { expandHome } from '../../config/index.js';
import { projectDirs, writeBlockTranscript } from './block-transcript.js';
import { CcusageFormatError, parseCcusageBlocks, parseCcusageDaily, type CcusageBlock, type CcusageDay } from './ccusage-json.js';
import { modelFamily } from './model-family.js';
import { lastLine, runSubprocess, SubprocessError } from './subprocess.js';
import { errorMessage } from '../../util/errors.js';
import {
  inputOutputTokens,
  UsageSourceError,
  type ActiveBlock,
  type DailyCost,
  type DailyCostSource,
  type FamilyUsage,
  type ModelFamily,
  type UsageSnapshot,
  type UsageSource,
} from './types.js';

export const CCUSAGE_VERSION = '20.0.24';

/** The folder that contains `projects/`: config, then CLAUDE_CONFIG_DIR, then ~/.claude. */
export function claudeConfigDir(usage: BridgeConfig['usage'], env: NodeJS.ProcessEnv = process.env): string {
  const configured = usage.claude_config_dir ?? env.CLAUDE_CONFIG_DIR;
  return configured ? expandHome(configured) : path.join(homedir(), '.claude');
}

/**
 * The pinned package's native binary, run directly: its `cli.js` wrapper only spawns it, and
 * going through the wrapper would put one more process between the bridge and the work.
 */
export function ccusageCommand(): { file: string; prefix: string[] } {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('ccusage/package.json');
  const native = nativePackage();
  if (native) {
    try {
      const file = createRequire(packageJson).resolve(native);
      ensureExecutable(file);
      return { file, prefix: [] };
    } catch {
      // no native package for this platform, or its binary cannot be made executable: the wrapper explains
    }
  }
  return { file: process.execPath, prefix: [path.join(path.dirname(packageJson), 'src', 'cli.js')] };
}

/** npm may unpack the binary without its executable bit; ccusage's own wrapper sets it the same way. */
function ensureExecutable(file: string): void {
  if (process.platform === 'win32') return;
  const { mode } = statSync(file);
  if ((mode & 0o111) !== 0o111) chmodSync(file, mode | 0o755);
}

function nativePackage(): string | null {
  const { platform, arch } = process;
  if (!['darwin', 'linux', 'win32'].includes(platform) || !['x64', 'arm64'].includes(arch)) return null;
  return `@ccusage/ccusage-${platform}-${arch}/bin/ccusage${platform === 'win32' ? '.exe' : ''}`;
}

export interface CcusageOptions {
  usage: BridgeConfig['usage'];
  /** Folder(s) containing `projects/` (see claudeConfigDir). */
  configDir: string;
  now: () => number;
  /** IANA zone "today" is counted in; the system's by default. */
  timeZone?: string;
  command?: { file: string; prefix: string[] };
}

/** Runs ccusage subcommands with the shared subprocess rules and parses their JSON. */
export class CcusageRunner {
  private readonly command: { file: string; prefix: string[] };
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly options: CcusageOptions) {
    this.command = options.command ?? ccusageCommand();
  }

  async json(args: string[], configDir = this.options.configDir): Promise<unknown> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      const result = await runSubprocess(this.command.file, [...this.command.prefix, ...args, '--json', '--offline'], {
        timeoutMs: this.options.usage.timeout_s * 1000,
        maxOutputBytes: this.options.usage.max_output_bytes,
        env: { CLAUDE_CONFIG_DIR: configDir, NO_COLOR: '1' },
        signal: controller.signal,
      });
      if (result.exitCode !== 0) {
        throw new UsageSourceError(`ccusage ${args[0]} exited with code ${result.exitCode}: ${lastLine(result.stderr) || lastLine(result.stdout) || 'no message'}`);
      }
      return parseJsonOutput(args[0] ?? '', result.stdout);
    } catch (error) {
      if (error instanceof SubprocessError) throw new UsageSourceError(`ccusage ${args[0]}: ${error.message}`, { failure: error.kind });
      throw error;
    } finally {
      this.inFlight.delete(controller);
    }
  }

  cancel(): void {
    for (const controller of this.inFlight) controller.abort();
  }
}

function parseJsonOutput(subcommand: string, stdout: string): unknown {
  try {
    return JSON.parse(stdout) as unknown;
  } catch {
    throw new UsageSourceError(`ccusage ${subcommand} printed no JSON: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
}

/** ccusage's session length: a block is active while its last entry is younger than this. */
const BLOCK_MS = 5 * 3600 * 1000;

/**
 * `ccusage blocks --json --offline`: the active block, and every completed block for P90. Which
 * block is active, and its burn rate, are worked out here on the bridge's clock, not taken from
 * ccusage's `isActive`/`burnRate` (those follow the clock of ccusage's process). The active
 * block's split by model comes from pricing only its own transcript lines with `ccusage daily`
 * (see writeBlockTranscript); if that fails the block is still reported, with ccusage's rate.
 */
export class CcusageSource implements UsageSource {
  readonly name = 'ccusage' as const;
  private workDir: string | null = null;

  constructor(
    private readonly options: CcusageOptions,
    private readonly runner = new CcusageRunner(options),
  ) {}

  async poll(): Promise<UsageSnapshot> {
    const document = await this.runner.json(['blocks']);
    const now = this.options.now();
    const blocks = parseOrFail(() => parseCcusageBlocks(document)).filter((b) => !b.isGap);
    const active = blocks.find((b) => isActiveAt(b, now)) ?? null;
    const details: Record<string, unknown> = { version: CCUSAGE_VERSION, config_dir: this.options.configDir, blocks: blocks.length };
    let split: BlockSplit | null = null;
    if (active) {
      try {
        split = await this.blockSplit(active);
      } catch (error) {
        details.model_split_error = errorMessage(error);
      }
    }
    return {
      source: 'ccusage',
      takenAt: now,
      activeBlock: active ? activeBlockOf(active, split) : null,
      completedBlockTokens: blocks.filter((b) => b !== active && b.end <= now).map((b) => inputOutputTokens(b.tokens)),
      rateLimits: {},
      tokenLimit: null,
      details,
    };
  }

  cancel(): void {
    this.runner.cancel();
  }

  /** Removes the scratch folder of the per-model split. */
  dispose(): void {
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    this.workDir = null;
  }

  private async blockSplit(block: CcusageBlock): Promise<BlockSplit> {
    this.workDir ??= mkdtempSync(path.join(tmpdir(), 'claude-bridge-usage-'));
    const folder = path.join(this.workDir, 'projects', 'active-block');
    mkdirSync(folder, { recursive: true });
    const copied = await writeBlockTranscript(projectDirs(this.options.configDir), block.start, block.end, path.join(folder, 'block.jsonl'));
    const span = copied.firstEntryAt !== null && copied.lastEntryAt !== null ? { first: copied.firstEntryAt, last: copied.lastEntryAt } : null;
    if (copied.linesCopied === 0) return { byFamily: {}, span };
    const document = await this.runner.json(['daily', '--by-agent', '--timezone', 'UTC'], this.workDir);
    return { byFamily: familiesOf(parseOrFail(() => parseCcusageDaily(document))), span };
  }
}

interface BlockSplit {
  byFamily: Partial<Record<ModelFamily, FamilyUsage>>;
  /** The first and last entry of the block: the span ccusage's burn rate is measured over. */
  span: { first: number; last: number } | null;
}

/** ccusage's rule, on the given clock: the last entry is younger than a block, and the block has not ended. */
export function isActiveAt(block: CcusageBlock, now: number): boolean {
  return block.lastActivity !== null && block.start <= now && now < block.end && now - block.lastActivity < BLOCK_MS;
}

function activeBlockOf(block: CcusageBlock, split: BlockSplit | null): ActiveBlock {
  return {
    start: block.start,
    end: block.end,
    limitResetsAt: block.limitResetsAt,
    tokens: block.tokens,
    byFamily: split?.byFamily ?? {},
    costUsd: block.costUsd,
    burnRate: split?.span ? burnRateOver(block, split.span) : reportedBurnRate(block),
  };
}

/** ccusage's burn rate: input+output tokens and cost over the minutes from the first entry to the last. */
function burnRateOver(block: CcusageBlock, span: { first: number; last: number }): ActiveBlock['burnRate'] {
  const minutes = (span.last - span.first) / 60_000;
  if (minutes <= 0) return null;
  return { tokensPerMinute: inputOutputTokens(block.tokens) / minutes, usdPerHour: (block.costUsd / minutes) * 60 };
}

function reportedBurnRate(block: CcusageBlock): ActiveBlock['burnRate'] {
  const burnRate = block.burnRate;
  return burnRate ? { tokensPerMinute: inputOutputRate(block, burnRate), usdPerHour: burnRate.costPerHour } : null;
}

/** ccusage's input+output rate; older versions only give the all-kinds rate, over the same span. */
function inputOutputRate(block: CcusageBlock, burnRate: NonNullable<CcusageBlock['burnRate']>): number {
  if (burnRate.inputOutputTokensPerMinute !== null) return burnRate.inputOutputTokensPerMinute;
  return block.totalTokens > 0 ? (burnRate.tokensPerMinute * inputOutputTokens(block.tokens)) / block.totalTokens : 0;
}

function familiesOf(days: CcusageDay[]): Partial<Record<ModelFamily, FamilyUsage>> {
  const byFamily: Partial<Record<ModelFamily, FamilyUsage>> = {};
  for (const usage of days.flatMap((day) => day.models)) {
    const family = modelFamily(usage.model);
    const current = byFamily[family] ?? { tokens: 0, costUsd: 0 };
    byFamily[family] = { tokens: current.tokens + inputOutputTokens(usage.tokens), costUsd: (current.costUsd ?? 0) + usage.costUsd };
  }
  return byFamily;
}

/** Today's cost from `ccusage daily --json --offline` (Claude's share with --by-agent). */
export class CcusageDailyCost implements DailyCostSource {
  readonly name = 'ccusage';

  constructor(
    private readonly options: CcusageOptions,
    private readonly runner = new CcusageRunner(options),
  ) {}

  async today(): Promise<DailyCost> {
    const timeZone = this.options.timeZone ?? systemTimeZone();
    const now = this.options.now();
    const date = calendarDate(now, timeZone);
    const since = calendarDate(now - 24 * 3600 * 1000, timeZone).replaceAll('-', '');
    const document = await this.runner.json(['daily', '--by-agent', '--timezone', timeZone, '--since', since]);
    const row = parseOrFail(() => parseCcusageDaily(document)).find((day) => day.date === date);
    return { date, costUsd: row?.costUsd ?? 0 };
  }

  cancel(): void {
    this.runner.cancel();
  }
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in a time zone. */
export function calendarDate(at: number, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    // building a formatter costs far more than using one; figures ask for today on every read
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

function parseOrFail<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof CcusageFormatError) throw new UsageSourceError(error.message);
    throw error;
  }
}
