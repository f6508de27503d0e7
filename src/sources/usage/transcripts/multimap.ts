const EMPTY = -1;
const TOMBSTONE = -2;
const MAX_LOAD = 0.6;
/** A full table grows by a quarter: a bridge over a large history holds what it counts, not up to twice that. */
const GROWTH = 1.25;
/** Room left when the table is sized for a known count (after an index load): appends come next. */
const HEADROOM = 1.125;

/**
 * An open-addressing multimap from a 53-bit key to record rows, in one `Int32Array` of rows:
 * the key of a row is not stored but read back with `keyOf` (the record store's own column),
 * so an entry costs 7 to 8 bytes where keys and values side by side took 20 to 40, and a
 * `Map<string, …>` of message ids over a hundred. The table's size is not a power of two (a
 * slot is the hash's high bits scaled to it), so it grows in quarters rather than doubling.
 */
export class RowMultiMap {
  private rows: Int32Array;
  private used = 0;
  private tombstones = 0;

  constructor(
    private readonly keyOf: (row: number) => number,
    capacity = 1024,
  ) {
    this.rows = new Int32Array(tableSize(capacity)).fill(EMPTY);
  }

  get size(): number {
    return this.used;
  }

  /** Adds `row`, whose key (`keyOf(row)`) is `key`. */
  add(key: number, row: number): void {
    if (this.used + this.tombstones + 1 > this.rows.length * MAX_LOAD) this.rehash();
    const { rows } = this;
    for (let slot = this.slotOf(key); ; slot = next(slot, rows.length)) {
      const current = rows[slot]!;
      if (current === EMPTY || current === TOMBSTONE) {
        if (current === TOMBSTONE) this.tombstones--;
        rows[slot] = row;
        this.used++;
        return;
      }
    }
  }

  /** Removes `row` (call it while `keyOf(row)` still gives `key`). */
  remove(key: number, row: number): boolean {
    const { rows } = this;
    for (let slot = this.slotOf(key); ; slot = next(slot, rows.length)) {
      const current = rows[slot]!;
      if (current === EMPTY) return false;
      if (current === row) {
        rows[slot] = TOMBSTONE;
        this.used--;
        this.tombstones++;
        return true;
      }
    }
  }

  /** Every row stored under `key`, in no particular order; `visit` returns true to stop. */
  find(key: number, visit: (row: number) => boolean | void): void {
    const { rows, keyOf } = this;
    for (let slot = this.slotOf(key); ; slot = next(slot, rows.length)) {
      const current = rows[slot]!;
      if (current === EMPTY) return;
      if (current >= 0 && keyOf(current) === key && visit(current) === true) return;
    }
  }

  /** Empties the map, sized for `expected` entries and some more (no rehash while they are added). */
  reset(expected: number): void {
    const size = tableSize(expected * HEADROOM);
    if (size !== this.rows.length) this.rows = new Int32Array(size);
    this.clear();
  }

  clear(): void {
    this.rows.fill(EMPTY);
    this.used = 0;
    this.tombstones = 0;
  }

  /** Bytes held, for the /health memory figures. */
  bytes(): number {
    return this.rows.byteLength;
  }

  private slotOf(key: number): number {
    // the low 32 bits of a cyrb53 hash are well mixed; their high end picks the slot
    return Math.floor(((key >>> 0) / 4294967296) * this.rows.length);
  }

  private rehash(): void {
    const old = this.rows;
    // mostly tombstones: the same size, cleaned; otherwise a quarter more
    const crowded = this.used + 1 > old.length * MAX_LOAD * 0.5;
    this.rows = new Int32Array(crowded ? tableSize((this.used + 1) * GROWTH) : old.length).fill(EMPTY);
    this.used = 0;
    this.tombstones = 0;
    for (let i = 0; i < old.length; i++) {
      const row = old[i]!;
      if (row >= 0) this.add(this.keyOf(row), row);
    }
  }
}

function next(slot: number, size: number): number {
  return slot + 1 === size ? 0 : slot + 1;
}

function tableSize(entries: number): number {
  return Math.max(16, Math.ceil(entries / MAX_LOAD));
}
