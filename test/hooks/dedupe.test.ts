import { EventIdDedupe } from '../../src/sources/hooks/dedupe.js';

describe('EventIdDedupe', () => {
  it('accepts each id once, in any order, and keeps only the ids above the contiguous mark', () => {
    const dedupe = new EventIdDedupe(100);
    // The replay after a reconnect is ordered by client timestamp, not id (id 16 comes first).
    const replay = [16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18];
    expect(replay.map((id) => dedupe.accept(id))).toEqual(replay.map(() => true));
    expect(dedupe.lowWaterMark).toBe(18);
    expect(dedupe.tracked).toBe(0);
    expect(dedupe.accept(17)).toBe(false); // the human-in-the-loop answer repeats its id
    expect(replay.every((id) => !dedupe.accept(id))).toBe(true);
    expect(dedupe.accept(20)).toBe(true);
    expect(dedupe).toMatchObject({ lowWaterMark: 18, tracked: 1, highestSeen: 20 });
    expect(dedupe.accept(19)).toBe(true);
    expect(dedupe).toMatchObject({ lowWaterMark: 20, tracked: 0 });
  });

  it('stays bounded when a gap never closes: the oldest gaps are given up', () => {
    const dedupe = new EventIdDedupe(10);
    dedupe.accept(1);
    for (let id = 3; id <= 13; id++) expect(dedupe.accept(id)).toBe(true); // id 2 never comes
    expect(dedupe.tracked).toBeLessThanOrEqual(10);
    expect(dedupe.lowWaterMark).toBe(13); // after giving up on 2, 3..13 close up
    expect(dedupe.accept(2)).toBe(false);
    for (let id = 15; id <= 1000; id += 2) dedupe.accept(id); // every other id missing
    expect(dedupe.tracked).toBeLessThanOrEqual(10);
    expect(dedupe.accept(999)).toBe(false);
    expect(dedupe.accept(1001)).toBe(true);
  });

  it('takes a baseline, and forgets everything on a database reset', () => {
    const dedupe = new EventIdDedupe(100);
    dedupe.accept(305);
    dedupe.markSeenThrough(300);
    expect(dedupe).toMatchObject({ lowWaterMark: 300, tracked: 1, highestSeen: 305 });
    expect(dedupe.accept(250)).toBe(false);
    expect(dedupe.accept(301)).toBe(true);
    dedupe.reset();
    expect(dedupe).toMatchObject({ lowWaterMark: 0, tracked: 0, highestSeen: 0 });
    expect(dedupe.accept(1)).toBe(true);
  });

  it('refuses a window that cannot hold anything', () => {
    expect(() => new EventIdDedupe(1)).toThrow(/window/);
  });
});

describe('EventIdDedupe after a rollback, and across restarts', () => {
  it('forgets the ids from a point on, keeping what is below', () => {
    const dedupe = new EventIdDedupe(100);
    for (let id = 1; id <= 30; id++) dedupe.accept(id);
    dedupe.accept(40);
    dedupe.forgetFrom(29);
    expect(dedupe).toMatchObject({ lowWaterMark: 28, tracked: 0, highestSeen: 28 });
    expect(dedupe.has(28)).toBe(true);
    expect(dedupe.accept(29)).toBe(true);
    expect(dedupe.accept(40)).toBe(true);
    dedupe.forgetFrom(1);
    expect(dedupe).toMatchObject({ lowWaterMark: 0, tracked: 0, highestSeen: 0 });
  });

  it('restores a snapshot: the low-water mark and the runs above it', () => {
    const dedupe = new EventIdDedupe(100);
    for (const id of [1, 2, 3, 5, 6, 7, 10]) dedupe.accept(id);
    const snapshot = dedupe.snapshot();
    expect(snapshot).toEqual({ through: 3, above: [[5, 7], [10, 10]] });
    const restored = new EventIdDedupe(100);
    restored.restore(snapshot);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((id) => restored.has(id))).toEqual([true, true, true, false, true, true, true, false, false, true, false]);
    expect(restored.highestSeen).toBe(10);
  });

  it('a run longer than the window (a damaged file) is taken as seen without looping over it', () => {
    const dedupe = new EventIdDedupe(100);
    dedupe.restore({ through: 0, above: [[5, 1e12]] });
    expect(dedupe.has(1e12)).toBe(true);
    expect(dedupe.tracked).toBe(0);
  });
});
