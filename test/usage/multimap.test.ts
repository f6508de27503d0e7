import { RowMultiMap } from '../../src/sources/usage/transcripts/multimap.js';
import { seededRandom } from '../support/random.js';

/** A store's key column stand-in: row → 53-bit key, as the ledger's message-id column. */
function keyColumn() {
  const keys: number[] = [];
  return { keys, keyOf: (row: number) => keys[row]! };
}

function contents(map: RowMultiMap, key: number): number[] {
  const found: number[] = [];
  map.find(key, (row) => void found.push(row));
  return found.sort((a, b) => a - b);
}

describe('RowMultiMap', () => {
  it('agrees with a Map of arrays through adds, removes, resets and regrowth', () => {
    const random = seededRandom(14);
    const { keys, keyOf } = keyColumn();
    const map = new RowMultiMap(keyOf, 16);
    const reference = new Map<number, Set<number>>();
    // few distinct keys so that many rows share one, and keys whose low 32 bits collide
    const keyPool = Array.from({ length: 300 }, (_, i) => (i < 3 ? 4294967296 * (i + 1) + 12345 : Math.floor(random() * 2 ** 53)));
    const live: number[] = [];
    let failedRemoves = 0;
    for (let step = 0; step < 40_000; step++) {
      const roll = random();
      if (roll < 0.6 || live.length === 0) {
        const row = keys.length;
        keys.push(keyPool[Math.floor(random() * keyPool.length)]!);
        map.add(keys[row]!, row);
        live.push(row);
        if (!reference.has(keys[row]!)) reference.set(keys[row]!, new Set());
        reference.get(keys[row]!)!.add(row);
      } else if (roll < 0.999) {
        const row = live.splice(Math.floor(random() * live.length), 1)[0]!;
        if (!map.remove(keys[row]!, row)) failedRemoves++;
        reference.get(keys[row]!)!.delete(row);
      } else {
        map.reset(live.length);
        for (const row of live) map.add(keys[row]!, row);
      }
      if (step % 997 === 0) {
        const expected = keyPool.map((key) => [...(reference.get(key) ?? [])].sort((a, b) => a - b));
        expect(keyPool.map((key) => contents(map, key))).toEqual(expected);
      }
    }
    expect(failedRemoves).toBe(0);
    expect(map.size).toBe(live.length);
    expect(map.remove(keys[0]!, 1_000_000)).toBe(false);
  });

  it('stops at the first row the visitor accepts', () => {
    const { keys, keyOf } = keyColumn();
    const map = new RowMultiMap(keyOf);
    for (let row = 0; row < 5; row++) map.add((keys[row] = 77), row);
    let visits = 0;
    map.find(77, () => ++visits === 2);
    expect(visits).toBe(2);
  });

  it('grows in quarters, and a table sized for a count has room for an eighth more without growing', () => {
    const { keys, keyOf } = keyColumn();
    const map = new RowMultiMap(keyOf);
    map.reset(100_000);
    const sized = map.bytes();
    for (let row = 0; row < 112_000; row++) map.add((keys[row] = row * 2654435761 + 1), row);
    expect(map.bytes()).toBe(sized);
    // 4 bytes a slot at most 60 % full: under 8 bytes an entry here
    expect(sized / 112_000).toBeLessThan(8);
    for (let row = 112_000; row < 140_000; row++) map.add((keys[row] = row * 2654435761 + 1), row);
    expect(map.bytes()).toBeGreaterThan(sized);
    expect(map.bytes()).toBeLessThan(sized * 1.3);
    for (let row = 0; row < 140_000; row += 1000) expect(contents(map, keys[row]!)).toEqual([row]);
  });
});
