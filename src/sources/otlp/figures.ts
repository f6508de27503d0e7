import type { UsageSignals } from '../../component.js';
import type { BridgeConfig } from '../../config/schema.js';
import { PLAN_TOKEN_LIMITS } from '../usage/limits.js';
import type { ModelFamily, TokenCounts } from '../usage/types.js';
import { fullerStream, type SpanTotals, type StatusClass, type Stream, type UsageLedger } from './ledger.js';

export const BLOCK_MS = 5 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
/** The burn rate is the use of the last 10 minutes of the block (or of the block so far, when younger). */
export const BURN_WINDOW_MS = 10 * 60 * 1000;

/**
 * Where the active block's boundaries came from: a usage source that reads the transcripts
 * (through the other components' signals), or, while none knows a block, the telemetry itself.
 */
export type BlockOrigin = 'usage_source' | 'telemetry';

export interface ScopeFigures {
  tokens: TokenCounts;
  /** input + output, the figure plan limits count. */
  tokensInputOutput: number;
  costUsd: number;
  byFamily: Partial<Record<ModelFamily, { tokens: number; costUsd: number }>>;
  requests: number;
  errors: Record<StatusClass, number>;
  rateLimited: number;
  /** Which telemetry stream the token and cost figures were taken from. */
  stream: Stream;
}

export interface LiveBlock extends ScopeFigures {
  start: number;
  end: number;
  from: BlockOrigin;
  tokenLimit: number | null;
  usedRatio: number | null;
  burnRate: { tokensPerMinute: number; usdPerHour: number } | null;
}

export interface LiveFigures {
  now: number;
  block: LiveBlock | null;
  today: ScopeFigures & { date: string };
}

export interface BlockBounds {
  start: number;
  end: number;
  from: BlockOrigin;
}

/**
 * The active 5-hour block. A usage source's block wins (its elapsed time is in the other
 * components' signals, and its start is remembered as the anchor for later). Without one,
 * ccusage's rule over the minutes telemetry saw: a block starts at the hour (UTC) of its first
 * request and lasts 5 hours; a request after it, or after 5 idle hours, starts the next. The
 * rule starts from the last block a usage source reported, so the two never disagree on where
 * a block began.
 */
export function activeBlock(now: number, peerSessionSeconds: number | undefined, anchor: number | null, activeMinutes: number[]): BlockBounds | null {
  if (peerSessionSeconds !== undefined && peerSessionSeconds >= 0) {
    const start = Math.round((now - peerSessionSeconds * 1000) / 60_000) * 60_000;
    return { start, end: start + BLOCK_MS, from: 'usage_source' };
  }
  let start = anchor;
  let last = anchor;
  for (const minute of activeMinutes) {
    if (anchor !== null && minute < anchor) continue;
    if (start === null || last === null || minute >= start + BLOCK_MS || minute - last >= BLOCK_MS) start = Math.floor(minute / HOUR_MS) * HOUR_MS;
    last = minute;
  }
  if (start === null || last === null || now >= start + BLOCK_MS || now - last >= BLOCK_MS) return null;
  return { start, end: start + BLOCK_MS, from: 'telemetry' };
}

export function scopeFigures(totals: SpanTotals): ScopeFigures {
  const stream = fullerStream(totals);
  const tally = totals.tallies[stream];
  return {
    tokens: { ...tally.tokens },
    tokensInputOutput: tally.tokens.input + tally.tokens.output,
    costUsd: tally.costUsd,
    byFamily: tally.byFamily,
    requests: totals.requests,
    errors: totals.errors,
    rateLimited: totals.rateLimited,
    stream,
  };
}

export function liveBlock(ledger: UsageLedger, bounds: BlockBounds, now: number, tokenLimit: number | null): LiveBlock {
  const inBlock = ledger.totals(bounds.start, now + 1);
  const figures = scopeFigures(inBlock);
  const windowStart = Math.max(bounds.start, now - BURN_WINDOW_MS);
  const recentFigures = scopeFigures(ledger.totals(windowStart, now + 1));
  // A block younger than the window: its use so far over the time since its first request.
  const firstActivity = inBlock.firstActivity;
  const minutes = firstActivity === null ? 0 : Math.max(1, (now - Math.max(windowStart, firstActivity)) / 60_000);
  return {
    ...figures,
    ...bounds,
    tokenLimit,
    usedRatio: tokenLimit ? figures.tokensInputOutput / tokenLimit : null,
    burnRate:
      minutes > 0 ? { tokensPerMinute: recentFigures.tokensInputOutput / minutes, usdPerHour: (recentFigures.costUsd / minutes) * 60 } : null,
  };
}

/** The plan's limit or a configured number; p90 and custom plans need the transcripts' history. */
export function tokenLimitOf(usage: BridgeConfig['usage']): number | null {
  if (typeof usage.token_limit === 'number') return usage.token_limit;
  if (usage.token_limit === 'plan' && usage.plan !== 'custom') return PLAN_TOKEN_LIMITS[usage.plan];
  return null;
}

/**
 * The figures the embedded evaluator compares, merged with the other sources' (the higher
 * wins). The block's elapsed time and reset only when telemetry drew the block itself: a usage
 * source that knows the block says those already.
 */
export function liveSignals(figures: LiveFigures, costScope: BridgeConfig['usage']['cost_scope'], received: boolean): UsageSignals {
  if (!received) return {};
  const { block, today } = figures;
  const cost = costScope === 'block' ? block?.costUsd : today.costUsd;
  const own = block?.from === 'telemetry' ? block : null;
  return {
    ...(block?.usedRatio !== null && block?.usedRatio !== undefined ? { tokensUsedRatio: block.usedRatio } : {}),
    ...(cost !== undefined ? { costUsd: cost } : {}),
    ...(own ? { sessionSeconds: Math.max(0, (figures.now - own.start) / 1000), windowResetsAt: own.end } : {}),
  };
}
