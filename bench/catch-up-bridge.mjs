// The bridge's hooks source under test, in its own process so that its memory is its own. Started
// by catch-up.bench.mjs over IPC with the hooks server URL and a state dir; imports dist/.
// {run: true} starts the source, waits until its stream is in step, and reports what it took:
// RSS before, peak RSS (VmHWM, reset just before), time, events counted, the windows asked for.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { validateConfig } from '../dist/config/index.js';
import { hooksComponent } from '../dist/sources/hooks/index.js';
import { silentLogger } from '../dist/util/logger.js';
import { systemClock } from '../dist/util/clock.js';

const [url, stateDir] = process.argv.slice(2);
const config = validateConfig({ hooks_server: { url }, state: { dir: stateDir } });
const component = hooksComponent({
  config,
  registry: new Registry(),
  clock: systemClock,
  logger: silentLogger,
  report: { rateLimitHit: () => undefined },
  recoveryState: () => 'normal',
});
const details = () => component.health[0].status().details;
const vmHwmBytes = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

process.on('message', async (message) => {
  if (message === 'exit') process.exit(0); // a normal exit: --cpu-prof writes its profile
  if (message === 'whole') {
    process.send(await wholeTableParse());
    return;
  }
  if (message !== 'run') return;
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  globalThis.gc?.();
  const rssBefore = process.memoryUsage.rss();
  writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM (peak RSS) to the current RSS (Linux, as root)
  let sampledPeak = rssBefore;
  const heapBefore = process.memoryUsage();
  let peakHeap = heapBefore;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    sampledPeak = Math.max(sampledPeak, now.rss);
    if (now.rss >= peakHeap.rss) peakHeap = now;
  }, 5);
  const started = performance.now();
  component.start();
  while (!(details().state === 'connected' && details().sync === 'live')) await new Promise((resolve) => setTimeout(resolve, 2));
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  const summary = await component.section.read();
  const peak = Math.max(vmHwmBytes(), sampledPeak);
  component.stop();
  if (process.env.BENCH_HEAP) console.error('heap before', heapBefore, 'at the sampled peak', peakHeap);
  process.send({ rssBefore, peak, elapsedMs, eventsTotal: summary.events_total, catchUp: details().catch_up.last, baseline: details().baseline });
});
process.send({ ready: true });

/** What the bridge did before issue 12, for comparison: GET /events/recent?limit=-1, then JSON.parse. */
async function wholeTableParse() {
  globalThis.gc?.();
  const rssBefore = process.memoryUsage.rss();
  writeFileSync('/proc/self/clear_refs', '5');
  const started = performance.now();
  const recent = new URL(url.replace(/^ws/, 'http'));
  recent.pathname = '/events/recent';
  recent.search = '?limit=-1';
  const rows = JSON.parse(await (await fetch(recent)).text());
  return { rssBefore, peak: vmHwmBytes(), elapsedMs: performance.now() - started, events: rows.length };
}
