// The transcript reader's first full read of a history, in a process of its own (the bench times
// it from outside): what `claude-bridge serve` does at start with no index yet, then the blocks.
//   node bench/usage-first-read.mjs <folder containing projects/>
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (...parts) => import(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', ...parts));
const { TranscriptReader } = await dist('sources', 'usage', 'transcripts', 'reader.js');
const { PriceList } = await dist('sources', 'usage', 'transcripts', 'pricing.js');
const { silentLogger } = await dist('util', 'logger.js');
const { systemClock } = await dist('util', 'clock.js');

const reader = new TranscriptReader({
  configDir: process.argv[2],
  indexFile: null,
  clock: systemClock,
  prices: new PriceList(),
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  sweepIntervalMs: 3_600_000,
  flushDelayMs: 3_600_000,
  watch: false,
  logger: silentLogger,
});
await reader.start();
const blocks = reader.blocks('ccusage');
reader.blocks('claude-monitor');
const status = reader.status();
await reader.stop();
process.stdout.write(`${JSON.stringify({ entries: status.entries_counted, files: status.files, workers: status.files_read_by_workers, parser: status.parser, blocks: blocks.length })}\n`);
