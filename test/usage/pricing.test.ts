import { CcusageRunner } from '../../src/sources/usage/ccusage.js';
import { PRICE_FAMILIES } from '../../src/sources/usage/transcripts/pricing-table.js';
import { messageCost, PriceList, type MessageTokens } from '../../src/sources/usage/transcripts/pricing.js';
import { testConfig } from '../support/config.js';
import { assistantLine, writeTranscripts } from './support/transcripts.js';
import { INJECTED_NOW, TempDirs } from './support/usage.js';

const DAY = 86_400_000;
const none: MessageTokens = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };

/** One probe message per token kind, below and above the 200k tier, and in fast mode. */
const PROBES: { name: string; tokens: MessageTokens; fast?: boolean }[] = [
  { name: 'input', tokens: { ...none, input: 100_000 } },
  { name: 'output', tokens: { ...none, output: 100_000 } },
  { name: 'cache write 5m', tokens: { ...none, cacheWrite5m: 100_000 } },
  { name: 'cache write 1h', tokens: { ...none, cacheWrite1h: 100_000 } },
  { name: 'cache read', tokens: { ...none, cacheRead: 100_000 } },
  { name: 'input 1M', tokens: { ...none, input: 1_000_000 } },
  { name: 'output 1M', tokens: { ...none, output: 1_000_000 } },
  { name: 'cache write 5m 1M', tokens: { ...none, cacheWrite5m: 1_000_000 } },
  { name: 'cache write 1h 1M', tokens: { ...none, cacheWrite1h: 1_000_000 } },
  { name: 'cache read 1M', tokens: { ...none, cacheRead: 1_000_000 } },
  { name: 'fast', tokens: { ...none, input: 100_000, output: 1_000 }, fast: true },
];

function usageOf(tokens: MessageTokens, fast: boolean) {
  return {
    input_tokens: tokens.input,
    output_tokens: tokens.output,
    cache_creation_input_tokens: tokens.cacheWrite5m + tokens.cacheWrite1h,
    cache_read_input_tokens: tokens.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: tokens.cacheWrite5m, ephemeral_1h_input_tokens: tokens.cacheWrite1h },
    ...(fast ? { speed: 'fast' } : {}),
  };
}

describe('the shipped price table is what ccusage 20.0.24 charges offline', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('every model id it lists, every token kind, both tiers and fast mode: the real binary agrees within 0.01 %', async () => {
    const models = [...PRICE_FAMILIES.flatMap((f) => f.models), 'claude-sonnet-4-5-20250929[1m]'];
    const start = Math.floor(INJECTED_NOW / DAY) * DAY - 30 * DAY;
    const lines = models.flatMap((model, m) =>
      PROBES.map((probe, p) => assistantLine({ at: start + p * DAY, id: `probe-${m}-${p}`, req: 'r', model, usage: usageOf(probe.tokens, probe.fast ?? false) })),
    );
    const root = writeTranscripts(dirs.make(), { 'probe/prices.jsonl': lines });
    const runner = new CcusageRunner({ usage: testConfig({ usage: { timeout_s: 120 } }).usage, configDir: root, now: () => INJECTED_NOW });
    const report = (await runner.json(['daily', '--breakdown', '--timezone', 'UTC'])) as { daily: { period: string; modelBreakdowns: { modelName: string; cost: number }[] }[] };
    const charged = new Map<string, number>();
    for (const day of report.daily) {
      const probe = Math.round((Date.parse(day.period) - start) / DAY);
      for (const row of day.modelBreakdowns) charged.set(`${row.modelName.replace(/-fast$/, '')}|${probe}`, row.cost);
    }
    const prices = new PriceList();
    const differences: string[] = [];
    for (const model of models) {
      const price = prices.resolve(model);
      expect(price).not.toBeNull();
      PROBES.forEach((probe, p) => {
        const ours = messageCost(price!.rates, probe.tokens, probe.fast ?? false);
        const theirs = charged.get(`${model}|${p}`) ?? NaN;
        if (!(Math.abs(ours - theirs) <= 1e-4 * theirs)) differences.push(`${model} ${probe.name}: ${ours} vs ccusage ${theirs}`);
      });
    }
    expect(differences).toEqual([]);
    expect(models.length).toBeGreaterThan(100);
  }, 60_000);

  it('an id it does not list is unknown (ccusage prices it at 0 too); usage.pricing adds or replaces a model', () => {
    const prices = new PriceList({
      'claude-sonnet-4-7-preview': { input: 3, output: 15 },
      'claude-opus-4-1-20250805': { input: 1, output: 2, cache_write: 3, cache_read: 4, above_200k: { input: 10, output: 20 }, fast: 3 },
    });
    expect(new PriceList().resolve('claude-sonnet-4-7-preview')).toBeNull();
    expect(new PriceList().resolve('Claude-Sonnet-4-5-20250929')).toBeNull(); // ids are case-sensitive, as in ccusage
    const added = prices.resolve('claude-sonnet-4-7-preview')!;
    expect(added.family).toBe('configured');
    // ccusage's defaults for missing cache rates: write 1.25 × input, read 0.1 × input
    expect(messageCost(added.rates, { ...none, cacheWrite5m: 1_000_000, cacheRead: 1_000_000 }, false)).toBeCloseTo(3.75 + 0.3, 12);
    const replaced = prices.resolve('claude-opus-4-1-20250805')!;
    expect(messageCost(replaced.rates, { ...none, input: 1_000_000 }, false)).toBeCloseTo(0.2 * 1 + 0.8 * 10, 12);
    expect(messageCost(replaced.rates, { ...none, output: 1_000 }, true)).toBeCloseTo(3 * 0.002, 12);
    expect(messageCost(replaced.rates, { ...none, cacheWrite1h: 1_000_000 }, false)).toBeCloseTo(0.2 * 2 + 0.8 * 20, 12);
  });
});
