import { EventMemory, type RememberedEvent } from '../../src/sources/hooks/event-memory.js';

const event = (id: number): RememberedEvent => ({ id, fingerprint: `fp${id}`, time: 1_000 * id });

describe('EventMemory: what was counted, in bounded memory', () => {
  it('remembers the newest counted events by content, the newest being the cursor', () => {
    const memory = new EventMemory(1000, 16);
    for (let id = 1; id <= 10; id++) expect(memory.accept(event(id))).toBe(true);
    expect(memory.accept(event(10))).toBe(false);
    expect(memory.cursor).toEqual(event(10));
    expect(memory.remembered(3)).toEqual(event(3));
    expect(memory.rememberedNewestFirst().map((e) => e.id)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('keeps the recent ones and a few older ones spaced further and further apart, whatever the count', () => {
    const memory = new EventMemory(1000, 64);
    for (let id = 1; id <= 200_000; id++) memory.accept(event(id));
    const ids = memory.rememberedNewestFirst().map((e) => e.id);
    expect(ids.length).toBeLessThanOrEqual(64 + 160);
    expect(ids.slice(0, 64)).toEqual(Array.from({ length: 64 }, (_, i) => 200_000 - i));
    // The older ones thin out with the distance from the newest id: a few per power of two, reaching far back.
    const buckets = new Map<number, number>();
    for (const id of ids.slice(64)) {
      const bucket = Math.floor(Math.log2(200_000 - id));
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    expect(Math.max(...[...buckets.keys()])).toBeGreaterThanOrEqual(16);
    for (const [bucket, count] of buckets) if (bucket >= 8) expect({ bucket, count: Math.min(count, 4) }).toEqual({ bucket, count });
  });

  it('forgets the ids a rollback hands out again, and their contents; the cursor steps back', () => {
    const memory = new EventMemory(1000, 16);
    for (let id = 1; id <= 30; id++) memory.accept(event(id));
    memory.forgetFrom(28);
    expect(memory.cursor?.id).toBe(27);
    expect(memory.has(28)).toBe(false);
    expect(memory.remembered(28)).toBeUndefined();
    expect(memory.accept({ id: 28, fingerprint: 'other', time: 1 })).toBe(true);
    expect(memory.cursor).toEqual({ id: 28, fingerprint: 'other', time: 1 });
  });

  it('a baseline: ids up to a point are seen, the replayed events remembered', () => {
    const memory = new EventMemory(1000, 16);
    memory.markSeen([event(9), event(7), event(8)], 9);
    expect(memory.has(1)).toBe(true);
    expect(memory.cursor?.id).toBe(9);
    expect(memory.remembered(7)).toEqual(event(7));
  });

  it('survives a snapshot and a restore', () => {
    const memory = new EventMemory(1000, 16);
    for (let id = 1; id <= 100; id++) if (id !== 50) memory.accept(event(id));
    memory.baseline = { throughId: 3, floorTime: 42 };
    const restored = new EventMemory(1000, 16);
    restored.restore(JSON.parse(JSON.stringify(memory.snapshot())));
    expect(restored.snapshot()).toEqual(memory.snapshot());
    expect(restored.has(50)).toBe(false);
    expect(restored.cursor).toEqual(event(100));
    expect(restored.baseline).toEqual({ throughId: 3, floorTime: 42 });
  });
});
