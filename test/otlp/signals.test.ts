import { activeBlock, BLOCK_MS } from '../../src/sources/otlp/figures.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { INJECTED_NOW } from '../usage/support/usage.js';
import { latestTime, otlpJson, shiftOtlp, signalsComponent, startOtlpBridge, type OtlpBridge } from './support.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A delta token/cost export of one request at `at`, shaped as Claude Code's. */
function usageExport(at: number, input: number, output: number, usd: number) {
  const body = otlpJson('metrics-tool-run.json') as any;
  const metrics = body.resourceMetrics[0].scopeMetrics[0].metrics as any[];
  for (const metric of metrics) {
    for (const point of metric.sum.dataPoints) {
      const type = point.attributes.find((a: any) => a.key === 'type')?.value.stringValue;
      const value = metric.name === 'claude_code.cost.usage' ? usd : type === 'input' ? input : type === 'output' ? output : metric.name === 'claude_code.token.usage' ? 0 : point.asDouble ?? point.asInt;
      delete point.asInt;
      point.asDouble = value;
    }
  }
  return shiftOtlp(body, at - latestTime(body));
}

describe('telemetry figures feed the alert signals', () => {
  let clock: ManualClock;
  let api: OtlpBridge | null = null;
  afterEach(async () => {
    await api?.stop();
    api = null;
  });

  it('a cost_threshold alert fires from telemetry between two transcript polls (the higher figure wins)', async () => {
    clock = new ManualClock(INJECTED_NOW);
    // The transcript source polled a minute ago: $12 today, block started 2 hours ago.
    const transcriptBlockStart = INJECTED_NOW - 2 * HOUR;
    api = await startOtlpBridge({
      clock,
      components: [signalsComponent(() => ({ costUsd: 12, sessionSeconds: (clock.now() - transcriptBlockStart) / 1000 }))],
      config: testConfig({ usage: { source: 'none', cost_scope: 'day', plan: 'max5' }, hooks_server: { enabled: false }, alerts: { cost_threshold: 20 } }),
    });
    expect(api.bridge.signals().costUsd).toBe(12);
    await api.send('/v1/metrics', usageExport(clock.now() - 1000, 30_000, 20_000, 21.5));
    expect(api.bridge.signals()).toMatchObject({ costUsd: 21.5, tokensUsedRatio: 50_000 / 88_000 });
    api.bridge.evaluator.evaluate();
    clock.advance(61_000);
    api.bridge.evaluator.evaluate();
    expect(api.bridge.controller.snapshot()).toMatchObject({ state: 'degraded' });
    // Its block is the transcripts': the start their elapsed time gives, not telemetry's own.
    expect(api.otlp.telemetry.figures().block).toMatchObject({ from: 'usage_source', start: transcriptBlockStart });
    expect((await api.get('/health')).body.sources.otlp.details.figures).toMatchObject({
      block: { boundaries_from: 'usage_source', tokens_and_cost_from: expect.stringMatching(/claude_code.token.usage/) },
    });
  });

  it('what telemetry counts in the block follows the usage source\'s boundaries, also once it stops knowing them', async () => {
    clock = new ManualClock(INJECTED_NOW);
    let knowsBlock = true;
    const blockStart = INJECTED_NOW - 4 * HOUR;
    const transcripts = () => (knowsBlock ? { sessionSeconds: (clock.now() - blockStart) / 1000 } : {});
    api = await startOtlpBridge({ clock, components: [signalsComponent(transcripts)], config: testConfig({ usage: { source: 'none', cost_scope: 'block' }, hooks_server: { enabled: false } }) });
    await api.send('/v1/metrics', usageExport(clock.now() - 1000, 1000, 500, 1));
    expect(api.otlp.telemetry.figures().block).toMatchObject({ start: blockStart, tokensInputOutput: 1500 });
    // The block ends; the usage source has not polled yet. Telemetry's own rule starts the next
    // block at the hour of the first request after it, not at its own first request.
    knowsBlock = false;
    clock.advance(HOUR + 30 * MINUTE);
    await api.send('/v1/metrics', usageExport(clock.now() - 1000, 200, 100, 0.5));
    const block = api.otlp.telemetry.figures().block!;
    expect(block).toMatchObject({ from: 'telemetry', tokensInputOutput: 300, costUsd: 0.5 });
    expect(block.start).toBe(Math.floor((clock.now() - 1000) / HOUR) * HOUR);
    expect(block.start).toBeGreaterThanOrEqual(blockStart + BLOCK_MS);
    expect(api.bridge.signals()).toMatchObject({ costUsd: 0.5, windowResetsAt: block.start + BLOCK_MS });
    expect(api.bridge.signals().sessionSeconds).toBeCloseTo((clock.now() - block.start) / 1000, 6);
  });

  it('ccusage\'s block rule: the hour of the first request, 5 hours, a new block after 5 idle hours', () => {
    const t0 = Date.parse('2031-03-29T09:47:00Z');
    expect(activeBlock(t0 + MINUTE, undefined, null, [t0])).toEqual({ start: Date.parse('2031-03-29T09:00:00Z'), end: Date.parse('2031-03-29T14:00:00Z'), from: 'telemetry' });
    expect(activeBlock(t0 + 6 * HOUR, undefined, null, [t0])).toBeNull();
    const later = t0 + 5 * HOUR + 20 * MINUTE; // 15:07, inside 14:00–19:00's successor
    expect(activeBlock(later + MINUTE, undefined, null, [t0, t0 + HOUR, later])!.start).toBe(Date.parse('2031-03-29T15:00:00Z'));
    expect(activeBlock(t0, 3600, null, [])).toEqual({ start: t0 - HOUR, end: t0 - HOUR + BLOCK_MS, from: 'usage_source' });
  });

  it('today is the calendar day in the configured zone; the burn rate is the last 10 minutes', async () => {
    clock = new ManualClock(Date.parse('2031-03-30T11:30:00Z')); // 00:30 on the 31st in Auckland (+13)
    api = await startOtlpBridge({ clock, timeZone: 'Pacific/Auckland' });
    await api.send('/v1/metrics', usageExport(Date.parse('2031-03-30T10:50:00Z'), 1000, 0, 1)); // 23:50 on the 30th there
    await api.send('/v1/metrics', usageExport(Date.parse('2031-03-30T11:25:00Z'), 600, 0, 0.6));
    const figures = api.otlp.telemetry.figures();
    expect(figures.today).toMatchObject({ date: '2031-03-31', tokensInputOutput: 600 });
    expect(figures.block).toMatchObject({ tokensInputOutput: 1600 });
    expect(figures.block!.burnRate!.tokensPerMinute).toBeCloseTo(600 / 10, 6);
    expect(figures.block!.burnRate!.usdPerHour).toBeCloseTo(0.6 * 6, 6);
    const scrape = await api.bridge.registry.metrics();
    expect(scrape).toMatch(/claude_bridge_otlp_live_tokens\{scope="day",kind="input"\} 600/);
    expect(scrape).toMatch(/claude_bridge_otlp_burn_rate_tokens_per_second 1\n/);
  });
});
