import type { UsageFigures } from './figures.js';
import type { RateLimitWindowName, TokenCounts } from './types.js';
import { iso } from '../../util/time.js';


export type FigureSource = 'official' | 'estimate';

export interface RateLimitWindow {
  used_ratio: number;
  resets_at: string | null;
  source: FigureSource;
}

/** The `usage_data` section of `GET /metrics`: the same figures as the Prometheus gauges. */
export interface UsageData {
  source: string | null;
  updated_at: string | null;
  block: {
    start: string;
    end: string;
    resets_at: string | null;
    tokens: TokenCounts;
    /** input + output, the total plan limits are counted in (claude-monitor's). */
    tokens_input_output: number;
    /** all four kinds (ccusage's totalTokens). */
    tokens_all_kinds: number;
    /** input + output tokens per model family (opus, sonnet, haiku, other). */
    tokens_by_model_family: Record<string, number>;
    cost_by_model_family: Record<string, number>;
    cost_usd: number;
    /** tokens_per_minute counts input + output. */
    burn_rate: { tokens_per_minute: number; usd_per_hour: number } | null;
    /** At block end at the current burn rate; tokens count input + output. */
    projection: { tokens: number; cost_usd: number } | null;
    token_limit: number | null;
    token_limit_source: 'plan' | 'p90' | 'configured' | 'claude-monitor' | null;
    /** tokens_input_output / token_limit, 0–1 (may exceed 1 past the limit). */
    tokens_used_ratio: number | null;
    minutes_to_limit: number | null;
  } | null;
  session_seconds: number | null;
  rate_limits: { five_hour?: RateLimitWindow; seven_day?: RateLimitWindow };
  daily_cost_usd: number | null;
  /** Last Claude Code status line input received on POST /statusline. */
  statusline_updated_at: string | null;
}

/** The `/metrics` usage_data section: the same figures as the Prometheus gauges. */
export function usageData(figures: UsageFigures, statuslineUpdatedAt: number | null): UsageData {
  return {
    source: figures.source,
    updated_at: iso(figures.updatedAt),
    block: blockData(figures),
    session_seconds: figures.sessionSeconds,
    rate_limits: rateLimitData(figures),
    daily_cost_usd: figures.dailyCostUsd,
    statusline_updated_at: iso(statuslineUpdatedAt),
  };
}

function blockData(figures: UsageFigures): UsageData['block'] {
  const block = figures.block;
  if (!block) return null;
  const families = Object.entries(block.byFamily);
  return {
    start: new Date(block.start).toISOString(),
    end: new Date(block.end).toISOString(),
    resets_at: iso(figures.resetsAt),
    tokens: { ...block.tokens },
    tokens_input_output: block.tokensInputOutput,
    tokens_all_kinds: block.tokensAllKinds,
    tokens_by_model_family: Object.fromEntries(families.map(([family, use]) => [family, use.tokens])),
    cost_by_model_family: Object.fromEntries(families.flatMap(([family, use]) => (use.costUsd === null ? [] : [[family, use.costUsd]]))),
    cost_usd: block.costUsd,
    burn_rate: block.burnRate ? { tokens_per_minute: block.burnRate.tokensPerMinute, usd_per_hour: block.burnRate.usdPerHour } : null,
    projection: block.projection ? { tokens: block.projection.tokens, cost_usd: block.projection.costUsd } : null,
    token_limit: block.tokenLimit.tokens,
    token_limit_source: block.tokenLimit.basis,
    tokens_used_ratio: block.usedRatio,
    minutes_to_limit: block.secondsToLimit === null ? null : block.secondsToLimit / 60,
  };
}

function rateLimitData(figures: UsageFigures): UsageData['rate_limits'] {
  const out: Partial<Record<RateLimitWindowName, RateLimitWindow>> = {};
  for (const [window, figure] of Object.entries(figures.rateLimits) as [RateLimitWindowName, NonNullable<UsageFigures['rateLimits'][RateLimitWindowName]>][]) {
    out[window] = { used_ratio: figure.usedRatio, resets_at: iso(figure.resetsAt), source: figure.source };
  }
  return out;
}
