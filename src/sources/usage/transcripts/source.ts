import path from 'node:path';
import type { BridgeConfig } from '../../../config/schema.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/logger.js';
import { modelFamily } from '../model-family.js';
import { inputOutputTokens, type ActiveBlock, type DailyCost, type DailyCostSource, type FamilyUsage, type ModelFamily, type UsageSnapshot, type UsageSource } from '../types.js';
import type { Aggregate } from './aggregates.js';
import { isActiveBlock, type Block } from './blocks.js';
import { PriceList } from './pricing.js';
import { TranscriptReader } from './reader.js';

export const TRANSCRIPTS_SOURCE = 'transcripts';
/** The index file, in the configured state folder. */
export const INDEX_FILE = 'usage-transcripts.index';

export interface TranscriptSourceOptions {
  usage: BridgeConfig['usage'];
  /** Folder(s) containing `projects/`. */
  configDir: string;
  /** The bridge's state folder (already expanded); null keeps the index in memory only. */
  stateDir: string | null;
  clock: Clock;
  timeZone: string;
  logger: Logger;
  onChange?: () => void;
}

/** The reader one registration shares between its block source and its daily cost. */
export function createTranscriptReader(options: TranscriptSourceOptions): TranscriptReader {
  const settings = options.usage.transcripts;
  return new TranscriptReader({
    configDir: options.configDir,
    indexFile: options.stateDir && settings.index ? path.join(options.stateDir, INDEX_FILE) : null,
    clock: options.clock,
    prices: new PriceList(options.usage.pricing),
    timeZone: options.timeZone,
    sweepIntervalMs: settings.sweep_interval_s * 1000,
    flushDelayMs: settings.index_flush_s * 1000,
    watch: settings.watch,
    logger: options.logger,
    ...(options.onChange ? { onChange: options.onChange } : {}),
  });
}

/**
 * `usage.source: transcripts`: the 5-hour blocks from the incremental transcript reader, in the
 * bridge's own process. The active block follows `usage.transcripts.block_rule` (ccusage's rule
 * by default, so the figures equal `ccusage blocks`); the P90 limit is computed over
 * claude-monitor's blocks, as claude-monitor defines it.
 */
export class TranscriptSource implements UsageSource {
  readonly name = TRANSCRIPTS_SOURCE;
  /** The completed blocks' tokens as last derived: a read changes only the blocks at the end. */
  private completed: { blocks: Block[]; tokens: number[] } = { blocks: [], tokens: [] };
  private readonly liveDetails = () => this.reader.status();

  constructor(
    private readonly reader: TranscriptReader,
    private readonly usage: BridgeConfig['usage'],
    private readonly now: () => number,
  ) {}

  async poll(): Promise<UsageSnapshot> {
    await this.reader.start();
    const now = this.now();
    const rule = this.usage.transcripts.block_rule;
    const last = this.reader.blocks(rule).at(-1);
    const active = last && isActiveBlock(last, now, rule) ? last : null;
    return {
      source: TRANSCRIPTS_SOURCE,
      takenAt: now,
      activeBlock: active ? this.activeBlockOf(active) : null,
      completedBlockTokens: this.completedBlockTokens(now),
      rateLimits: {},
      tokenLimit: null,
      details: { block_rule: rule },
      liveDetails: this.liveDetails,
    };
  }

  /**
   * Input+output tokens of claude-monitor's blocks that ended by `now` (a prefix: blocks are in
   * order). A block the reader kept is the same object, unchanged, so only the tail is derived again.
   */
  private completedBlockTokens(now: number): number[] {
    const blocks = this.reader.blocks('claude-monitor');
    let count = blocks.length;
    while (count > 0 && blocks[count - 1]!.end > now) count--;
    const cached = this.completed;
    let same = 0;
    while (same < Math.min(count, cached.blocks.length) && cached.blocks[same] === blocks[same]) same++;
    if (same === count && cached.blocks.length === count) return cached.tokens;
    const tokens = cached.tokens.slice(0, same);
    for (let i = same; i < count; i++) tokens.push(inputOutputTokens(blocks[i]!.aggregate.tokens));
    this.completed = { blocks: blocks.slice(0, count), tokens };
    return tokens;
  }

  async stop(): Promise<void> {
    await this.reader.stop();
  }

  private activeBlockOf(block: Block): ActiveBlock {
    const { aggregate } = block;
    return {
      start: block.start,
      end: block.end,
      limitResetsAt: block.limitResetAt,
      tokens: { ...aggregate.tokens },
      byFamily: this.byFamily(aggregate),
      costUsd: aggregate.costUsd,
      burnRate: burnRate(block),
    };
  }

  /** Input+output tokens and cost per model family; `<synthetic>` and model-less entries are left out, as in ccusage's breakdown. */
  private byFamily(aggregate: Aggregate): Partial<Record<ModelFamily, FamilyUsage>> {
    const out: Partial<Record<ModelFamily, FamilyUsage>> = {};
    for (const [model, use] of aggregate.byModel) {
      const name = this.reader.modelName(model);
      if (name === null || !this.reader.isModel(model)) continue;
      const family = modelFamily(name);
      const current = out[family] ?? { tokens: 0, costUsd: 0 };
      out[family] = { tokens: current.tokens + inputOutputTokens(use.tokens), costUsd: (current.costUsd ?? 0) + use.costUsd };
    }
    return out;
  }
}

/** ccusage's burn rate: input+output tokens and cost over the minutes from the block's first entry to its last. */
function burnRate(block: Block): ActiveBlock['burnRate'] {
  const minutes = (block.last - block.first) / 60_000;
  if (minutes <= 0) return null;
  return { tokensPerMinute: inputOutputTokens(block.aggregate.tokens) / minutes, usdPerHour: (block.aggregate.costUsd / minutes) * 60 };
}

/** Today's cost (ccusage's daily report) in the bridge's time zone, from the same reader. */
export class TranscriptDailyCost implements DailyCostSource {
  readonly name = TRANSCRIPTS_SOURCE;

  constructor(
    private readonly reader: TranscriptReader,
    private readonly now: () => number,
  ) {}

  async today(): Promise<DailyCost> {
    await this.reader.start();
    const date = this.reader.days.dayOf(this.now());
    return { date, costUsd: this.reader.days.day(date).costUsd };
  }

  async stop(): Promise<void> {
    await this.reader.stop();
  }
}
