import { EmbeddedEvaluator } from '../../src/alerts/evaluator.js';
import type { UsageSignals } from '../../src/component.js';
import { RecoveryController } from '../../src/recovery/controller.js';
import { MemoryStateStore } from '../../src/recovery/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { ManualClock } from '../support/manual-clock.js';
import { testConfig } from '../support/config.js';

function setup(signals: UsageSignals) {
  const config = testConfig({ alerting: { evaluation_interval_s: 5 } });
  const clock = new ManualClock();
  const controller = new RecoveryController({ config, clock, store: new MemoryStateStore(), logger: silentLogger });
  controller.start();
  const evaluator = new EmbeddedEvaluator(config, { signals: () => signals }, controller, clock, silentLogger);
  evaluator.start();
  return { clock, controller, evaluator };
}

describe('embedded evaluator', () => {
  it('fires rate_limit only after the condition held for its for-duration (30 s), then resolves when it clears', () => {
    const signals: UsageSignals = { rateLimitUsedRatio: 0.95 };
    const { clock, controller, evaluator } = setup(signals);
    clock.advance(5_000);
    expect(evaluator.status().find((s) => s.alert === 'rate_limit')).toMatchObject({ state: 'pending', value: 0.95, threshold: 0.9 });
    clock.advance(25_000);
    expect(controller.snapshot().state).toBe('normal');
    clock.advance(5_000);
    expect(controller.snapshot().state).toBe('backoff');
    expect(controller.snapshot().activeAlerts[0]?.origins[0]).toMatchObject({ origin: 'embedded', summary: expect.stringContaining('95.0% ≥ 90.0%') });
    signals.rateLimitUsedRatio = 0.5;
    clock.advance(5_000);
    expect(controller.snapshot().state).toBe('normal');
  });

  it('stays silent below the threshold and when a figure is unknown', () => {
    const { clock, controller, evaluator } = setup({ rateLimitUsedRatio: 0.89, costUsd: undefined });
    clock.advance(600_000);
    expect(controller.snapshot().activeAlerts).toEqual([]);
    expect(evaluator.status().every((s) => s.state === 'inactive')).toBe(true);
  });

  it('a condition that flaps restarts its for-duration', () => {
    const signals: UsageSignals = { tokensUsedRatio: 0.85 };
    const { clock, controller } = setup(signals);
    clock.advance(55_000);
    signals.tokensUsedRatio = 0.5;
    clock.advance(5_000);
    signals.tokensUsedRatio = 0.85;
    clock.advance(55_000);
    expect(controller.snapshot().activeAlerts).toEqual([]);
    clock.advance(10_000);
    expect(controller.snapshot().activeAlerts.map((a) => a.type)).toEqual(['token_threshold']);
  });

  it('time_limit pauses until the window reset time the signals carry; cost degrades', () => {
    const resetsAt = Date.parse('2026-11-25T13:00:00Z');
    const { clock, controller } = setup({ sessionSeconds: 4.6 * 3600, windowResetsAt: resetsAt, costUsd: 51 });
    clock.advance(60_000);
    expect(controller.snapshot().state).toBe('normal'); // first evaluation at 5 s; 60 s for-duration from there
    clock.advance(5_000);
    expect(controller.snapshot()).toMatchObject({ state: 'paused', pausedUntil: resetsAt, degraded: { active: true } });
  });
});
