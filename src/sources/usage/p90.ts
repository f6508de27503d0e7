/**
 * claude-monitor's "P90" token limit (its `--plan custom` limit, as its source defines it), counted in input+output tokens:
 * the 90th percentile of completed blocks' tokens, among the blocks that came within 95 % of one
 * of the known limits (else all completed blocks), floored at 19,000.
 */
export const KNOWN_BLOCK_LIMITS = [19_000, 88_000, 220_000, 880_000] as const;
export const LIMIT_HIT_THRESHOLD = 0.95;
export const MIN_TOKEN_LIMIT = 19_000;

export function p90TokenLimit(completedBlockTokens: readonly number[]): number {
  const used = completedBlockTokens.filter((tokens) => tokens > 0);
  const hits = used.filter(cameNearKnownLimit);
  const sample = hits.length > 0 ? hits : used;
  if (sample.length === 0) return MIN_TOKEN_LIMIT;
  return Math.max(Math.trunc(ninetiethPercentile(sample)), MIN_TOKEN_LIMIT);
}

function cameNearKnownLimit(tokens: number): boolean {
  return KNOWN_BLOCK_LIMITS.some((limit) => tokens >= limit * LIMIT_HIT_THRESHOLD);
}

/**
 * Python's `statistics.quantiles(data, n=10)[8]` (the default "exclusive" method), which is what
 * claude-monitor calls; it extrapolates past the largest value for small samples. One data point
 * gives that point (Python ≥ 3.13; older versions raise).
 */
export function ninetiethPercentile(values: readonly number[]): number {
  const data = [...values].sort((a, b) => a - b);
  const count = data.length;
  if (count === 0) throw new RangeError('no data');
  if (count === 1) return data[0]!;
  const n = 10;
  const i = 9;
  const m = count + 1;
  const j = Math.min(Math.max(Math.floor((i * m) / n), 1), count - 1);
  const delta = i * m - j * n;
  return (data[j - 1]! * (n - delta) + data[j]! * delta) / n;
}
