/**
 * A transcript timestamp as ccusage 20.0.24 reads it, or null for one it skips: exactly
 * `YYYY-MM-DDTHH:MM:SS`, optionally `.mmm` (three digits), then `Z` or `±HH:MM` (hours 00–23).
 * `Date.parse` accepts far more (no zone, nanoseconds, lower-case `z`), which would count lines
 * ccusage drops.
 */
export function parseTranscriptTimestamp(text: string): number | null {
  let zoneAt: number;
  let millis = 0;
  if ((text.length === 20 || text.length === 25) && isZoneStart(text.charCodeAt(19))) {
    zoneAt = 19;
  } else if ((text.length === 24 || text.length === 29) && text[19] === '.') {
    const ms = digits(text, 20, 23);
    if (ms === null) return null;
    millis = ms;
    zoneAt = 23;
  } else {
    return null;
  }
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  if (year === null || month === null || day === null || hour === null || minute === null || second === null) return null;
  if (hour > 23 || minute > 59 || second > 59 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  const offset = zoneOffsetMinutes(text.slice(zoneAt));
  if (offset === null) return null;
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC reads years 0–99 as 1900–1999
  if (year < 100) utc = new Date(utc).setUTCFullYear(year);
  return utc - offset * 60_000;
}

function isZoneStart(code: number): boolean {
  return code === 0x5a /* Z */ || code === 0x2b /* + */ || code === 0x2d; /* - */
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone === 'Z') return 0;
  if (zone.length !== 6 || zone[3] !== ':') return null;
  const sign = zone[0] === '+' ? 1 : zone[0] === '-' ? -1 : 0;
  const hours = digits(zone, 1, 3);
  const minutes = digits(zone, 4, 6);
  if (sign === 0 || hours === null || minutes === null || hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function digits(text: string, from: number, to: number): number | null {
  let value = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return null;
    value = value * 10 + code;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
