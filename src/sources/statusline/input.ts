import { z } from 'zod';
import { isSaneInstant } from '../../util/time.js';
import type { RateLimitWindowName } from '../usage/types.js';

// Tolerant: unknown fields pass, a field of the wrong type reads as absent.
const num = z.number().nullish().catch(null);
const str = z.string().nullish().catch(null);
const instant = z.union([z.number(), z.string()]).nullish().catch(null);
const windowSchema = z.looseObject({ used_percentage: num, resets_at: instant }).nullish().catch(null);

/** Claude Code's status line JSON (https://docs.anthropic.com/en/docs/claude-code/statusline; sample: test/fixtures/claude-code/statusline-input.json); `rate_limits` only for Pro/Max, ≥ 2.1.80. */
export const statuslineInputSchema = z.looseObject({
  session_id: str,
  model: z.looseObject({ id: str, display_name: str }).nullish().catch(null),
  cost: z.looseObject({ total_cost_usd: num, total_duration_ms: num }).nullish().catch(null),
  context_window: z.looseObject({ used_percentage: num, context_window_size: num }).nullish().catch(null),
  rate_limits: z.looseObject({ five_hour: windowSchema, seven_day: windowSchema }).nullish().catch(null),
});

export type StatuslineInput = z.infer<typeof statuslineInputSchema>;

export interface OfficialWindow {
  usedRatio: number;
  resetsAt: number | null;
}

/** The windows the input carries, as ratios 0–1 and ms timestamps. */
export function officialWindows(input: StatuslineInput): Partial<Record<RateLimitWindowName, OfficialWindow>> {
  const out: Partial<Record<RateLimitWindowName, OfficialWindow>> = {};
  for (const name of ['five_hour', 'seven_day'] as const) {
    const window = input.rate_limits?.[name];
    const percentage = window?.used_percentage;
    if (typeof percentage !== 'number' || !Number.isFinite(percentage) || percentage < 0 || percentage > 1000) continue;
    out[name] = { usedRatio: percentage / 100, resetsAt: instantMs(window?.resets_at) };
  }
  return out;
}

/** Epoch seconds (as documented), epoch ms or an ISO string; an out-of-range time reads as unknown. */
function instantMs(value: number | string | null | undefined): number | null {
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') ms = Date.parse(value);
  return isSaneInstant(ms) ? ms : null;
}
