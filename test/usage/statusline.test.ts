import { statuslineInputSchema } from '../../src/sources/statusline/input.js';
import { OfficialRateLimits } from '../../src/sources/statusline/official-limits.js';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { UsageState } from '../../src/sources/usage/state.js';
import type { UsageSnapshot } from '../../src/sources/usage/types.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { seriesValue } from './support/usage.js';

// The fixture's windows reset on 2025-02-01 and 2025-02-06: be an hour before the first.
const BEFORE_RESET = Date.parse('2025-02-01T15:00:00Z');
const FIVE_HOUR_RESET = 1738425600_000;
const TTL_MS = 300_000;

function fixtureInput(): Record<string, any> {
  return readJsonFixture('claude-code', 'statusline-input.json');
}

function withoutRateLimits(): Record<string, any> {
  const input = fixtureInput();
  delete input.rate_limits;
  return input;
}

/** A local estimate: 44,000 of 88,000 input+output tokens used in a block around BEFORE_RESET. */
function estimateSnapshot(): UsageSnapshot {
  return {
    source: 'ccusage',
    takenAt: BEFORE_RESET,
    activeBlock: {
      start: BEFORE_RESET - 3600_000,
      end: BEFORE_RESET + 4 * 3600_000,
      limitResetsAt: null,
      tokens: { input: 4_000, output: 40_000, cache_creation: 0, cache_read: 0 },
      byFamily: {},
      costUsd: 3,
      burnRate: null,
    },
    completedBlockTokens: [],
    rateLimits: {},
    tokenLimit: null,
    details: {},
  };
}

describe('status line input', () => {
  it('parses the fixture tolerantly, keeping unknown fields', () => {
    const parsed = statuslineInputSchema.parse(fixtureInput());
    expect(parsed.rate_limits?.five_hour).toEqual({ used_percentage: 23.5, resets_at: 1738425600 });
    expect((parsed as Record<string, unknown>).vim).toEqual({ mode: 'NORMAL' });
    const odd = statuslineInputSchema.parse({ rate_limits: { five_hour: { used_percentage: 'high' } }, cost: 'free' });
    expect(odd.rate_limits?.five_hour?.used_percentage).toBeNull();
    expect(odd.cost).toBeNull();
  });

  describe('official figures override the estimate while fresh', () => {
    let clock: ManualClock;
    let state: UsageState;
    beforeEach(() => {
      clock = new ManualClock(BEFORE_RESET);
      state = new UsageState(testConfig().usage, clock, new OfficialRateLimits(TTL_MS), 'UTC');
      state.snapshot = estimateSnapshot();
    });

    it('with rate_limits: both windows official', () => {
      state.official.record(statuslineInputSchema.parse(fixtureInput()), clock.now());
      expect(state.figures().rateLimits).toEqual({
        five_hour: { usedRatio: 0.235, resetsAt: FIVE_HOUR_RESET, source: 'official' },
        seven_day: { usedRatio: expect.closeTo(0.412, 12), resetsAt: 1738857600_000, source: 'official' },
      });
      expect(state.signals()).toMatchObject({ rateLimitUsedRatio: expect.closeTo(0.412, 12), windowResetsAt: FIVE_HOUR_RESET });
    });

    it('without rate_limits: the local estimate, marked as such', () => {
      state.official.record(statuslineInputSchema.parse(withoutRateLimits()), clock.now());
      expect(state.figures().rateLimits).toEqual({ five_hour: { usedRatio: 0.5, resetsAt: BEFORE_RESET + 4 * 3600_000, source: 'estimate' } });
    });

    it('stale after the TTL: falls back to the estimate; a new input makes it official again', () => {
      state.official.record(statuslineInputSchema.parse(fixtureInput()), clock.now());
      clock.advance(TTL_MS);
      expect(state.figures().rateLimits.five_hour?.source).toBe('official');
      clock.advance(1);
      expect(state.figures().rateLimits.five_hour).toEqual({ usedRatio: 0.5, resetsAt: BEFORE_RESET + 4 * 3600_000, source: 'estimate' });
      expect(state.figures().rateLimits.seven_day).toBeUndefined();
      state.official.record(statuslineInputSchema.parse(fixtureInput()), clock.now());
      expect(state.figures().rateLimits.five_hour?.source).toBe('official');
    });

    it('stale once its window has reset, even within the TTL', () => {
      clock = new ManualClock(FIVE_HOUR_RESET - 60_000);
      state = new UsageState(testConfig().usage, clock, new OfficialRateLimits(TTL_MS), 'UTC');
      state.official.record(statuslineInputSchema.parse(fixtureInput()), clock.now());
      expect(state.figures().rateLimits.five_hour?.source).toBe('official');
      clock.advance(60_000);
      expect(state.figures().rateLimits.five_hour).toBeUndefined();
      expect(state.figures().rateLimits.seven_day?.source).toBe('official');
    });
  });
});

