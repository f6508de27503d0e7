/** The latest instant any input may name: later ones (and non-finite ones) are refused. */
export const LATEST_SANE_INSTANT_MS = Date.parse('3000-01-01T00:00:00Z');

/** A finite instant between the epoch and the year 3000: printable, comparable, storable. */
export function isSaneInstant(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms < LATEST_SANE_INSTANT_MS;
}

/** An instant (ms since the epoch) as an ISO 8601 string, null kept null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
