import { CcusageDailyCost, CcusageRunner, CcusageSource, claudeConfigDir } from '../../src/sources/usage/ccusage.js';
import { parseCcusageBlocks, parseCcusageDaily, type CcusageBlock } from '../../src/sources/usage/ccusage-json.js';
import { OfficialRateLimits } from '../../src/sources/statusline/official-limits.js';
import { UsageState } from '../../src/sources/usage/state.js';
import { readJsonFixture } from '../support/fixtures.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { claudeConfigCopy, INJECTED_NOW, shiftToNow, TempDirs } from './support/usage.js';

const usage = testConfig({ usage: { timeout_s: 20 } }).usage;
const recordedBlocks = parseCcusageBlocks(readJsonFixture('ccusage', 'blocks.json'));
const recordedActive = recordedBlocks.find((b) => b.isActive)!;
const recordedDaily = parseCcusageDaily(readJsonFixture('ccusage', 'daily.json'));

/** The parts of a block that do not depend on when ccusage runs. */
function timeless(block: CcusageBlock) {
  const { start, end, lastActivity, isGap, tokens, totalTokens, costUsd, models, limitResetsAt } = block;
  return { start, end, lastActivity, isGap, tokens, totalTokens, costUsd: Number(costUsd.toFixed(10)), models: [...models].sort(), limitResetsAt };
}

