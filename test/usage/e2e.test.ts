import type { BridgeConfig } from '../../src/config/index.js';
import { parseCcusageBlocks } from '../../src/sources/usage/ccusage-json.js';
import { createUsageComponent, type UsageComponent } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { claudeConfigCopy, INJECTED_NOW, seriesValue, shiftToNow, TempDirs } from './support/usage.js';

type Overrides = Parameters<typeof testConfig>[0];

describe('usage crosses a threshold → embedded evaluator → recovery controller', () => {
  const dirs = new TempDirs();
  let api: RunningBridge | null = null;
  afterEach(async () => {
    await api?.stop();
    api = null;
  });
  afterAll(() => dirs.cleanup());

  async function start(overrides: Overrides, at = Date.parse('2026-11-25T12:00:00Z')) {
    const clock = new ManualClock(at);
    const config: BridgeConfig = testConfig(overrides);
    api = await startBridge({ config, clock, components: [createUsageComponent({ env: { PATH: '' }, timeZone: 'UTC' })] });
    const component = api.bridge.components.find((c) => c.name === 'usage') as UsageComponent;
    return { api, clock, component, evaluator: api.bridge.evaluator, controller: api.bridge.controller };
  }

  it('a status line at 95 % of the 5-hour limit fires rate_limit from the official figure: backoff', async () => {
    const { api, clock, evaluator, controller } = await start({ usage: { source: 'none' } });
    const resetsAt = Math.floor(clock.now() / 1000) + 3600;
    await api.post('/statusline', { session_id: 's', rate_limits: { five_hour: { used_percentage: 95, resets_at: resetsAt } } });
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_rate_limit_used_ratio{window="five_hour",source="official"}')).toBe(0.95);

    evaluator.evaluate();
    expect(evaluator.status().find((s) => s.alert === 'rate_limit')).toMatchObject({ state: 'pending', value: 0.95 });
    expect(controller.snapshot().state).toBe('normal');
    clock.advance(30_000); // alerts.for_seconds.rate_limit
    evaluator.evaluate();
    expect(evaluator.status().find((s) => s.alert === 'rate_limit')?.state).toBe('firing');
    expect(controller.snapshot().state).toBe('backoff');
    expect((await api.post('/statusline', {})).body.recovery_state).toBe('backoff');
  });

  it('a stale official figure stops holding the alert: it resolves', async () => {
    const { api, clock, evaluator, controller } = await start({ usage: { source: 'none', statusline_ttl_s: 60 }, alerts: { for_seconds: { rate_limit: 0 } } });
    await api.post('/statusline', { rate_limits: { five_hour: { used_percentage: 97 } } });
    evaluator.evaluate();
    expect(controller.snapshot().activeAlerts.map((a) => a.type)).toEqual(['rate_limit']);
    clock.advance(61_000);
    evaluator.evaluate();
    expect(controller.snapshot().activeAlerts).toEqual([]);
  });

  it('time_limit pauses until the 5-hour window resets, as the status line reports it', async () => {
    const { api, clock, component, evaluator, controller } = await start({ usage: { source: 'none' }, alerts: { for_seconds: { time_limit: 0 } } });
    const now = clock.now();
    component.state.snapshot = {
      source: 'ccusage',
      takenAt: now,
      activeBlock: {
        start: now - 4.6 * 3600_000,
        end: now + 0.4 * 3600_000,
        limitResetsAt: null,
        tokens: { input: 10, output: 10, cache_creation: 0, cache_read: 0 },
        byFamily: {},
        costUsd: 0.01,
        burnRate: null,
      },
      completedBlockTokens: [],
      rateLimits: {},
      tokenLimit: null,
      details: {},
    };
    const resetsAt = now + 20 * 60_000;
    await api.post('/statusline', { rate_limits: { five_hour: { used_percentage: 30, resets_at: resetsAt / 1000 } } });
    evaluator.evaluate();
    const snapshot = controller.snapshot();
    expect(snapshot.state).toBe('paused');
    expect(snapshot.pausedUntil).toBe(resetsAt);
  });

  it('real transcripts through ccusage: the block cost crosses cost_threshold → degraded', async () => {
    const recordedActive = parseCcusageBlocks(readJsonFixture('ccusage', 'blocks.json')).find((b) => b.isActive)!;
    const now = INJECTED_NOW;
    const configDir = claudeConfigCopy(dirs.make(), 'claude-projects/-home-user-demo', '-home-user-demo', shiftToNow(recordedActive.lastActivity!, now));
    const { component, evaluator, controller } = await start(
      { usage: { source: 'ccusage', claude_config_dir: configDir, cost_scope: 'block' }, alerts: { cost_threshold: 1.5, for_seconds: { cost_threshold: 0 } } },
      now,
    );
    await component.poller!.pollOnce();
    expect(component.state.signals().costUsd).toBeCloseTo(1.7232276, 9);
    evaluator.evaluate();
    expect(controller.snapshot().state).toBe('degraded');
  });
});
