import type { UsageSignals } from '../../component.js';
import type { BridgeConfig } from '../../config/schema.js';
import type { DailyCost } from './types.js';
import { resolveTokenLimit, type TokenLimit } from './limits.js';
import {
  allKindsTokens,
  inputOutputTokens,
  RATE_LIMIT_WINDOWS,
  type ActiveBlock,
  type FamilyUsage,
  type ModelFamily,
  type RateLimitFigure,
  type RateLimitWindowName,
  type TokenCounts,
  type UsageSnapshot,
  type UsageSourceName,
} from './types.js';

/**
 * The active block's figures. Token totals: `tokens` splits the four kinds; `tokensAllKinds` is
 * ccusage's `totalTokens`; every other token figure (by family, burn rate, projection, limit,
 * used ratio, time to limit) counts input+output only, as claude-monitor and the plan limits do.
 */
export interface BlockFigures {
  start: number;
  end: number;
  /** When the 5-hour window resets: a reset time the source learnt, else the block end. */
  resetsAt: number;
  tokens: TokenCounts;
  tokensInputOutput: number;
  tokensAllKinds: number;
  byFamily: Partial<Record<ModelFamily, FamilyUsage>>;
  costUsd: number;
  burnRate: { tokensPerMinute: number; usdPerHour: number } | null;
  /** At block end if the current burn rate holds. */
  projection: { tokens: number; costUsd: number } | null;
  tokenLimit: TokenLimit;
  usedRatio: number;
  /** 0 once the limit is reached; null when nothing is being used. */
  secondsToLimit: number | null;
}

export interface UsageFigures {
  source: UsageSourceName | null;
  updatedAt: number | null;
  block: BlockFigures | null;
  /** Elapsed time in the active block (the time_limit input). */
  sessionSeconds: number | null;
  /** Per window, the figure in effect: official while fresh, else the estimate. */
  rateLimits: Partial<Record<RateLimitWindowName, RateLimitFigure>>;
  /** Today's cost, null until known for today. */
  dailyCostUsd: number | null;
  /** When the usage window resets (a pause resumes then). */
  resetsAt: number | null;
}

export interface FigureInputs {
  usage: BridgeConfig['usage'];
  now: number;
  /** YYYY-MM-DD now, in the zone the daily cost is counted in. */
  today: string;
  snapshot: UsageSnapshot | null;
  daily: DailyCost | null;
  /** Fresh official status line figures. */
  official: Partial<Record<RateLimitWindowName, RateLimitFigure>>;
}

export function deriveFigures(inputs: FigureInputs): UsageFigures {
  const { snapshot, now } = inputs;
  const active = snapshot?.activeBlock;
  const block = snapshot && active && active.start <= now && now < active.end ? blockFigures(active, snapshot, inputs) : null;
  const rateLimits = rateLimitFigures(inputs, block);
  return {
    source: snapshot?.source ?? null,
    updatedAt: snapshot?.takenAt ?? null,
    block,
    sessionSeconds: block ? (now - block.start) / 1000 : null,
    rateLimits,
    dailyCostUsd: inputs.daily?.date === inputs.today ? inputs.daily.costUsd : null,
    resetsAt: rateLimits.five_hour?.resetsAt ?? block?.resetsAt ?? null,
  };
}

function blockFigures(active: ActiveBlock, snapshot: UsageSnapshot, inputs: FigureInputs): BlockFigures {
  const tokensInputOutput = inputOutputTokens(active.tokens);
  const tokenLimit = resolveTokenLimit(inputs.usage, snapshot);
  const remainingMinutes = Math.max(0, (active.end - inputs.now) / 60_000);
  const rate = active.burnRate;
  return {
    start: active.start,
    end: active.end,
    resetsAt: active.limitResetsAt ?? active.end,
    tokens: active.tokens,
    tokensInputOutput,
    tokensAllKinds: allKindsTokens(active.tokens),
    byFamily: active.byFamily,
    costUsd: active.costUsd,
    burnRate: rate,
    projection: rate
      ? { tokens: tokensInputOutput + rate.tokensPerMinute * remainingMinutes, costUsd: active.costUsd + (rate.usdPerHour / 60) * remainingMinutes }
      : null,
    tokenLimit,
    usedRatio: tokensInputOutput / tokenLimit.tokens,
    secondsToLimit: secondsToLimit(tokenLimit.tokens - tokensInputOutput, rate?.tokensPerMinute ?? 0),
  };
}

function secondsToLimit(tokensLeft: number, tokensPerMinute: number): number | null {
  if (tokensLeft <= 0) return 0;
  return tokensPerMinute > 0 ? (tokensLeft / tokensPerMinute) * 60 : null;
}

/** Official (status line) while fresh, then the source's own figure, then the local estimate. */
function rateLimitFigures(inputs: FigureInputs, block: BlockFigures | null): Partial<Record<RateLimitWindowName, RateLimitFigure>> {
  const out: Partial<Record<RateLimitWindowName, RateLimitFigure>> = {};
  for (const window of RATE_LIMIT_WINDOWS) {
    const fromSource = inputs.snapshot?.rateLimits[window];
    const sourceFigure = fromSource && (fromSource.resetsAt === null || inputs.now < fromSource.resetsAt) ? fromSource : undefined;
    const estimate: RateLimitFigure | undefined =
      window === 'five_hour' && block ? { usedRatio: block.usedRatio, resetsAt: block.resetsAt, source: 'estimate' } : undefined;
    const figure = inputs.official[window] ?? sourceFigure ?? estimate;
    if (figure) out[window] = figure;
  }
  return out;
}

/** What the embedded evaluator compares (see alerts/definitions.ts). */
export function signalsOf(figures: UsageFigures, costScope: BridgeConfig['usage']['cost_scope']): UsageSignals {
  const ratios = Object.values(figures.rateLimits).map((figure) => figure.usedRatio);
  const cost = costScope === 'block' ? figures.block?.costUsd : figures.dailyCostUsd;
  return {
    ...(figures.block ? { tokensUsedRatio: figures.block.usedRatio } : {}),
    ...(ratios.length > 0 ? { rateLimitUsedRatio: Math.max(...ratios) } : {}),
    ...(cost !== null && cost !== undefined ? { costUsd: cost } : {}),
    ...(figures.sessionSeconds !== null ? { sessionSeconds: figures.sessionSeconds } : {}),
    ...(figures.resetsAt !== null ? { windowResetsAt: figures.resetsAt } : {}),
  };
}
