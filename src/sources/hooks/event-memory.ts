import { EventIdDedupe, type DedupeSnapshot } from './dedupe.js';

/** A counted event as the memory keeps it: enough to recognise it in a later answer of the server. */
export interface RememberedEvent {
  id: number;
  fingerprint: string;
  /** Its `timestamp` (ms), which places it in the server's newest-by-timestamp windows. */
  time: number | null;
}

/**
 * The first start counts nothing that the server already held. While no event has come live on
 * the connection that took the baseline, an event above `throughId` that is older than `floorTime`
 * may be history the replay left out (the server picks its replay by timestamp, not by id).
 */
export interface ProvisionalBaseline {
  throughId: number;
  floorTime: number;
}

export interface MemorySnapshot {
  seen: DedupeSnapshot;
  /** Ascending by id: `[id, fingerprint, time]`. */
  remembered: [number, string, number | null][];
  baseline: ProvisionalBaseline | null;
}

/** Older fingerprints kept beyond the recent ones: two per power-of-two distance from the newest id. */
const MAX_OLDER = 160;

/**
 * What the hooks server sync has counted, in bounded memory: which ids (EventIdDedupe), and the
 * fingerprints of the most recent `historySize` of them plus a few older ones spaced
 * exponentially. The newest remembered event is the cursor; after a restart of the server the
 * newest one that still matches tells how far its database rolled back.
 */
export class EventMemory {
  readonly ids: EventIdDedupe;
  baseline: ProvisionalBaseline | null = null;
  /** Insertion order ≈ id order; the oldest leave first. */
  private readonly recent = new Map<number, RememberedEvent>();
  /** Ascending by id. */
  private older: RememberedEvent[] = [];
  private newest: RememberedEvent | undefined;

  constructor(
    dedupeWindow: number,
    private readonly historySize: number,
  ) {
    this.ids = new EventIdDedupe(dedupeWindow);
  }

  /** The newest counted event: the cursor. */
  get cursor(): RememberedEvent | undefined {
    return this.newest;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  remembered(id: number): RememberedEvent | undefined {
    return this.recent.get(id) ?? this.findOlder(id);
  }

  /** Records a counted event; false when its id had been counted already. */
  accept(event: RememberedEvent): boolean {
    if (!this.ids.accept(event.id)) return false;
    this.remember(event);
    return true;
  }

  /** Takes every id up to `id` as seen, and remembers these events (the baseline's). */
  markSeen(events: readonly RememberedEvent[], throughId: number): void {
    this.ids.markSeenThrough(throughId);
    for (const event of [...events].sort((a, b) => a.id - b.id)) {
      this.ids.accept(event.id);
      this.remember(event);
    }
  }

  /** The server handed the ids from `id` up out again: forget them and what they were. */
  forgetFrom(id: number): void {
    this.ids.forgetFrom(id);
    for (const key of [...this.recent.keys()]) if (key >= id) this.recent.delete(key);
    this.older = this.older.filter((e) => e.id < id);
    this.newest = undefined;
    for (const event of this.all()) if (!this.newest || event.id > this.newest.id) this.newest = event;
  }

  reset(): void {
    this.forgetFrom(1);
    this.baseline = null;
  }

  /** Remembered events, newest id first: the cursor, then back in time. */
  rememberedNewestFirst(): RememberedEvent[] {
    return [...this.all()].sort((a, b) => b.id - a.id);
  }

  snapshot(): MemorySnapshot {
    const remembered = [...this.all()].sort((a, b) => a.id - b.id);
    return {
      seen: this.ids.snapshot(),
      remembered: remembered.map((e) => [e.id, e.fingerprint, e.time]),
      baseline: this.baseline,
    };
  }

  restore(snapshot: MemorySnapshot): void {
    this.reset();
    this.ids.restore(snapshot.seen);
    for (const [id, fingerprint, time] of snapshot.remembered) this.remember({ id, fingerprint, time });
    this.baseline = snapshot.baseline;
  }

  private remember(event: RememberedEvent): void {
    this.recent.delete(event.id);
    this.recent.set(event.id, event);
    if (!this.newest || event.id >= this.newest.id) this.newest = event;
    if (this.recent.size <= this.historySize) return;
    const oldest = this.recent.values().next().value;
    if (!oldest) return;
    this.recent.delete(oldest.id);
    this.keepOlder(oldest);
  }

  private keepOlder(event: RememberedEvent): void {
    const last = this.older[this.older.length - 1];
    const at = !last || last.id < event.id ? -1 : this.older.findIndex((e) => e.id >= event.id);
    if (at === -1) this.older.push(event);
    else if (this.older[at]!.id === event.id) this.older[at] = event;
    else this.older.splice(at, 0, event);
    if (this.older.length > MAX_OLDER) this.thinOlder();
  }

  /** Keeps the first and last of each power-of-two distance below the newest id. */
  private thinOlder(): void {
    const top = this.newest?.id ?? 0;
    const byBucket = new Map<number, RememberedEvent[]>();
    for (const event of this.older) {
      const bucket = Math.floor(Math.log2(Math.max(1, top - event.id)));
      const kept = byBucket.get(bucket);
      if (!kept) byBucket.set(bucket, [event]);
      else if (kept.length < 2) kept.push(event);
      else kept[1] = event;
    }
    this.older = [...byBucket.values()].flat().sort((a, b) => a.id - b.id);
  }

  private findOlder(id: number): RememberedEvent | undefined {
    let low = 0;
    let high = this.older.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const event = this.older[mid]!;
      if (event.id === id) return event;
      if (event.id < id) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  private *all(): Iterable<RememberedEvent> {
    yield* this.older;
    yield* this.recent.values();
  }
}
