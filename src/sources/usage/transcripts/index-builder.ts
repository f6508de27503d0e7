import { systemClock } from '../../../util/clock.js';
import { errorMessage } from '../../../util/errors.js';
import { silentLogger } from '../../../util/logger.js';
import { PriceList } from './pricing.js';
import { TranscriptReader } from './reader.js';

/** What the bridge asks of an index-builder process. */
export interface BuildRequest {
  configDir: string;
  indexFile: string;
  workers?: number;
  workerScript?: string;
  workerMinBytes?: number;
}

export type BuildOutcome = { built: true } | { built: false; error: string };

/**
 * A process that makes the first read of a large history and writes the index, which the bridge
 * then loads as on a restart. The read's counting allocates tens of MiB in bursts (the worker
 * threads and their messages, the store growing) that the C allocator keeps as the process's own after
 * they are freed; here they go back to the system when this process exits, and the bridge holds
 * only what the index holds. Costs are worked out again with the bridge's prices on load.
 */
if (process.send) {
  process.once('message', (request: BuildRequest) => {
    void build(request).then((outcome) => process.send!(outcome, undefined, {}, () => process.disconnect()));
  });
}

async function build(request: BuildRequest): Promise<BuildOutcome> {
  const reader = new TranscriptReader({
    configDir: request.configDir,
    indexFile: request.indexFile,
    clock: systemClock,
    prices: new PriceList(),
    timeZone: 'UTC',
    sweepIntervalMs: 3_600_000,
    flushDelayMs: 3_600_000,
    watch: false,
    logger: silentLogger,
    ...(request.workers !== undefined ? { workers: request.workers } : {}),
    ...(request.workerScript !== undefined ? { workerScript: request.workerScript } : {}),
    ...(request.workerMinBytes !== undefined ? { workerMinBytes: request.workerMinBytes } : {}),
    indexBuilder: false,
  });
  try {
    await reader.start();
    await reader.stop();
    const status = reader.status() as { last_error: string | null; index: { saved_at: string | null; problem: string | null } };
    if (status.last_error) return { built: false, error: status.last_error };
    if (status.index.saved_at === null) return { built: false, error: status.index.problem ?? 'the index was not written' };
    return { built: true };
  } catch (error) {
    return { built: false, error: errorMessage(error) };
  }
}
