import { isSaneInstant } from '../../util/time.js';
import type { RateLimitWindowName } from '../usage/types.js';

export interface OfficialWindow {
  usedRatio: number;
  resetsAt: number | null;
}

/**
 * The rate-limit windows a status line input carries, as ratios 0–1 and ms timestamps. Reads the
 * input defensively (any field may be missing or of another type), so it serves both the parsed
 * input of POST /statusline and the raw JSON the `claude-bridge statusline` command reads: that
 * command runs on every UI update and must not load the schema library to print one line.
 */
export function officialWindows(input: { rate_limits?: unknown }): Partial<Record<RateLimitWindowName, OfficialWindow>> {
  const out: Partial<Record<RateLimitWindowName, OfficialWindow>> = {};
  const limits = input.rate_limits as Record<string, { used_percentage?: unknown; resets_at?: unknown } | null | undefined> | null | undefined;
  for (const name of ['five_hour', 'seven_day'] as const) {
    const window = typeof limits === 'object' && limits !== null ? limits[name] : undefined;
    const percentage = typeof window === 'object' && window !== null ? window.used_percentage : undefined;
    if (typeof percentage !== 'number' || !Number.isFinite(percentage) || percentage < 0 || percentage > 1000) continue;
    out[name] = { usedRatio: percentage / 100, resetsAt: instantMs(window?.resets_at) };
  }
  return out;
}

/** Epoch seconds (as documented), epoch ms or an ISO string; an out-of-range time reads as unknown. */
function instantMs(value: unknown): number | null {
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') ms = Date.parse(value);
  return isSaneInstant(ms) ? ms : null;
}
