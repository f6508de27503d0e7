import type { ActivityEvent } from './event.js';

/**
 * What identifies a stored event besides its id: its content as the sender gave it (time,
 * session, type, source app and tool call). The hooks server hands ids out again after a rollback
 * or a new database, so the same id with another fingerprint is another event. A human-in-the-loop
 * answer re-broadcasts an event with the same content, hence the same fingerprint.
 */
export function eventFingerprint(event: ActivityEvent): string {
  const content = `${event.time ?? ''}\u0000${event.sessionId}\u0000${event.type}\u0000${event.sourceApp}\u0000${event.toolUseId ?? ''}`;
  return cyrb53(content).toString(36);
}

/** cyrb53 (public domain): a fast 53-bit string hash; collisions are negligible at this scale. */
function cyrb53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
