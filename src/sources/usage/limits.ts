import type { BridgeConfig } from '../../config/schema.js';
import { p90TokenLimit } from './p90.js';
import type { UsageSnapshot } from './types.js';

/** Tokens per 5-hour block, input+output only, as claude-monitor counts them. */
export const PLAN_TOKEN_LIMITS = { pro: 19_000, max5: 88_000, max20: 220_000 } as const;

export type TokenLimitBasis = 'plan' | 'p90' | 'configured' | 'claude-monitor';

export interface TokenLimit {
  tokens: number;
  basis: TokenLimitBasis;
}

/**
 * A configured number wins; then the limit claude-monitor computed itself (it was run with the
 * plan, or `custom` for p90); then the plan table; `custom` plans and `p90` use the P90 of the
 * completed blocks the source listed.
 */
export function resolveTokenLimit(usage: BridgeConfig['usage'], snapshot: UsageSnapshot): TokenLimit {
  if (typeof usage.token_limit === 'number') return { tokens: usage.token_limit, basis: 'configured' };
  if (snapshot.tokenLimit !== null && snapshot.tokenLimit > 0) return { tokens: snapshot.tokenLimit, basis: 'claude-monitor' };
  if (usage.token_limit === 'plan' && usage.plan !== 'custom') return { tokens: PLAN_TOKEN_LIMITS[usage.plan], basis: 'plan' };
  return { tokens: p90TokenLimit(snapshot.completedBlockTokens), basis: 'p90' };
}

/** The `--plan` claude-monitor is run with: `custom` makes it compute its P90 limit. */
export function claudeMonitorPlan(usage: BridgeConfig['usage']): string {
  return usage.token_limit === 'p90' ? 'custom' : usage.plan;
}