describe('POST /statusline', () => {
  let api: RunningBridge;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(BEFORE_RESET);
    const config = testConfig({ usage: { source: 'none' } });
    api = await startBridge({ config, clock, components: [createUsageComponent({ timeZone: 'UTC' })] });
  });
  afterEach(() => api.stop());

  it('takes the fixture, answers the compact view and exports each figure with its source', async () => {
    const { status, body } = await api.post('/statusline', fixtureInput());
    expect(status).toBe(200);
    expect(body).toEqual({
      five_hour: { used_ratio: 0.235, source: 'official', resets_at: '2025-02-01T16:00:00.000Z' },
      seven_day: { used_ratio: expect.closeTo(0.412, 12), source: 'official', resets_at: '2025-02-06T16:00:00.000Z' },
      block: null,
      day_cost_usd: null,
      recovery_state: 'normal',
    });
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_rate_limit_used_ratio{window="five_hour",source="official"}')).toBe(0.235);
    expect(seriesValue(metrics, 'claude_bridge_rate_limit_reset_timestamp_seconds{window="seven_day",source="official"}')).toBe(1738857600);
    expect(seriesValue(metrics, 'claude_bridge_statusline_updates_total')).toBe(1);
    expect((await api.get('/metrics')).body.usage_data.statusline_updated_at).toBe(new Date(BEFORE_RESET).toISOString());
  });

  it('goes stale after statusline_ttl_s: the official series disappears', async () => {
    await api.post('/statusline', fixtureInput());
    clock.advance(TTL_MS + 1);
    const metrics = (await api.get('/prometheus')).text;
    expect(metrics).not.toContain('claude_bridge_rate_limit_used_ratio{');
    expect((await api.get('/statusline')).body.five_hour).toBeNull();
  });

  it('without rate_limits it counts the update and exports no official figure', async () => {
    const { body } = await api.post('/statusline', withoutRateLimits());
    expect(body.five_hour).toBeNull();
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_statusline_updates_total')).toBe(1);
    expect(metrics).not.toContain('source="official"');
  });

  it('refuses bodies that are not a JSON object', async () => {
    expect((await api.post('/statusline', '[1, 2]')).status).toBe(400);
    expect((await api.post('/statusline', '"text"')).status).toBe(400);
    expect((await api.post('/statusline', '{not json')).status).toBe(400);
    expect(seriesValue((await api.get('/prometheus')).text, 'claude_bridge_statusline_updates_total')).toBe(0);
  });

  it('requires the bearer token when auth.token is set', async () => {
    await api.stop();
    const token = 'a-long-enough-test-token';
    api = await startBridge({ config: testConfig({ auth: { token }, usage: { source: 'none' } }), clock, components: [createUsageComponent()] });
    expect((await api.post('/statusline', fixtureInput())).status).toBe(401);
    expect((await api.post('/statusline', fixtureInput(), { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('answers with the recovery state', async () => {
    await api.post('/alerts/rate_limit');
    expect((await api.post('/statusline', fixtureInput())).body.recovery_state).toBe('backoff');
  });
});
