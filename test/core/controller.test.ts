import { RecoveryController } from '../../src/recovery/controller.js';
import { MemoryStateStore } from '../../src/recovery/store.js';
import type { Transition } from '../../src/recovery/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { ManualClock } from '../support/manual-clock.js';
import { testConfig } from '../support/config.js';
import type { BridgeConfig } from '../../src/config/index.js';

function setup(config: BridgeConfig = testConfig(), options: { windowResetsAt?: number; random?: () => number } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
  const store = new MemoryStateStore();
  const transitions: Transition[] = [];
  const controller = new RecoveryController({
    config,
    clock,
    store,
    logger: silentLogger,
    windowResetsAt: () => options.windowResetsAt,
    ...(options.random ? { random: options.random } : {}),
  });
  controller.subscribe({ onTransition: (t) => transitions.push(t) });
  controller.start();
  return { clock, store, controller, transitions };
}

const SECOND = 1000;

describe('recovery controller: exponential backoff', () => {
  it('rate_limit enters backoff at 1 s and repeated triggers double the delay up to the 32 s cap', () => {
    const { controller } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) delays.push(controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff.delayMs);
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 32, 32].map((s) => s * SECOND));
    expect(controller.snapshot().state).toBe('backoff');
  });

  it('keeps growing while the alert keeps firing: each elapsed delay escalates to the next attempt', () => {
    const { controller, clock } = setup();
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    clock.advance(1 * SECOND);
    expect(controller.snapshot().backoff).toMatchObject({ attempt: 2, delayMs: 2 * SECOND });
    clock.advance(2 * SECOND);
    expect(controller.snapshot().backoff).toMatchObject({ attempt: 3, delayMs: 4 * SECOND });
    clock.advance(4 * SECOND + 8 * SECOND + 16 * SECOND + 32 * SECOND + 32 * SECOND);
    expect(controller.snapshot().backoff).toMatchObject({ attempt: 8, delayMs: 32 * SECOND });
  });

  it('honours configured base and cap', () => {
    const { controller } = setup(testConfig({ recovery: { backoff: { base_s: 2, cap_s: 5 } } }));
    const delays = [1, 2, 3].map(() => controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff.delayMs);
    expect(delays).toEqual([2000, 4000, 5000]);
  });

  it('jitter shortens the delay by at most the configured share', () => {
    const { controller } = setup(testConfig({ recovery: { backoff: { jitter: 0.5 } } }), { random: () => 1 });
    expect(controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff.delayMs).toBe(500);
    expect(controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff.delayMs).toBe(1000);
  });

  it('a re-fire within the quiet period continues the attempt count; after it, starts over', () => {
    const { controller, clock } = setup();
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    controller.resolve({ type: 'rate_limit' });
    expect(controller.snapshot()).toMatchObject({ state: 'normal', backoff: { active: false, attempt: 2, delayMs: 0 } });
    clock.advance(60 * SECOND);
    expect(controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff).toMatchObject({ attempt: 3, delayMs: 4000 });
    controller.resolve({ type: 'rate_limit' });
    clock.advance(300 * SECOND);
    expect(controller.snapshot().backoff.attempt).toBe(0);
    expect(controller.fire({ type: 'rate_limit', origin: 'manual' }).snapshot.backoff).toMatchObject({ attempt: 1, delayMs: 1000 });
  });

  it('an Alertmanager re-send (same key and start) is a no-op; a new start escalates', () => {
    const { controller } = setup();
    const firing = { type: 'rate_limit' as const, origin: 'alertmanager' as const, key: 'fp1', startedAt: 1000 };
    expect(controller.fire(firing).changed).toBe(true);
    expect(controller.fire(firing).changed).toBe(false);
    expect(controller.snapshot().backoff.attempt).toBe(1);
    expect(controller.fire({ ...firing, startedAt: 2000 }).snapshot.backoff.attempt).toBe(2);
  });

  it('a one-shot hook signal lapses at its expiry and leaves backoff', () => {
    const { controller, clock } = setup();
    controller.fire({ type: 'rate_limit', origin: 'hook', expiresAt: clock.now() + 120 * SECOND });
    clock.advance(119 * SECOND);
    expect(controller.snapshot().state).toBe('backoff');
    clock.advance(1 * SECOND);
    expect(controller.snapshot().state).toBe('normal');
  });

  it('an alert active from two origins stays until both resolve', () => {
    const { controller } = setup();
    controller.fire({ type: 'rate_limit', origin: 'embedded' });
    controller.fire({ type: 'rate_limit', origin: 'alertmanager', key: 'fp' });
    controller.resolve({ type: 'rate_limit', origin: 'embedded' });
    expect(controller.snapshot().state).toBe('backoff');
    expect(controller.resolve({ type: 'rate_limit', origin: 'alertmanager', key: 'other' }).changed).toBe(false);
    controller.resolve({ type: 'rate_limit', origin: 'alertmanager', key: 'fp' });
    expect(controller.snapshot().state).toBe('normal');
  });
});

