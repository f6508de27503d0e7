/**
 * 53-bit hashes (cyrb53, public domain). Message and request ids are kept as numbers, not
 * strings, so the de-duplication index costs a few bytes per message; two different ids collide
 * with probability ~2^-53 per pair.
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  return finish(h1, h2);
}

/** The same over bytes: the head of a file, to tell an appended file from a replaced one. */
export function hashBytes(bytes: Uint8Array): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const code of bytes) {
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  return finish(h1, h2);
}

/** Combines hashes of several parts into one key (order matters). */
export function combine(...parts: number[]): number {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  for (const part of parts) {
    const low = part >>> 0;
    const high = Math.floor(part / 4294967296) >>> 0;
    h1 = Math.imul(h1 ^ low, 2654435761);
    h2 = Math.imul(h2 ^ high, 1597334677);
    h1 = Math.imul(h1 ^ high, 2246822507);
    h2 = Math.imul(h2 ^ low, 3266489909);
  }
  return finish(h1, h2);
}

function finish(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
