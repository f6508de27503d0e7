import type { RateLimitWindow, UsageData } from '../../metrics/summary.js';
import type { UsageFigures } from './figures.js';
import type { RateLimitWindowName } from './types.js';
import { iso } from '../../util/time.js';


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