describe('recovery controller: session pause', () => {
  it('pauses until the window reset time a source knows, then resumes by itself', () => {
    const { controller, clock, transitions } = setup(testConfig(), { windowResetsAt: Date.parse('2026-11-25T14:00:00Z') });
    const { snapshot } = controller.fire({ type: 'time_limit', origin: 'manual' });
    expect(snapshot.state).toBe('paused');
    expect(snapshot.pausedUntil).toBe(Date.parse('2026-11-25T14:00:00Z'));
    clock.advance(2 * 3600 * SECOND - 1);
    expect(controller.snapshot().state).toBe('paused');
    clock.advance(1);
    expect(controller.snapshot().state).toBe('normal');
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['normal->paused', 'paused->normal']);
  });

  it('prefers the reset time sent with the alert', () => {
    const { controller } = setup(testConfig(), { windowResetsAt: Date.parse('2026-11-25T14:00:00Z') });
    const resetsAt = Date.parse('2026-11-25T13:00:00Z');
    expect(controller.fire({ type: 'time_limit', origin: 'manual', resetsAt }).snapshot.pausedUntil).toBe(resetsAt);
  });

  it('without a known reset time, pauses until the next day at the configured hour (local time)', () => {
    const { controller, clock } = setup(testConfig({ recovery: { pause: { fallback_resume_hour: 7 } } }));
    const until = controller.fire({ type: 'time_limit', origin: 'manual' }).snapshot.pausedUntil!;
    const expected = new Date(clock.now());
    expected.setDate(expected.getDate() + 1);
    expected.setHours(7, 0, 0, 0);
    expect(until).toBe(expected.getTime());
  });

  it('with auto_recovery off, stays paused past the resume time until resumed by hand', () => {
    const { controller, clock } = setup(testConfig({ recovery: { auto_recovery: false } }), {
      windowResetsAt: Date.parse('2026-11-25T13:00:00Z'),
    });
    controller.fire({ type: 'time_limit', origin: 'manual' });
    controller.resolve({ type: 'time_limit' });
    clock.advance(5 * 3600 * SECOND);
    expect(controller.snapshot().state).toBe('paused');
    expect(controller.resume().snapshot.state).toBe('normal');
  });

  it('with auto_recovery on, the alert resolving ends the pause', () => {
    const { controller } = setup(testConfig(), { windowResetsAt: Date.parse('2026-11-25T14:00:00Z') });
    controller.fire({ type: 'time_limit', origin: 'alertmanager', key: 'fp' });
    expect(controller.resolve({ type: 'time_limit', origin: 'alertmanager', key: 'fp' }).snapshot.state).toBe('normal');
  });
});

describe('recovery controller: degradation, precedence and manual resume', () => {
  it('cost_threshold degrades with the configured rules', () => {
    const { controller } = setup();
    const { snapshot } = controller.fire({ type: 'cost_threshold', origin: 'manual' });
    expect(snapshot.state).toBe('degraded');
    expect(snapshot.degraded).toEqual({
      active: true,
      rules: { deny_tools: ['Task', 'Agent', 'WebSearch', 'WebFetch'], context_message: expect.stringMatching(/^Budget mode/) },
    });
  });

  it('token_threshold and test_alert are proactive: active, counted, no restriction', () => {
    const { controller } = setup();
    const fired: string[] = [];
    controller.subscribe({ onFired: (f, action) => fired.push(`${f.type}:${action}`) });
    controller.fire({ type: 'token_threshold', origin: 'manual' });
    controller.fire({ type: 'test_alert', origin: 'manual' });
    expect(controller.snapshot()).toMatchObject({ state: 'normal', backoff: { active: false }, degraded: { active: false } });
    expect(controller.snapshot().activeAlerts.map((a) => a.type)).toEqual(['token_threshold', 'test_alert']);
    expect(fired).toEqual(['token_threshold:notify', 'test_alert:notify']);
  });

  it('token_threshold restricts when configured to', () => {
    const { controller } = setup(testConfig({ recovery: { token_limit: 'graceful_degradation' } }));
    expect(controller.fire({ type: 'token_threshold', origin: 'manual' }).snapshot.state).toBe('degraded');
  });

  it('precedence is paused > backoff > degraded > normal', () => {
    const { controller, transitions } = setup(testConfig(), { windowResetsAt: Date.parse('2026-11-25T20:00:00Z') });
    controller.fire({ type: 'cost_threshold', origin: 'manual' });
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    controller.fire({ type: 'time_limit', origin: 'manual' });
    expect(controller.snapshot().state).toBe('paused');
    controller.resolve({ type: 'time_limit' });
    expect(controller.snapshot().state).toBe('backoff');
    controller.resolve({ type: 'rate_limit' });
    expect(controller.snapshot().state).toBe('degraded');
    controller.resolve({ type: 'cost_threshold' });
    expect(transitions.map((t) => t.to)).toEqual(['degraded', 'backoff', 'paused', 'backoff', 'degraded', 'normal']);
  });

  it('manual resume clears every alert, the pause and the backoff count', () => {
    const { controller } = setup();
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    controller.fire({ type: 'time_limit', origin: 'manual' });
    controller.fire({ type: 'cost_threshold', origin: 'manual' });
    const { snapshot } = controller.resume();
    expect(snapshot).toMatchObject({ state: 'normal', activeAlerts: [], pausedUntil: null, backoff: { attempt: 0 } });
  });

  it('resolving an alert that is not active changes nothing', () => {
    const { controller, transitions } = setup();
    expect(controller.resolve({ type: 'rate_limit' }).changed).toBe(false);
    expect(transitions).toEqual([]);
  });
});
