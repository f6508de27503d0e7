// The bridge under test, in its own process so that its CPU time and memory are its own.
// Started by hooks.bench.mjs over IPC; imports the compiled bridge from dist/ (npm run build).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bridge } from '../dist/bridge.js';
import { validateConfig } from '../dist/config/index.js';
import { MemoryStateStore } from '../dist/recovery/store.js';
import { hooksComponent } from '../dist/sources/hooks/index.js';
import { silentLogger } from '../dist/util/logger.js';

const hooksUrl = process.argv[2];
const config = validateConfig({
  server: { host: '127.0.0.1', port: 0 },
  hooks_server: hooksUrl ? { url: hooksUrl } : { enabled: false },
  state: { dir: mkdtempSync(path.join(tmpdir(), 'bench-hooks-state-')) }, // the hooks cursor, never in the user's state dir
});
const bridge = new Bridge({ config, logger: silentLogger, store: new MemoryStateStore(), components: [hooksComponent] });
const address = await bridge.start();
const hooks = bridge.components.find((c) => c.name === 'hooks');

process.on('message', async (message) => {
  if (message === 'stats') {
    const summary = await hooks.section.read();
    process.send({
      rssBytes: process.memoryUsage.rss(),
      ...memory(),
      cpuMicros: process.cpuUsage(),
      eventsTotal: summary.events_total,
      duplicates: summary.duplicates_dropped_total,
      websocket: summary.websocket.state,
    });
  } else if (message === 'gc') {
    globalThis.gc?.(); // only when started with --expose-gc: the live set, without garbage awaiting collection
    process.send({ rssBytes: process.memoryUsage.rss(), ...memory() });
  } else if (message === 'stop') {
    await bridge.stop();
    process.exit(0);
  }
});
process.send({ port: address.port });

function memory() {
  const { heapUsed, heapTotal, external } = process.memoryUsage();
  return { heapUsedBytes: heapUsed, heapTotalBytes: heapTotal, externalBytes: external };
}
