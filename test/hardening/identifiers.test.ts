import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultComponents } from '../../src/components.js';
import { truncate } from '../../src/util/text.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';

const NOW = Date.parse('2026-11-25T16:30:00Z');
const MB = 1_000_000;

/** A full garbage collection, so that the heap holds only what something still refers to. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Found while fuzzing the open endpoints with long strings and following where they are kept:
 * the bridge kept the first 128 characters of an alert origin's key, but through a plain slice,
 * behind which V8 keeps the whole string, and the hook activity kept session, tool use and prompt
 * ids whole. 100 requests with 1 MB session ids held 150 MB, up to the 10,000 tracked sessions.
 */
describe('identifiers from the open endpoints are kept short (issue 10, point 3)', () => {
  let api: RunningBridge;
  afterEach(async () => api?.stop());

  it('truncate copies what it keeps', () => {
    const long = `${'é'.repeat(200)}\ud800${'x'.repeat(MB)}`;
    expect(truncate(long, 201)).toBe(`${'é'.repeat(200)}\ud800`);
    expect(truncate('short', 128)).toBe('short');
  });

  it('a flood of distinct 1 MB identifiers does not stay in memory', async () => {
    api = await startBridge({
      clock: new ManualClock(NOW),
      config: testConfig({ hooks_server: { enabled: false }, usage: { source: 'none' }, alerting: { mode: 'both' } }),
      components: defaultComponents(),
    });
    const flood = async (label: string, distinct: boolean) => {
      for (let i = 0; i < 30; i += 1) {
        const id = `${distinct ? `${label}${i}` : label}-${'x'.repeat(MB)}`;
        const half = id.slice(0, MB / 2 - 100); // the webhook's body limit is 1 MB: fingerprint and summary share it
        const answers = await Promise.all([
          api.post('/hooks/StopFailure', { session_id: id, prompt_id: id, hook_event_name: 'StopFailure', error: 'rate_limit' }),
          api.post('/events', { source_app: 'fuzz', session_id: id, hook_event_type: 'PreToolUse', payload: { tool_name: 'Bash', tool_use_id: id } }),
          api.post('/alertmanager/webhook', {
            version: '4',
            status: 'firing',
            alerts: [{ status: 'firing', labels: { alert_type: 'test_alert' }, annotations: { summary: half }, startsAt: new Date(NOW).toISOString(), fingerprint: half }],
          }),
        ]);
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      }
    };
    await flood('warm-up', false); // the same identifier again and again: whatever a request costs once
    const before = heapUsed();
    await flood('distinct', true); // 90 MB of identifiers, each new to the bridge
    const grown = heapUsed() - before;
    expect(Math.round(grown / MB)).toBeLessThan(20);
    const origins = (await api.get('/recovery/status')).body.active_alerts.flatMap((a: any) => a.origins);
    expect(Math.max(...origins.map((o: any) => JSON.stringify(o).length))).toBeLessThan(1000);
  }, 120_000);
});
