import { EntryBatch, type EncodedBatch } from './batch.js';
import type { TrackedFile } from './files.js';
import { scanAppended, zeroScanCounters, type ScanCounters } from './scan.js';

/** The files one reader process reads, as the bridge tracks them. */
export interface ReadRequest {
  files: TrackedFile[];
}

/** One file read: its new state, and how many of the batch's entries (after the previous file's) are its own; `bytes` null when it could not be read. */
export interface FileRead {
  file: TrackedFile;
  bytes: number | null;
  entries: number;
}

/** Several files' entries in one batch, with what reading them counted. */
export interface ReadResult {
  reads: FileRead[];
  batch: EncodedBatch;
  counters: ScanCounters;
}

export type ReaderMessage = ReadResult | 'done';

/** A message holds at most this many entries (a few MiB) or files: memory stays flat on both sides. */
const SEND_ENTRIES = 32_768;
const SEND_FILES = 1_000;

/**
 * A process of the first read: parses whole transcripts (JSON.parse is the cost) while the bridge
 * only counts the entries, so a large history is read on every core; and what the parsing
 * allocates goes back to the system when this process exits, instead of staying in the bridge.
 */
if (process.send) {
  process.once('message', (request: ReadRequest) => {
    void readAll(request.files).then(() => send('done'));
  });
}

async function readAll(files: TrackedFile[]): Promise<void> {
  const batch = new EntryBatch();
  let reads: FileRead[] = [];
  let counters = zeroScanCounters();
  for (const file of files) {
    const before = batch.length;
    let bytes: number | null;
    try {
      bytes = (await scanAppended(file, counters, (entry, offset) => batch.push(entry, offset)))?.bytes ?? null;
    } catch {
      batch.truncate(before);
      bytes = null;
    }
    reads.push({ file, bytes, entries: batch.length - before });
    if (batch.length >= SEND_ENTRIES || reads.length >= SEND_FILES) {
      await send({ reads, batch: batch.encode(), counters });
      batch.reset();
      reads = [];
      counters = zeroScanCounters();
    }
  }
  if (reads.length > 0) await send({ reads, batch: batch.encode(), counters });
}

function send(message: ReaderMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}
