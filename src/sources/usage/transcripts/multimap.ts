const EMPTY = -1;
const TOMBSTONE = -2;
const MAX_LOAD = 0.6;

/**
 * An open-addressing multimap from a 53-bit key to record indexes, in two typed arrays: about
 * 20 bytes per entry where a `Map<string, …>` of message ids would take over a hundred.
 */
export class NumberMultiMap {
  private keys: Float64Array;
  private values: Int32Array;
  private used = 0;
  private tombstones = 0;

  constructor(capacity = 1024) {
    const size = tableSize(capacity);
    this.keys = new Float64Array(size);
    this.values = new Int32Array(size).fill(EMPTY);
  }

  get size(): number {
    return this.used;
  }

  add(key: number, value: number): void {
    if ((this.used + this.tombstones + 1) / this.values.length > MAX_LOAD) this.rehash();
    const mask = this.values.length - 1;
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & mask) {
      const current = this.values[slot]!;
      if (current === EMPTY || current === TOMBSTONE) {
        if (current === TOMBSTONE) this.tombstones--;
        this.keys[slot] = key;
        this.values[slot] = value;
        this.used++;
        return;
      }
    }
  }

  remove(key: number, value: number): boolean {
    const mask = this.values.length - 1;
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & mask) {
      const current = this.values[slot]!;
      if (current === EMPTY) return false;
      if (current === value && this.keys[slot] === key) {
        this.values[slot] = TOMBSTONE;
        this.used--;
        this.tombstones++;
        return true;
      }
    }
  }

  /** Every value stored under `key`, in no particular order. */
  find(key: number, visit: (value: number) => boolean | void): void {
    const mask = this.values.length - 1;
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & mask) {
      const current = this.values[slot]!;
      if (current === EMPTY) return;
      if (current >= 0 && this.keys[slot] === key && visit(current) === true) return;
    }
  }

  /** Empties the map, sized for `expected` entries (no rehash while they are added). */
  reset(expected: number): void {
    const size = tableSize(expected);
    if (size !== this.values.length) {
      this.keys = new Float64Array(size);
      this.values = new Int32Array(size);
    }
    this.clear();
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.used = 0;
    this.tombstones = 0;
  }

  /** Bytes held, for the /health memory figures. */
  bytes(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  private slotOf(key: number): number {
    // the low 32 bits of a cyrb53 hash are well mixed
    return (key >>> 0) & (this.values.length - 1);
  }

  private rehash(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const size = this.used + 1 > (oldValues.length * MAX_LOAD) / 2 ? oldValues.length * 2 : oldValues.length;
    this.keys = new Float64Array(size);
    this.values = new Int32Array(size).fill(EMPTY);
    this.used = 0;
    this.tombstones = 0;
    for (let i = 0; i < oldValues.length; i++) {
      const value = oldValues[i]!;
      if (value >= 0) this.add(oldKeys[i]!, value);
    }
  }
}

function tableSize(entries: number): number {
  return 1 << Math.ceil(Math.log2(Math.max(16, entries / MAX_LOAD)));
}
