import { parentPort } from 'node:worker_threads';
import { EntryBatch, transferables, type EncodedBatch } from './batch.js';
import { ReadBuffer, type TrackedFile } from './files.js';
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

/**
 * A message holds at most this many entries (about 200 KiB) or files: small enough that the
 * reader's thread counts one while this thread reads the next, and memory stays flat on both sides.
 */
const SEND_ENTRIES = 2_048;
const SEND_FILES = 50;

/**
 * A worker thread of a large read: reads and parses whole transcripts while the reader's thread
 * only counts the entries, so the read runs on more than one core.
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
  const readBuffer = new ReadBuffer();
  let reads: FileRead[] = [];
  let counters = zeroScanCounters();
  for (const file of files) {
    const before = batch.length;
    let bytes: number | null;
    try {
      bytes = (await scanAppended(file, counters, batch, { readBuffer }))?.bytes ?? null;
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
