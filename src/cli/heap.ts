import { setFlagsFromString } from 'node:v8';

/**
 * The bridge runs for days with little live data (tens of MiB even over a 1 GiB history), but
 * its allocation comes in bursts: the first read of the transcripts, a restart's index load, a
 * scrape. On each burst V8 grows the young generation to its maximum (2 × 16 MiB on 64-bit
 * Node) and never gives the pages back, which was a fifth of the bridge's resident memory.
 * Keeping the young generation at its starting size costs no measurable CPU here (a first read
 * over 211 MiB of transcripts: the same CPU either way). V8's maximum young generation size is
 * fixed when the process starts; its growth factor is read on each resize, so that is the flag
 * that still works at run time. A `--max-semi-space-size` or `--semi-space-growth-factor` given
 * on the command line or in NODE_OPTIONS is left alone.
 */
export function keepYoungGenerationSmall(env: NodeJS.ProcessEnv): void {
  const given = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((flag) => /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/.test(flag))) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}
