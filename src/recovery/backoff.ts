import type { RecoveryConfig } from '../config/schema.js';

/** Delay of backoff attempt n (1-based): base·2^(n-1) capped, shortened by up to `jitter`. */
export function backoffDelayMs(attempt: number, config: RecoveryConfig['backoff'], random: () => number): number {
  if (attempt <= 0) return 0;
  const exponential = config.base_s * 2 ** Math.min(attempt - 1, 30);
  const capped = Math.min(config.cap_s, exponential) * 1000;
  return Math.round(capped * (1 - config.jitter * random()));
}

/** The next local time at `hour`:00 strictly after `now` on the following day. */
export function nextDayAt(now: number, hour: number): number {
  const date = new Date(now);
  date.setDate(date.getDate() + 1);
  date.setHours(hour, 0, 0, 0);
  return date.getTime();
}
