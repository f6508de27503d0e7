import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../../util/errors.js';

/**
 * The optional native line scanner (native/usage-scan.c, built by `npm run build` where a C
 * compiler and Node's headers are): finds the `"usage":{` lines of a chunk, checks their JSON and
 * reads the common shapes into rows of numbers, about five times faster than decoding and
 * JSON.parse. Lines it is not sure of come back for line.ts to read, so the figures are the same
 * either way; without the addon every line is read by line.ts.
 */
export interface NativeScanner {
  /** Fills `rows` (ROW.length numbers each) for the complete marked lines at or after `from`; returns how many. */
  scan(buffer: Uint8Array, from: number, rows: Float64Array): number;
  readonly rowLength: number;
}

/** One row's layout: keep in step with the enum at the top of native/usage-scan.c. */
export const ROW = {
  status: 0,
  start: 1,
  end: 2,
  at: 3,
  messageHash: 4,
  requestHash: 5,
  input: 6,
  output: 7,
  cacheWrite5m: 8,
  cacheWrite1h: 9,
  cacheRead: 10,
  sessionStart: 11,
  sessionEnd: 12,
  sessionHash: 13,
  modelStart: 14,
  modelEnd: 15,
  modelHash: 16,
  costStart: 17,
  costEnd: 18,
  flags: 19,
  length: 20,
} as const;

/** A row's status: read (its fields are set), or left for line.ts. */
export const ROW_STATUS = { fallback: 0, entry: 1 } as const;

/** `CLAUDE_BRIDGE_NATIVE_SCAN=off` keeps every line in JavaScript (to compare, or to rule the addon out). */
export const NATIVE_SCAN_ENV = 'CLAUDE_BRIDGE_NATIVE_SCAN';

// src/sources/usage/transcripts and dist/sources/usage/transcripts are both four folders down
const ADDON = fileURLToPath(new URL('../../../../native/build/Release/usage_scan.node', import.meta.url));

let loaded: { scanner: NativeScanner | null; status: string } | undefined;

/** The addon, loaded once per thread, or null (why: nativeScanStatus()). */
export function nativeScanner(): NativeScanner | null {
  loaded ??= load();
  return loaded.scanner;
}

/** Which parser reads transcript lines, for /health. */
export function nativeScanStatus(): string {
  loaded ??= load();
  return loaded.status;
}

function load(): { scanner: NativeScanner | null; status: string } {
  if (process.env[NATIVE_SCAN_ENV] === 'off') return { scanner: null, status: `javascript (${NATIVE_SCAN_ENV}=off)` };
  if (!existsSync(ADDON)) return { scanner: null, status: 'javascript (native scanner not built: npm run build needs a C compiler)' };
  try {
    const scanner = createRequire(import.meta.url)(ADDON) as NativeScanner;
    if (scanner.rowLength !== ROW.length) return { scanner: null, status: `javascript (native scanner out of date: rows of ${scanner.rowLength}, expected ${ROW.length}; npm run build)` };
    return { scanner, status: 'native' };
  } catch (error) {
    return { scanner: null, status: `javascript (native scanner failed to load: ${errorMessage(error)})` };
  }
}
