import { setFlagsFromString } from 'node:v8';

/**
 * The bridge runs for days with little live data (tens of MiB even over a 1 GiB history), but
 * its allocation comes in bursts: a read of the transcripts, a restart's index load, a scrape.
 * V8's defaults suit short, allocation-heavy programs: on such a burst it grows the young
 * generation to its maximum (2 × 16 MiB on 64-bit Node) and never gives the pages back, and it
 * lets the old generation grow to about twice what is live before collecting it. Over the 1 GiB
 * history those two were 60 MiB of the bridge's resident memory; here the young generation keeps
 * its starting size and the old generation is collected at a quarter above what is live, which
 * cost no measurable CPU in the benches (bench/README.md). The sizes themselves are fixed when
 * the process starts, but V8 reads these two factors on each resize, so they still work when set
 * now. Any heap-sizing flag given on the command line or in NODE_OPTIONS turns this off.
 */
export function keepHeapSmall(env: NodeJS.ProcessEnv): void {
  const given = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((flag) => /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size)\b/.test(flag))) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=25');
}
