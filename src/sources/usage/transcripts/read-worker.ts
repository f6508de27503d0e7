import { parentPort } from 'node:worker_threads';
import { EntryBatch, transferables, type EncodedBatch } from './batch.js';
import type { TrackedFile } from './files.js';
import { scanAppended, zeroScanCounters, type ScanCounters } from './scan.js';

/** The files one worker reads, as the bridge's thread tracks them. */
export interface ReadRequest {
  files: TrackedFile[];
}

/** The file's new state, its entries and counters; `bytes` null when it could not be opened. */
export interface ReadResult {
  file: TrackedFile;
  bytes: number | null;
  batch: EncodedBatch;
  counters: ScanCounters;
}

/**
 * A worker thread of the first read: parses whole transcripts (JSON.parse is the cost) while the
 * bridge's thread only counts the entries, so a large history is read on every core.
 */
parentPort?.on('message', (request: ReadRequest) => {
  void (async () => {
    for (const file of request.files) {
      const result = await read(file);
      parentPort?.postMessage(result, transferables(result.batch));
    }
    parentPort?.postMessage('done');
  })();
});

async function read(file: TrackedFile): Promise<ReadResult> {
  const batch = new EntryBatch();
  const counters = zeroScanCounters();
  try {
    const outcome = await scanAppended(file, counters, (entry, offset) => batch.push(entry, offset));
    return { file, bytes: outcome?.bytes ?? null, batch: batch.encode(), counters };
  } catch {
    return { file, bytes: null, batch: new EntryBatch().encode(), counters };
  }
}
