import { parentPort } from 'node:worker_threads';
import { EntryBatch, transferables, type EncodedBatch } from './batch.js';
import type { TrackedFile } from './files.js';
import { scanAppended, zeroScanCounters, type ScanCounters } from './scan.js';

/** The files one worker thread reads, as the reader tracks them. */
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

/** A message holds at most this many entries (a few MiB) or files: memory stays flat on both sides, with few messages. */
const SEND_ENTRIES = 32_768;
const SEND_FILES = 1_000;

/**
 * A worker thread of a large read: parses whole transcripts (JSON.parse is the cost) while the
 * reader's thread only counts the entries, so the read runs on every core.
 */
const port = parentPort;
if (port) {
  port.once('message', (request: ReadRequest) => {
    const send = (message: ReaderMessage) => port.postMessage(message, message === 'done' ? [] : transferables(message.batch));
    void readAll(request.files, send).then(() => send('done'));
  });
}

async function readAll(files: TrackedFile[], send: (message: ReadResult) => void): Promise<void> {
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
      send({ reads, batch: batch.encode(), counters });
      batch.reset();
      reads = [];
      counters = zeroScanCounters();
    }
  }
  if (reads.length > 0) send({ reads, batch: batch.encode(), counters });
}
