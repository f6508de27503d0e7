/**
 * Remembers which event ids were counted, in bounded memory: every id up to a contiguous low-water
 * mark is seen, and the ids above it sit in a set until the gap below them closes. The hooks
 * server's ids are SQLite row ids, so the gap usually closes at once; when it does not (a row that
 * was never broadcast), the set would grow forever, so beyond `window` ids the oldest gaps are
 * given up on: ids in them that arrive later are taken for duplicates.
 */
export interface DedupeSnapshot {
  /** Every id up to this one was seen. */
  through: number;
  /** Runs of seen ids above it, `[first, last]`, ascending. */
  above: [number, number][];
}

export class EventIdDedupe {
  private contiguous = 0;
  private readonly above = new Set<number>();
  private highest = 0;

  constructor(private readonly window: number) {
    if (!Number.isInteger(window) || window < 2) throw new Error(`dedupe window must be an integer >= 2, got ${window}`);
  }

  /** Every id at or below this one has been seen. */
  get lowWaterMark(): number {
    return this.contiguous;
  }

  get highestSeen(): number {
    return this.highest;
  }

  /** How many ids are remembered above the low-water mark. */
  get tracked(): number {
    return this.above.size;
  }

  has(id: number): boolean {
    return id <= this.contiguous || this.above.has(id);
  }

  /** Records the id; false when it had been seen already. */
  accept(id: number): boolean {
    if (this.has(id)) return false;
    if (id > this.highest) this.highest = id;
    if (id === this.contiguous + 1) {
      this.contiguous = id;
      this.closeGap();
    } else {
      this.above.add(id);
      if (this.above.size > this.window) this.giveUpOldestGaps();
    }
    return true;
  }

  /** Takes every id up to `id` as seen: a baseline when history is not to be counted. */
  markSeenThrough(id: number): void {
    if (id <= this.contiguous) return;
    this.contiguous = id;
    for (const seen of this.above) if (seen <= id) this.above.delete(seen);
    if (id > this.highest) this.highest = id;
    this.closeGap();
  }

  /** Forgets everything: the server's database was reset and ids start over. */
  reset(): void {
    this.contiguous = 0;
    this.highest = 0;
    this.above.clear();
  }

  /** Forgets the ids from `id` up: the server rolled back and hands them out again. */
  forgetFrom(id: number): void {
    if (id <= 1) {
      this.reset();
      return;
    }
    if (this.contiguous >= id) this.contiguous = id - 1;
    for (const seen of this.above) if (seen >= id) this.above.delete(seen);
    this.highest = this.contiguous;
    for (const seen of this.above) if (seen > this.highest) this.highest = seen;
  }

  /** What to persist: the low-water mark and the ids above it as runs `[first, last]`. */
  snapshot(): DedupeSnapshot {
    const runs: [number, number][] = [];
    for (const id of [...this.above].sort((a, b) => a - b)) {
      const last = runs[runs.length - 1];
      if (last && last[1] === id - 1) last[1] = id;
      else runs.push([id, id]);
    }
    return { through: this.contiguous, above: runs };
  }

  /** Restores a snapshot; ids beyond the window are given up like any other old gap. */
  restore(snapshot: DedupeSnapshot): void {
    this.reset();
    this.markSeenThrough(snapshot.through);
    for (const [first, last] of snapshot.above) {
      // A run longer than the window would be given up at once: take it as seen without looping over it.
      if (last - first >= this.window) this.markSeenThrough(last);
      else for (let id = first; id <= last; id++) this.accept(id);
    }
  }

  private closeGap(): void {
    while (this.above.delete(this.contiguous + 1)) this.contiguous += 1;
  }

  private giveUpOldestGaps(): void {
    const sorted = [...this.above].sort((a, b) => a - b);
    const keep = Math.floor(this.window / 2);
    const dropped = sorted.slice(0, sorted.length - keep);
    for (const id of dropped) this.above.delete(id);
    this.contiguous = dropped[dropped.length - 1] ?? this.contiguous;
    this.closeGap();
  }
}
