import { mergeSignals } from '../../src/component.js';
import { buildUsageComponent, type UsageComponent } from '../../src/sources/usage/index.js';
import type { UsageSourceRegistration } from '../../src/sources/usage/sources.js';
import type { Availability, UsageSnapshot } from '../../src/sources/usage/types.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { testContext } from './support/usage.js';

function snapshotOf(source: string, costUsd: number, now: number): UsageSnapshot {
  return {
    source,
    takenAt: now,
    activeBlock: {
      start: now - 3_600_000,
      end: now + 4 * 3_600_000,
      limitResetsAt: null,
      tokens: { input: 10, output: 20, cache_creation: 0, cache_read: 0 },
      byFamily: {},
      costUsd,
      burnRate: null,
    },
    completedBlockTokens: [],
    rateLimits: {},
    tokenLimit: null,
    details: { from: source },
  };
}

/** A source registered like the real ones, with a fixed availability. */
function fakeSource(name: string, availability: Availability, costUsd: number, polls: string[]): UsageSourceRegistration {
  return {
    name,
    create: ({ now }) => ({
      source: {
        name,
        availability: () => Promise.resolve(availability),
        poll: () => {
          polls.push(name);
          return Promise.resolve(snapshotOf(name, costUsd, now()));
        },
      },
    }),
  };
}

describe('the usage poller chooses among the registered sources', () => {
  it('auto takes the first usable source in registration order; the others show why in /health', async () => {
    const clock = new ManualClock();
    const polls: string[] = [];
    const context = testContext(testConfig({ usage: { source: 'auto' } }), clock);
    const component: UsageComponent = buildUsageComponent(context, {
      env: { PATH: '' },
      timeZone: 'UTC',
      sources: [
        fakeSource('absent', { usable: false, standby: { found: false } }, 1, polls),
        fakeSource('broken', { usable: false, problem: 'version 1 is too old', details: { version: '1' }, key: 'v1' }, 2, polls),
        fakeSource('working', { usable: true }, 3, polls),
        fakeSource('later', { usable: true }, 4, polls),
      ],
    });
    await component.poller!.pollOnce();
    await component.poller!.pollOnce();
    expect(polls).toEqual(['working', 'working']);
    expect(component.state.snapshot?.activeBlock?.costUsd).toBe(3);
    const health = Object.fromEntries(component.health!.map((h) => [h.name, h.status()]));
    expect(health.absent).toMatchObject({ up: false, details: { role: 'standby', found: false, fallback: 'broken' } });
    expect(health.broken).toMatchObject({ up: false, last_error: 'version 1 is too old', details: { version: '1', fallback: 'working' } });
    expect(health.working).toMatchObject({ up: true, details: { selected: true, from: 'working' } });
    const errors = await context.registry.getSingleMetric('claude_bridge_source_errors_total')!.get();
    expect(errors.values.find((v) => v.labels.source === 'broken')?.value).toBe(1); // reported once, not per poll
  });
});

describe('mergeSignals', () => {
  it('keeps every figure any component knows; where two know one, the higher wins', () => {
    expect(mergeSignals([{ costUsd: 3, tokensUsedRatio: 0.5 }, { costUsd: 7, windowResetsAt: 100 }, {}])).toEqual({
      costUsd: 7,
      tokensUsedRatio: 0.5,
      windowResetsAt: 100,
    });
    expect(mergeSignals([{ costUsd: undefined }, { rateLimitUsedRatio: Number.NaN }])).toEqual({});
  });
});