describe('ccusage (the real pinned binary)', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  describe('over fixtures/claude-projects as recorded', () => {
    let configDir: string;
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    beforeAll(() => {
      configDir = claudeConfigCopy(dirs.make(), 'claude-projects/-home-user-demo', '-home-user-demo');
    });

    it('blocks: every figure that does not depend on the current time equals fixtures/ccusage/blocks.json', async () => {
      const runner = new CcusageRunner({ usage, configDir, now: () => clock.now() });
      const blocks = parseCcusageBlocks(await runner.json(['blocks']));
      expect(blocks.map(timeless)).toEqual(recordedBlocks.map(timeless));
    });

    it("daily: today's cost equals fixtures/ccusage/daily.json", async () => {
      const daily = new CcusageDailyCost({ usage, configDir, now: () => clock.now(), timeZone: 'UTC' });
      const today = await daily.today();
      expect(today.date).toBe('2026-11-25');
      expect(today.costUsd).toBeCloseTo(recordedDaily[0]!.costUsd, 10);
      expect(today.costUsd).toBeCloseTo(1.94534775, 10);
    });

    it("picks the active block and its burn rate on the bridge's clock, whatever ccusage's own clock says", async () => {
      const at = (iso: string) => new CcusageSource({ usage, configDir, now: () => Date.parse(iso) });
      const during = at('2026-11-25T16:20:00Z');
      try {
        const block = (await during.poll()).activeBlock!;
        expect(block.start).toBe(recordedActive.start);
        expect(block.burnRate!.tokensPerMinute).toBeCloseTo(recordedActive.burnRate!.inputOutputTokensPerMinute!, 9);
        expect(block.burnRate!.usdPerHour).toBeCloseTo(recordedActive.burnRate!.costPerHour, 9);
      } finally {
        during.dispose();
      }
      const after = await at('2026-11-25T18:00:00Z').poll();
      expect(after.activeBlock).toBeNull();
      expect(after.completedBlockTokens).toEqual([1233 + 7792, 2474 + 25980]);
      const before = await at('2026-11-25T10:00:00Z').poll();
      expect(before.activeBlock?.start).toBe(Date.parse('2026-11-25T06:00:00Z'));
      expect(before.completedBlockTokens).toEqual([]);
    });

    it('daily: a day without usage costs 0', async () => {
      const later = new ManualClock(Date.parse('2026-12-03T12:00:00Z'));
      const daily = new CcusageDailyCost({ usage, configDir, now: () => later.now(), timeZone: 'UTC' });
      expect(await daily.today()).toEqual({ date: '2026-12-03', costUsd: 0 });
    });
  });

  describe('over fixtures/claude-projects shifted to an injected now (the recorded active block is active again)', () => {
    const now = INJECTED_NOW;
    const shift = shiftToNow(recordedActive.lastActivity!, now);
    let snapshot: Awaited<ReturnType<CcusageSource['poll']>>;
    let source: CcusageSource;

    beforeAll(async () => {
      const configDir = claudeConfigCopy(dirs.make(), 'claude-projects/-home-user-demo', '-home-user-demo', shift);
      source = new CcusageSource({ usage, configDir, now: () => now });
      snapshot = await source.poll();
    });
    afterAll(() => source.dispose());

    it('reports the active block with the recorded tokens, cost and burn rate', () => {
      const block = snapshot.activeBlock!;
      expect(block).not.toBeNull();
      expect(block.start).toBe(recordedActive.start + shift);
      expect(block.end).toBe(recordedActive.end + shift);
      expect(block.limitResetsAt).toBe(recordedActive.limitResetsAt! + shift);
      expect(block.tokens).toEqual({ input: 2474, output: 25980, cache_creation: 50664, cache_read: 146376 });
      expect(block.costUsd).toBeCloseTo(1.7232276, 10);
      // input+output per minute: ccusage's tokensPerMinuteForIndicator (28,454 tokens over 153 minutes)
      expect(block.burnRate!.tokensPerMinute).toBeCloseTo(recordedActive.burnRate!.inputOutputTokensPerMinute!, 9);
      expect(block.burnRate!.usdPerHour).toBeCloseTo(recordedActive.burnRate!.costPerHour, 9);
    });

    it("splits the active block by model family with ccusage's own per-model prices", () => {
      const byFamily = snapshot.activeBlock!.byFamily;
      // Per-model rows of fixtures/ccusage/daily.json for the three models of the active block.
      expect(byFamily.opus!.tokens).toBe(37 + 10_800);
      expect(byFamily.opus!.costUsd).toBeCloseTo(1.3735034999999998, 10);
      expect(byFamily.sonnet!.tokens).toBe(37 + 15_000);
      expect(byFamily.sonnet!.costUsd).toBeCloseTo(0.3464241, 10);
      expect(byFamily.haiku!.tokens).toBe(2400 + 180);
      expect(byFamily.haiku!.costUsd).toBeCloseTo(0.0033, 10);
      expect(byFamily.other).toBeUndefined(); // the <synthetic> rate-limit line has no usage
      const familyCost = Object.values(byFamily).reduce((sum, f) => sum + (f.costUsd ?? 0), 0);
      expect(familyCost).toBeCloseTo(snapshot.activeBlock!.costUsd, 9);
    });

    it('lists the completed block for P90, in input+output tokens', () => {
      expect(snapshot.completedBlockTokens).toEqual([1233 + 7792]);
    });

    it('derives limit, ratio, projection and time to limit from the input+output total', () => {
      const clock = new ManualClock(now);
      const state = new UsageState(usage, clock, new OfficialRateLimits(300_000), 'UTC');
      state.snapshot = snapshot;
      const block = state.figures().block!;
      const rate = recordedActive.burnRate!.inputOutputTokensPerMinute!;
      expect(block.tokenLimit).toEqual({ tokens: 88_000, basis: 'plan' });
      expect(block.usedRatio).toBeCloseTo(28_454 / 88_000, 12);
      expect(block.secondsToLimit).toBeCloseTo(((88_000 - 28_454) / rate) * 60, 6);
      const remainingMinutes = (block.end - now) / 60_000;
      expect(block.projection!.tokens).toBeCloseTo(28_454 + rate * remainingMinutes, 6);
      expect(state.figures().sessionSeconds).toBeCloseTo((now - block.start) / 1000, 6);
    });
  });

  describe('over the Claude Code transcripts fixture', () => {
    let configDir: string;
    beforeAll(() => {
      configDir = claudeConfigCopy(dirs.make(), 'claude-code/transcripts', '-home-dev-proj');
    });

    it('counts the streamed duplicate once and ignores the rate-limit marker', async () => {
      const runner = new CcusageRunner({ usage, configDir, now: () => INJECTED_NOW });
      const blocks = parseCcusageBlocks(await runner.json(['blocks'])).filter((b) => !b.isGap);
      expect(blocks).toHaveLength(1);
      expect(blocks[0]!.tokens).toEqual({ input: 200, output: 100, cache_creation: 0, cache_read: 0 });
      expect(blocks[0]!.models).toEqual(['claude-sonnet-4-5-20250929']);
      expect(blocks[0]!.start).toBe(Date.parse('2026-11-25T16:00:00Z'));
      expect(blocks[0]!.costUsd).toBeCloseTo(0.0021, 10);
    });

    it("reports the day's cost and, shifted to an injected now, an active block of one family", async () => {
      const daily = new CcusageDailyCost({ usage, configDir, now: () => Date.parse('2026-11-25T20:00:00Z'), timeZone: 'UTC' });
      expect((await daily.today()).costUsd).toBeCloseTo(0.0021, 10);
      const now = INJECTED_NOW;
      const shifted = claudeConfigCopy(dirs.make(), 'claude-code/transcripts', '-home-dev-proj', shiftToNow(Date.parse('2026-11-25T16:26:13.937Z'), now));
      const source = new CcusageSource({ usage, configDir: shifted, now: () => now });
      try {
        const block = (await source.poll()).activeBlock!;
        expect(block.tokens.input + block.tokens.output).toBe(300);
        expect(block.byFamily).toEqual({ sonnet: { tokens: 300, costUsd: expect.closeTo(0.0021, 10) } });
      } finally {
        source.dispose();
      }
    });
  });

  it('parses old and new key names alike', () => {
    const newer = parseCcusageDaily({ daily: [{ period: '2026-11-25', agents: [{ agent: 'codex', totalCost: 9 }, { agent: 'claude', totalCost: 1.5, cacheCreationTokens: 7, modelBreakdowns: [{ modelName: 'claude-opus-4-1', cost: 1.5, inputTokens: 1, outputTokens: 2 }] }], totalCost: 10.5 }] });
    const older = parseCcusageDaily({ daily: [{ date: '2026-11-25', costUSD: 1.5, cacheCreationInputTokens: 7, modelBreakdowns: [{ model: 'claude-opus-4-1', costUSD: 1.5, input_tokens: 1, output_tokens: 2 }] }] });
    for (const days of [newer, older]) {
      expect(days).toEqual([
        {
          date: '2026-11-25',
          costUsd: 1.5,
          tokens: { input: 0, output: 0, cache_creation: 7, cache_read: 0 },
          models: [{ model: 'claude-opus-4-1', costUsd: 1.5, tokens: { input: 1, output: 2, cache_creation: 0, cache_read: 0 } }],
        },
      ]);
    }
    // claude-monitor 3's analysis JSON spells blocks the old way (+00:00 offsets, perModelStats).
    const v3 = parseCcusageBlocks(readJsonFixture('claude-monitor', 'v3.1.0-analyze_usage.json'));
    expect(v3[0]).toMatchObject({ start: Date.parse('2026-11-25T06:00:00Z'), isActive: false, tokens: { input: 1233, output: 7792, cache_creation: 20775, cache_read: 79623 } });
    expect(() => parseCcusageBlocks({ data: [] })).toThrow('expected {"blocks": [...]}');
  });

  it('fails with ccusage\'s own message when the folder holds no projects/', async () => {
    const source = new CcusageSource({ usage, configDir: dirs.make(), now: () => INJECTED_NOW });
    await expect(source.poll()).rejects.toThrow(/ccusage blocks exited with code 1: .*No valid Claude data directories/);
  });

  it('reads CLAUDE_CONFIG_DIR from config, then the environment, then ~/.claude', () => {
    expect(claudeConfigDir({ ...usage, claude_config_dir: '/cfg' }, { CLAUDE_CONFIG_DIR: '/env' })).toBe('/cfg');
    expect(claudeConfigDir(usage, { CLAUDE_CONFIG_DIR: '/env' })).toBe('/env');
    expect(claudeConfigDir(usage, {})).toMatch(/\.claude$/);
  });
});
