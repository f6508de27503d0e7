/** An instant (ms since the epoch) as an ISO 8601 string, null kept null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
