/**
 * At most `max` UTF-16 code units of `value`. A longer value is cut and copied: behind a plain
 * slice V8 keeps the whole original string alive, so the first 128 characters of a 20 MB
 * identifier, kept in a map, would still hold 20 MB.
 */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  return Buffer.from(value.slice(0, max), 'utf16le').toString('utf16le');
}
