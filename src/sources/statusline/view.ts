import type { UsageFigures } from '../usage/figures.js';
import type { RateLimitFigure } from '../usage/types.js';

/** The compact answer of /statusline: what `claude-bridge statusline` prints. */
export interface StatuslineView {
  five_hour: WindowView | null;
  seven_day: WindowView | null;
  block: {
    cost_usd: number;
    tokens_used_ratio: number;
    /** input+output tokens per minute. */
    burn_rate_tokens_per_minute: number | null;
    burn_rate_usd_per_hour: number | null;
    resets_at: string;
  } | null;
  day_cost_usd: number | null;
  recovery_state: string;
}

export interface WindowView {
  used_ratio: number;
  source: 'official' | 'estimate';
  resets_at: string | null;
}

export function statuslineView(figures: UsageFigures, recoveryState: string): StatuslineView {
  const block = figures.block;
  return {
    five_hour: windowView(figures.rateLimits.five_hour),
    seven_day: windowView(figures.rateLimits.seven_day),
    block: block
      ? {
          cost_usd: block.costUsd,
          tokens_used_ratio: block.usedRatio,
          burn_rate_tokens_per_minute: block.burnRate?.tokensPerMinute ?? null,
          burn_rate_usd_per_hour: block.burnRate?.usdPerHour ?? null,
          resets_at: new Date(block.resetsAt).toISOString(),
        }
      : null,
    day_cost_usd: figures.dailyCostUsd,
    recovery_state: recoveryState,
  };
}

function windowView(figure: RateLimitFigure | undefined): WindowView | null {
  if (!figure) return null;
  return { used_ratio: figure.usedRatio, source: figure.source, resets_at: figure.resetsAt === null ? null : new Date(figure.resetsAt).toISOString() };
}
