import fc from 'fast-check';
import { FakeHooksServer, type NewEvent } from '../hooks/support/fake-hooks-server.js';
import { AFTER_FIXTURES } from '../hooks/support/harness.js';
import { waitFor } from '../hooks/support/metrics.js';
import { BridgeRun, syncConfig } from '../hooks/support/sync.js';
import { checkProperty, targetTimeoutMs } from './support/settings.js';
import { streamStep, type PostedEvent, type StreamStep } from './targets/hooks-server-frames.js';

/** Steps per run; the counts are checked exactly at the end of each run. */
const STEPS_PER_RUN = 10;
/** Waiting for frames on a loopback socket: a safety net for a loaded machine, not a speed limit. */
const FRAME_WAIT_MS = 30_000;
/** A frame that is not JSON: the malformed counter moving past it says every earlier frame was read. */
const FENCE = 'not json: fence';

/**
 * The hooks server's stream, fuzzed end to end: a stand-in of the server on loopback (its replay,
 * broadcasts, `GET /events/recent`, ids reused after a rollback, a deleted database) streams to the
 * bridge's hooks source the events it stores (with hostile field values, huge chats and
 * out-of-order timestamps), answers to human-in-the-loop events under old ids, raw garbage frames,
 * and restarts with events stored, rows lost or the database deleted while it is down. After every
 * run of steps: each stored event counted exactly once (the ones stored while the bridge's
 * connection was down too), a duplicate never, each malformed frame once in the malformed counter,
 * and the stream live again.
 */
describe('fuzzing the hooks server WebSocket stream', () => {
  let server: FakeHooksServer;
  let bridge: BridgeRun;
  let serverTime = AFTER_FIXTURES - 3_600_000;
  const expected = { events: 0, malformed: 0 };

  beforeAll(async () => {
    server = await FakeHooksServer.start();
    bridge = await BridgeRun.start(server, { config: syncConfig(server, { reconnect_initial_ms: 1000, reconnect_max_ms: 8000 }) });
  });
  afterAll(async () => {
    await bridge?.stop();
    await server?.close();
  });

  const stored = (event: PostedEvent): NewEvent => {
    serverTime += 1000;
    const { timestampOffsetMs: _offset, ...fields } = event;
    return { ...fields, timestamp: serverTime + event.timestampOffsetMs };
  };

  async function counts(): Promise<{ events: number; malformed: number }> {
    const summary = await bridge.harness.summary();
    return { events: summary.events_total, malformed: summary.malformed_total };
  }

  /** Every frame sent so far has been read: the fence after them moved the malformed counter. */
  async function fence(): Promise<void> {
    await server.send(FENCE);
    expected.malformed += 1;
    await waitFor(async () => (await counts()).malformed >= expected.malformed, 'the fence frame', FRAME_WAIT_MS);
  }

  async function apply(step: StreamStep): Promise<void> {
    switch (step.kind) {
      case 'post':
        await server.post(stored(step.event));
        expected.events += 1;
        return;
      case 'respond':
        if (server.stored.length > 0) await server.respond(server.stored[step.pick % server.stored.length]!.id);
        return;
      case 'raw':
        await server.send(step.text);
        expected.malformed += step.malformed;
        return;
      case 'restart':
        await bridge.serverRestart(() => {
          if (step.change === 'rollback') server.loseNewestRows(step.lose);
          if (step.change === 'delete') server.deleteDatabase();
          // Stored while the bridge cannot see them, some with timestamps older than the cursor's.
          for (const event of step.posted) server.insert(stored(event));
        });
        expected.events += step.posted.length;
    }
  }

  it(
    'stored events counted exactly once across garbage frames, re-sent answers and server restarts; each malformed frame counted once',
    async () => {
      const runs = fc.array(streamStep, { minLength: STEPS_PER_RUN, maxLength: STEPS_PER_RUN });
      await checkProperty(
        'hooks server WebSocket frames',
        runs,
        async (steps) => {
          for (const [i, step] of steps.entries()) {
            try {
              await apply(step);
            } catch (error) {
              throw new Error(`step ${i + 1} (${stepText(step)}): ${(error as Error).message}`, { cause: error });
            }
          }
          await fence();
          const seen = await counts();
          const said = `after ${steps.map(stepText).join('; ')}`;
          if (seen.events !== expected.events) throw new Error(`${seen.events} events counted, ${expected.events} stored (${said})`);
          if (seen.malformed !== expected.malformed) throw new Error(`${seen.malformed} malformed frames counted, ${expected.malformed} sent (${said})`);
          const details = bridge.details();
          if (details.state !== 'connected' || details.sync !== 'live') throw new Error(`the stream is ${String(details.state)}/${String(details.sync)} (${said})`);
        },
        STEPS_PER_RUN,
      );
    },
    targetTimeoutMs(),
  );
});

function stepText(step: StreamStep): string {
  switch (step.kind) {
    case 'post':
      return `post ${JSON.stringify(step.event).slice(0, 160)}`;
    case 'respond':
      return `respond ${step.pick}`;
    case 'raw':
      return `raw (${step.made}, malformed ${step.malformed}) ${JSON.stringify(step.text.slice(0, 160))}`;
    case 'restart':
      return `restart: ${step.change}${step.change === 'rollback' ? ` ${step.lose}` : ''}, ${step.posted.length} stored while down`;
  }
}
