import { addRow, aggregateOf, mergeSums, type Sums } from '../../src/sources/usage/transcripts/aggregates.js';
import type { MessageTokens } from '../../src/sources/usage/transcripts/pricing.js';
import { RecordStore } from '../../src/sources/usage/transcripts/records.js';
import { seededRandom } from '../support/random.js';

/** Rows of several models with token counts and costs as the reader writes them. */
function storeWithRows(count: number) {
  const random = seededRandom(count);
  const store = new RecordStore(16);
  const rows: number[] = [];
  const given = new Map<number, MessageTokens>();
  for (let i = 0; i < count; i++) {
    const row = store.allocate();
    const tokens: MessageTokens = {
      input: Math.floor(random() * 5000),
      output: Math.floor(random() * 3000),
      cacheWrite5m: Math.floor(random() * 20000),
      cacheWrite1h: Math.floor(random() * 1000),
      cacheRead: Math.floor(random() * 90000),
    };
    // now and then a count no 32-bit column holds: ccusage sums it as it is
    if (i % 7 === 0) tokens.cacheRead = [0.5, 2 ** 33 + 1, -3][i % 3]!;
    store.setTokens(row, tokens);
    given.set(row, tokens);
    store.float.cost[row] = random() / 3;
    store.int.model[row] = Math.floor(random() * 5);
    rows.push(row);
  }
  return { store, rows, given };
}

/** What the sums must come to: row by row, per model and in total. */
function expected(store: RecordStore, given: Map<number, MessageTokens>, rows: number[]) {
  const byModel = new Map<number, { entries: number; tokens: number[]; cost: number }>();
  for (const row of rows) {
    const t = given.get(row)!;
    const model = store.int.model[row]!;
    const current = byModel.get(model) ?? { entries: 0, tokens: [0, 0, 0, 0], cost: 0 };
    current.entries += 1;
    current.tokens = [current.tokens[0]! + t.input, current.tokens[1]! + t.output, current.tokens[2]! + t.cacheWrite5m + t.cacheWrite1h, current.tokens[3]! + t.cacheRead];
    current.cost += store.float.cost[row]!;
    byModel.set(model, current);
  }
  return byModel;
}

function expectSums(sums: Sums, store: RecordStore, given: Map<number, MessageTokens>, rows: number[]) {
  const aggregate = aggregateOf(sums);
  const want = expected(store, given, rows);
  expect([...aggregate.byModel.keys()].sort()).toEqual([...want.keys()].sort());
  let entries = 0;
  const tokens = [0, 0, 0, 0];
  for (const [model, use] of want) {
    const got = aggregate.byModel.get(model)!;
    expect(got.entries).toBe(use.entries);
    expect([got.tokens.input, got.tokens.output, got.tokens.cache_creation, got.tokens.cache_read]).toEqual(use.tokens);
    expect(got.costUsd).toBeCloseTo(use.cost, 9);
    entries += use.entries;
    use.tokens.forEach((n, k) => (tokens[k]! += n));
  }
  expect(aggregate.entries).toBe(entries);
  expect([aggregate.tokens.input, aggregate.tokens.output, aggregate.tokens.cache_creation, aggregate.tokens.cache_read]).toEqual(tokens);
  expect(aggregate.costUsd).toBeCloseTo([...want.values()].reduce((sum, use) => sum + use.cost, 0), 9);
}

describe('flat sums (units, blocks, days)', () => {
  it('count each row under its model and in the totals', () => {
    const { store, rows, given } = storeWithRows(500);
    let sums: Sums = [];
    for (const row of rows) sums = addRow(sums, store, row);
    expectSums(sums, store, given, rows);
    expect(store.wideTokens.size).toBe(Math.ceil(500 / 7));
    // seven numbers a model, nothing else
    expect(sums).toHaveLength(7 * new Set(rows.map((row) => store.int.model[row])).size);
  });

  it('merge into sums that lack some of the models, as a block absorbs its units', () => {
    const { store, rows, given } = storeWithRows(300);
    const units: Sums[] = [[], [], []];
    rows.forEach((row, i) => {
      // unit 0 sees only models 0–1, the others any
      const unit = store.int.model[row]! < 2 ? i % 3 : 1 + (i % 2);
      units[unit] = addRow(units[unit]!, store, row);
    });
    let block: Sums = [];
    for (const unit of units) block = mergeSums(block, unit);
    expectSums(block, store, given, rows);
    expect(aggregateOf([])).toEqual({ entries: 0, tokens: { input: 0, output: 0, cache_creation: 0, cache_read: 0 }, costUsd: 0, byModel: new Map() });
  });
});
