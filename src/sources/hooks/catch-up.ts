import type { ActivityEvent } from './event.js';
import type { EventMemory, RememberedEvent } from './event-memory.js';

/** An event of the hooks server with its id and fingerprint. */
export type ServerEvent = ActivityEvent & { id: number; fingerprint: string };

/** The server's replay frame holds its newest 300 events by timestamp: the first window, for free. */
export const REPLAY_WINDOW = 300;
/** Each window asked for is this many times the last one. */
export const WINDOW_GROWTH = 4;

/**
 * One answer of the server: its newest `limit` events by timestamp (the replay frame, or
 * `GET /events/recent?limit=N`). Reduced as it streams in: of the events the memory already counted
 * with the same content only their fingerprints are looked at; the others are kept to be counted.
 */
export class EventWindow {
  size = 0;
  private oldestTime = Infinity;
  /** Fingerprints in this window of the ids the memory remembers. */
  private readonly fingerprints = new Map<number, string>();
  private candidates: ServerEvent[] = [];
  private cursorMatched = false;

  constructor(
    private readonly memory: EventMemory,
    readonly limit: number,
  ) {}

  add(event: ServerEvent): void {
    this.size += 1;
    if (event.time !== null && event.time < this.oldestTime) this.oldestTime = event.time;
    const known = this.memory.remembered(event.id);
    if (known) {
      this.fingerprints.set(event.id, event.fingerprint);
      if (known.fingerprint === event.fingerprint) {
        if (known === this.memory.cursor) this.matchCursor();
        return;
      }
    } else if (this.cursorMatched && this.memory.has(event.id)) {
      return; // in step with the memory: an id it counted is the same event
    }
    this.candidates.push(event);
  }

  /** Fewer events than asked for: the window is the whole database. */
  get complete(): boolean {
    return this.size < this.limit;
  }

  /** Whether an event of this time would be in the window if the server still had it. */
  covers(time: number | null): boolean {
    if (this.complete) return true;
    // Events as old as the oldest one here may have been cut at the window's edge.
    return time !== null && time > this.oldestTime;
  }

  fingerprintOf(id: number): string | undefined {
    return this.fingerprints.get(id);
  }

  /** The events not known to the memory as counted, ascending by id. */
  unknownEvents(): ServerEvent[] {
    return [...this.candidates].sort((a, b) => a.id - b.id);
  }

  /** The cursor is here unchanged: nothing above it was replaced, so known ids need not be kept. */
  private matchCursor(): void {
    this.cursorMatched = true;
    this.candidates = this.candidates.filter((e) => !this.memory.has(e.id));
  }
}

/**
 * What a window says about the server's database compared with what was counted:
 * - `in-step`: the cursor's event is still there; everything newer is new.
 * - `rollback`: the cursor's event is gone or replaced, an older counted one is intact; ids from
 *   `from` up were handed out again.
 * - `reset`: none of the remembered events is there any more: a new database.
 * - `empty`: nothing was ever counted (the database was empty at the baseline).
 * - `grow`: the window is too small to tell.
 */
export type Verdict =
  | { kind: 'in-step' }
  | { kind: 'rollback'; from: number; anchor: number }
  | { kind: 'reset' }
  | { kind: 'empty' }
  | { kind: 'grow' };

/**
 * Compares the window with the remembered events, newest first: the first one found unchanged is
 * the anchor; the ones above it that the window covers but does not hold unchanged were lost.
 * With `final` (no larger window can be had) an undecided comparison takes the safe side: what
 * cannot be shown replaced counts as counted.
 */
export function judge(window: EventWindow, memory: EventMemory, final: boolean): Verdict {
  const remembered = memory.rememberedNewestFirst();
  if (remembered.length === 0) return window.complete || final ? { kind: 'empty' } : { kind: 'grow' };
  let lowestLost: RememberedEvent | null = null;
  for (const event of remembered) {
    const found = window.fingerprintOf(event.id);
    if (found === event.fingerprint) {
      return lowestLost ? { kind: 'rollback', from: lowestLost.id, anchor: event.id } : { kind: 'in-step' };
    }
    if (found === undefined && !window.covers(event.time)) {
      if (!final) return { kind: 'grow' };
      return lowestLost ? { kind: 'rollback', from: lowestLost.id, anchor: 0 } : { kind: 'in-step' };
    }
    lowestLost = event;
  }
  return window.complete || final ? { kind: 'reset' } : { kind: 'grow' };
}

/** The window sizes to ask for after one of `first`: growing, up to `max`. */
export function nextWindowLimit(previous: number, max: number): number | null {
  if (previous >= max) return null;
  return Math.min(max, previous * WINDOW_GROWTH);
}
