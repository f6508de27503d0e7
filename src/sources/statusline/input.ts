import { z } from 'zod';

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

export { officialWindows, type OfficialWindow } from './windows.js';
