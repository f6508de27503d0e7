import { parseCcusageBlocks } from '../../src/sources/usage/ccusage-json.js';
import { MIN_TOKEN_LIMIT, ninetiethPercentile, p90TokenLimit } from '../../src/sources/usage/p90.js';
import { readJsonFixture } from '../support/fixtures.js';

describe("P90 token limit (claude-monitor's definition)", () => {
  it('is the 19,000 floor with no completed block', () => {
    expect(p90TokenLimit([])).toBe(MIN_TOKEN_LIMIT);
    expect(p90TokenLimit([0, 0])).toBe(MIN_TOKEN_LIMIT); // empty blocks do not count
  });

  it('is that block with one completed block (floored at 19,000)', () => {
    expect(p90TokenLimit([45_000])).toBe(45_000);
    expect(p90TokenLimit([9_025])).toBe(MIN_TOKEN_LIMIT);
  });

  it("matches Python's statistics.quantiles(n=10)[8], including its extrapolation", () => {
    // Values printed by CPython for the same inputs.
    expect(ninetiethPercentile([20_000, 30_000])).toBe(37_000);
    expect(ninetiethPercentile([5, 1, 9, 30_000, 44_000, 90_000])).toBeCloseTo(103_800, 6);
    const eleven = Array.from({ length: 11 }, (_, i) => (i + 1) * 100_000);
    expect(ninetiethPercentile(eleven)).toBeCloseTo(1_080_000, 6);
  });

  it('uses only blocks that came within 95 % of a known limit when there are any', () => {
    // A hit is ≥ 95 % of any known limit, so ≥ 18,050 tokens: only 84,000 and 210,000 here.
    const blocks = [1_000, 5_000, 84_000, 12_000, 210_000];
    expect(p90TokenLimit(blocks)).toBe(Math.trunc(ninetiethPercentile([84_000, 210_000])));
    expect(p90TokenLimit(blocks)).toBe(298_200) // CPython: quantiles([84000, 210000], n=10)[8];
  });

  it('falls back to all completed blocks when none came near a limit', () => {
    // Both below 18,050: no hit. Python extrapolates past the largest value: 29,900.
    expect(p90TokenLimit([1_000, 18_000])).toBe(29_900);
    expect(p90TokenLimit([10_000, 12_000, 15_000, 16_000, 17_000, 17_500, 18_000])).toBe(MIN_TOKEN_LIMIT); // 18,100 → floor
  });

  it('gives the limit claude-monitor 3.1 showed for the fixture history (28,454 / 19,000)', () => {
    const blocks = parseCcusageBlocks(readJsonFixture('ccusage', 'blocks.json'));
    const completed = blocks.filter((b) => !b.isGap && !b.isActive).map((b) => b.tokens.input + b.tokens.output);
    expect(completed).toEqual([9_025]);
    expect(p90TokenLimit(completed)).toBe(19_000);
  });
});
