import { readAppended, type ReadOutcome, type TrackedFile } from './files.js';
import { parseUsageLine, USAGE_MARKER, type SkipReason, type UsageEntry } from './line.js';

const MARKER = Buffer.from(USAGE_MARKER);

/** What reading lines counts besides the entries themselves (part of ReaderCounters). */
export interface ScanCounters {
  /** Lines carrying `"usage":{` that were parsed. */
  usage_lines: number;
  /** Usage entries read (a line with advisor iterations has several). */
  entries_read: number;
  /** Entries ccusage also skips, by reason. */
  skipped_malformed: number;
  skipped_null_field: number;
  skipped_schema: number;
  skipped_timestamp: number;
  skipped_invalid: number;
}

export function zeroScanCounters(): ScanCounters {
  return { usage_lines: 0, entries_read: 0, skipped_malformed: 0, skipped_null_field: 0, skipped_schema: 0, skipped_timestamp: 0, skipped_invalid: 0 };
}

/**
 * Reads what was appended to a transcript and hands every usage entry of its complete lines to
 * `onEntry` with the byte offset of its line. Only lines holding `"usage":{` are decoded and
 * parsed (ccusage looks at no other). Used in the bridge's thread for appends and in worker
 * threads for a first read.
 */
export async function scanAppended(file: TrackedFile, counters: ScanCounters, onEntry: (entry: UsageEntry, offset: number) => void): Promise<ReadOutcome | null> {
  return readAppended(
    file,
    MARKER,
    (buffer, start, end, offset) => {
      counters.usage_lines += 1;
      const outcome = parseUsageLine(buffer.toString('utf8', start, end));
      if ('skip' in outcome) {
        counters[`skipped_${outcome.skip}` satisfies `skipped_${SkipReason}`] += 1;
        return;
      }
      for (const entry of outcome.entries) {
        counters.entries_read += 1;
        onEntry(entry, offset);
      }
    },
    (buffer, start, end) => {
      // a last line without its newline counts only if it is already a whole JSON line
      try {
        JSON.parse(buffer.toString('utf8', start, end));
        return true;
      } catch {
        return false;
      }
    },
  );
}
