import type { EntryBatch } from './batch.js';
import { readAppended, type ReadBuffer, type ReadOutcome, type TrackedFile } from './files.js';
import { parseUsageLine, USAGE_MARKER, type SkipReason } from './line.js';
import { nativeScanner, ROW, ROW_STATUS, type NativeScanner } from './native-scan.js';

const MARKER = Buffer.from(USAGE_MARKER);
const NEWLINE = 0x0a;
/** Rows the native scanner fills per call (a few KiB, reused). */
const ROWS_PER_CALL = 256;

/** What reading lines counts besides the entries themselves (part of ReaderCounters). */
export interface ScanCounters {
  /** Lines carrying `"usage":{` that were parsed. */
  usage_lines: number;
  /** Of those, lines the native scanner read (the others: line.ts, with JSON.parse). */
  usage_lines_native: number;
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
  return { usage_lines: 0, usage_lines_native: 0, entries_read: 0, skipped_malformed: 0, skipped_null_field: 0, skipped_schema: 0, skipped_timestamp: 0, skipped_invalid: 0 };
}

/**
 * Reads what was appended to a transcript and adds every usage entry of its complete lines to
 * `batch` with the byte offset of its line. Only lines holding `"usage":{` are read (ccusage
 * looks at no other): by the native scanner where it is built and sure of a line, else decoded
 * and parsed by line.ts. Used in the bridge's thread for appends and in worker threads for a
 * first read.
 */
export async function scanAppended(
  file: TrackedFile,
  counters: ScanCounters,
  batch: EntryBatch,
  { scanner = nativeScanner(), readBuffer }: { scanner?: NativeScanner | null; readBuffer?: ReadBuffer } = {},
): Promise<ReadOutcome | null> {
  const parseLine = (buffer: Buffer, start: number, end: number, offset: number) => {
    counters.usage_lines += 1;
    const outcome = parseUsageLine(buffer.toString('utf8', start, end));
    if ('skip' in outcome) {
      counters[`skipped_${outcome.skip}` satisfies `skipped_${SkipReason}`] += 1;
      return;
    }
    for (const entry of outcome.entries) {
      counters.entries_read += 1;
      batch.push(entry, offset);
    }
  };
  const acceptTail = (buffer: Buffer, start: number, end: number) => {
    // a last line without its newline counts only if it is already a whole JSON line
    try {
      JSON.parse(buffer.toString('utf8', start, end));
      return true;
    } catch {
      return false;
    }
  };
  const chunkLines = scanner ? (buffer: Buffer, offset: number) => scanChunk(scanner, buffer, offset, counters, batch, parseLine) : undefined;
  return readAppended(file, MARKER, parseLine, acceptTail, { chunkLines, readBuffer });
}

let rows = new Float64Array(0);

/** readAppended's chunkLines for the native scanner: its rows into the batch, the lines it leaves to line.ts. */
function scanChunk(
  scanner: NativeScanner,
  buffer: Buffer,
  offset: number,
  counters: ScanCounters,
  batch: EntryBatch,
  parseLine: (buffer: Buffer, start: number, end: number, offset: number) => void,
): number {
  if (rows.length !== ROWS_PER_CALL * ROW.length) rows = new Float64Array(ROWS_PER_CALL * ROW.length);
  let from = 0;
  for (;;) {
    const filled = scanner.scan(buffer, from, rows);
    for (let r = 0; r < filled * ROW.length; r += ROW.length) {
      const start = rows[r + ROW.start]!;
      if (rows[r + ROW.status] === ROW_STATUS.entry) {
        counters.usage_lines += 1;
        counters.usage_lines_native += 1;
        counters.entries_read += 1;
        batch.pushScanned(rows, r, buffer, offset + start);
      } else {
        parseLine(buffer, start, rows[r + ROW.end]!, offset + start);
      }
    }
    if (filled < ROWS_PER_CALL) break;
    from = rows[(filled - 1) * ROW.length + ROW.end]! + 1;
  }
  // every line up to the last newline is done with (a marked line after it has no end yet)
  return buffer.lastIndexOf(NEWLINE) + 1;
}
