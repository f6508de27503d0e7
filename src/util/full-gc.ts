import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/**
 * A full garbage collection, now: after a burst that left tens of MiB of dead buffers (a first
 * read of the transcripts, an index load) in a process that may then allocate too little for V8
 * to collect them for hours. Node offers no API for it; `--expose-gc` set at run time gives every
 * new context a `gc` function, and one is made for this. A no-op where that does not work.
 */
export function collectGarbageNow(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collect = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
