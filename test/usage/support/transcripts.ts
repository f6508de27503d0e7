import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CcusageRunner } from '../../../src/sources/usage/ccusage.js';
import { PriceList, type PricingOverride } from '../../../src/sources/usage/transcripts/pricing.js';
import { TranscriptReader, type TranscriptReaderOptions } from '../../../src/sources/usage/transcripts/reader.js';
import { silentLogger } from '../../../src/util/logger.js';
import { testConfig } from '../../support/config.js';
import { ManualClock } from '../../support/manual-clock.js';
import { INJECTED_NOW } from './usage.js';

/** A reader over `configDir` on a manual clock: no file watching, no index, unless asked. */
export function readerFor(configDir: string, options: Partial<TranscriptReaderOptions> & { pricing?: Record<string, PricingOverride> } = {}) {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(INJECTED_NOW);
  const reader = new TranscriptReader({
    configDir,
    indexFile: null,
    clock,
    prices: new PriceList(options.pricing ?? {}),
    timeZone: 'UTC',
    sweepIntervalMs: 20_000,
    flushDelayMs: 60_000,
    watch: false,
    logger: silentLogger,
    ...options,
  });
  return { reader, clock };
}

/** Writes transcript files under `<root>/projects/`, each a list of lines (objects are JSON-encoded). */
export function writeTranscripts(root: string, files: Record<string, (object | string)[]>): string {
  for (const [relative, lines] of Object.entries(files)) {
    const file = path.join(root, 'projects', relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  }
  return root;
}

export interface EntrySpec {
  at: number | string;
  id?: string;
  req?: string | null;
  model?: string | null;
  input?: number;
  output?: number;
  cacheWrite?: number;
  cacheRead?: number;
  session?: string;
  usage?: Record<string, unknown>;
  message?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** An assistant transcript line as Claude Code writes it. */
export function assistantLine(spec: EntrySpec): Record<string, unknown> {
  const line: Record<string, unknown> = {
    type: 'assistant',
    timestamp: typeof spec.at === 'number' ? new Date(spec.at).toISOString() : spec.at,
    sessionId: spec.session ?? 's1',
    version: '2.1.197',
    message: {
      ...(spec.id !== undefined ? { id: spec.id } : {}),
      ...(spec.model !== null ? { model: spec.model ?? 'claude-sonnet-4-5-20250929' } : {}),
      usage: { input_tokens: spec.input ?? 10, output_tokens: spec.output ?? 20, cache_creation_input_tokens: spec.cacheWrite ?? 0, cache_read_input_tokens: spec.cacheRead ?? 0, ...spec.usage },
      ...spec.message,
    },
    ...(spec.req !== undefined ? { requestId: spec.req } : {}),
    ...spec.extra,
  };
  return line;
}

/** What ccusage 20.0.24 reports over the same folder: every non-gap block and every day. */
export async function ccusageReports(configDir: string, timeZone: string) {
  const runner = new CcusageRunner({ usage: testConfig({ usage: { timeout_s: 120, max_output_bytes: 256 * 1024 * 1024 } }).usage, configDir, now: () => INJECTED_NOW });
  const blocks = ((await runner.json(['blocks'])) as { blocks: CcusageBlockJson[] }).blocks.filter((b) => !b.isGap);
  const daily = ((await runner.json(['daily', '--timezone', timeZone])) as { daily: CcusageDayJson[] }).daily;
  return { blocks, daily };
}

interface CcusageBlockJson {
  startTime: string;
  actualEndTime: string | null;
  isGap: boolean;
  entries: number;
  costUSD: number;
  usageLimitResetTime?: string | null;
  tokenCounts: { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number };
}

interface CcusageDayJson {
  period?: string;
  date?: string;
  totalCost: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/**
 * The reader's blocks and days next to ccusage's, as comparable rows: tokens, entries and times
 * must be equal; costs are returned apart, to compare within 0.01 %.
 */
export async function compareWithCcusage(reader: TranscriptReader, configDir: string, timeZone = 'UTC') {
  await reader.start();
  const theirs = await ccusageReports(configDir, timeZone);
  const mine = reader.blocks('ccusage');
  const blockRows = {
    mine: mine.map((b) => ({
      start: new Date(b.start).toISOString(),
      last: new Date(b.last).toISOString(),
      entries: b.aggregate.entries,
      tokens: [b.aggregate.tokens.input, b.aggregate.tokens.output, b.aggregate.tokens.cache_creation, b.aggregate.tokens.cache_read],
      reset: b.limitResetAt === null ? null : new Date(b.limitResetAt).toISOString(),
    })),
    theirs: theirs.blocks.map((b) => ({
      start: b.startTime,
      last: b.actualEndTime,
      entries: b.entries,
      tokens: [b.tokenCounts.inputTokens, b.tokenCounts.outputTokens, b.tokenCounts.cacheCreationInputTokens, b.tokenCounts.cacheReadInputTokens],
      reset: b.usageLimitResetTime ?? null,
    })),
  };
  const days = theirs.daily.map((d) => d.period ?? d.date ?? '');
  const dayRows = {
    mine: reader.days.days().map((day) => {
      const t = reader.days.day(day).tokens;
      return { day, tokens: [t.input, t.output, t.cache_creation, t.cache_read] };
    }),
    theirs: theirs.daily.map((d, i) => ({ day: days[i]!, tokens: [d.inputTokens, d.outputTokens, d.cacheCreationTokens, d.cacheReadTokens] })),
  };
  const costs = [
    ...mine.map((b, i) => ({ what: `block ${new Date(b.start).toISOString()}`, mine: b.aggregate.costUsd, theirs: theirs.blocks[i]?.costUSD ?? NaN })),
    ...days.map((day, i) => ({ what: `day ${day}`, mine: reader.days.day(day).costUsd, theirs: theirs.daily[i]!.totalCost })),
  ];
  return { blocks: blockRows, days: dayRows, costs };
}

/** The costs whose relative difference exceeds 0.01 % (none expected). */
export function costMismatches(costs: { what: string; mine: number; theirs: number }[]): string[] {
  return costs
    .filter(({ mine, theirs }) => !(Math.abs(mine - theirs) <= 1e-4 * Math.abs(theirs) || Math.abs(mine - theirs) < 1e-12))
    .map(({ what, mine, theirs }) => `${what}: ${mine} vs ccusage ${theirs}`);
}
