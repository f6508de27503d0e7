import fc from 'fast-check';
import { Registry } from 'prom-client';
import type { FactSink } from '../../../src/component.js';
import { HookActivity } from '../../../src/sources/hooks/activity.js';
import { HookEventSink } from '../../../src/sources/hooks/sink.js';
import { StreamSync } from '../../../src/sources/hooks/stream-sync.js';
import { silentLogger } from '../../../src/util/logger.js';
import { testConfig } from '../../support/config.js';
import { readFixture, readJsonLinesFixture } from '../../support/fixtures.js';
import { ManualClock } from '../../support/manual-clock.js';
import { applyTextMutation, mutatedValue, type TextMutation } from '../support/mutate.js';
import { fuzzTarget } from '../support/settings.js';

/** After the recorded frames (2026-11-25 ~16:15 UTC). */
const NOW = Date.parse('2026-11-25T16:30:00Z');

const recordedFrames = readJsonLinesFixture<Record<string, unknown>>('hooks-server', 'ws-frames.jsonl');
const reconnectFrame = JSON.parse(readFixture('hooks-server', 'ws-initial-frame-after-reconnect.json')) as { data: unknown[] };
const FRAME_SAMPLES: unknown[] = [...recordedFrames, reconnectFrame];

type Step =
  | { kind: 'frame'; text: string }
  /** The connection drops and comes back; the gap fill (`GET /events/recent`) answers `recent`. */
  | { kind: 'reconnect'; recent: { status: number; text: string } };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', ']', ',', '"', '\ufffd', '\u0000')) }),
  fc.record({ kind: fc.constant('number-token' as const), at: fc.nat(), token: fc.constantFrom('1e400', '-1', '0', '1.5', '9007199254740993', '1e300') }),
  fc.record({ kind: fc.constant('duplicate-key' as const), at: fc.nat() }),
);

const frameText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FRAME_SAMPLES).map((f) => JSON.stringify(f)) },
  { weight: 8, arbitrary: mutatedValue(FRAME_SAMPLES, 3).map((f) => JSON.stringify(f) ?? 'null') },
  { weight: 2, arbitrary: fc.tuple(mutatedValue(FRAME_SAMPLES, 1), fc.array(textMutation, { minLength: 1, maxLength: 2 })).map(([f, m]) => m.reduce(applyTextMutation, JSON.stringify(f) ?? 'null')) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.jsonValue().map((v) => JSON.stringify(v))) },
);

const recentAnswer = fc.oneof(
  { weight: 4, arbitrary: mutatedValue([reconnectFrame.data, recordedFrames.slice(1).map((f) => f.data)], 2).map((rows) => ({ status: 200, text: JSON.stringify(rows) ?? 'null' })) },
  { weight: 1, arbitrary: fc.constantFrom({ status: 500, text: 'Internal Server Error' }, { status: 200, text: 'not json' }, { status: 200, text: '{"rows":[]}' }, { status: 404, text: '' }) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: frameText.map((text) => ({ kind: 'frame' as const, text })) },
  { weight: 1, arbitrary: recentAnswer.map((recent) => ({ kind: 'reconnect' as const, recent })) },
);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (value: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(value, key);
const nonEmptyString = (value: unknown) => typeof value === 'string' && value.length > 0;

/** A stored hooks-server event: its documented fields and types, and a row id JSON carries exactly. */
function eventId(raw: unknown): number | 'malformed' {
  if (!isObject(raw) || !nonEmptyString(raw.source_app) || !nonEmptyString(raw.session_id) || !nonEmptyString(raw.hook_event_type)) return 'malformed';
  if (!isObject(raw.payload)) return 'malformed';
  if (own(raw, 'timestamp') && !(typeof raw.timestamp === 'number' && Number.isFinite(raw.timestamp))) return 'malformed';
  if (!own(raw, 'id') || !(Number.isSafeInteger(raw.id) && (raw.id as number) > 0)) return 'malformed';
  return raw.id as number;
}

/** What one frame holds, as the protocol defines it: its events' ids and how many parts are malformed. */
function readFrame(text: string): { type: 'initial' | 'event' | 'other'; ids: number[]; malformed: number } {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { type: 'other', ids: [], malformed: 1 };
  }
  if (!isObject(frame) || typeof frame.type !== 'string') return { type: 'other', ids: [], malformed: 1 };
  if (frame.type === 'initial') {
    if (!Array.isArray(frame.data)) return { type: 'other', ids: [], malformed: 1 };
    const read = frame.data.map(eventId);
    return { type: 'initial', ids: read.filter((r): r is number => r !== 'malformed'), malformed: read.filter((r) => r === 'malformed').length };
  }
  if (frame.type === 'event') {
    const id = eventId(frame.data);
    return id === 'malformed' ? { type: 'other', ids: [], malformed: 1 } : { type: 'event', ids: [id], malformed: 0 };
  }
  return { type: 'other', ids: [], malformed: 0 };
}

/**
 * The first connection alone, when its only `initial` frame (if any) comes first: the initial
 * frame's events are history, and each live event above them counts once.
 */
function expectedFirstConnectionCount(steps: Step[]): number | null {
  if (steps.some((s) => s.kind === 'reconnect')) return null;
  const frames = steps.map((s) => readFrame((s as { text: string }).text)).filter((f) => f.type !== 'other');
  if (frames.slice(1).some((f) => f.type === 'initial')) return null;
  const baseline = frames[0]?.type === 'initial' ? Math.max(0, ...frames[0].ids) : 0;
  const counted = new Set<number>();
  for (const frame of frames) if (frame.type === 'event' && frame.ids[0]! > baseline) counted.add(frame.ids[0]!);
  return counted.size;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The hooks server's frames fed to the stream protocol (StreamSync, as the WebSocket source wires
 * it), with reconnects and gap fills between them: never a throw or a rejected promise; the
 * malformed counter moves once per malformed frame or event; an event is counted only if valid,
 * and once (a database reset aside); on a first connection, exactly the live events.
 */
export const framesTarget = fuzzTarget<Step[]>({
  name: 'hooks server WebSocket frames (StreamSync)',
  input: fc.array(step, { minLength: 1, maxLength: 12 }),
  async check(steps) {
    const clock = new ManualClock(NOW);
    const registry = new Registry();
    const config = testConfig();
    const activity = new HookActivity(registry, clock, config.hooks);
    const reported: unknown[] = [];
    const facts: FactSink = { rateLimitHit: (hit) => reported.push(hit) };
    const sink = new HookEventSink(activity, facts, clock);
    const ingested: number[] = [];
    const ingest = sink.ingest.bind(sink);
    sink.ingest = (event) => {
      ingested.push(event.id ?? -1);
      ingest(event);
    };
    let generation = 1;
    let recent = { status: 200, text: '[]' };
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const sync = new StreamSync({
      config: config.hooks_server,
      clock,
      logger: silentLogger,
      activity,
      sink,
      synced: () => {},
      isCurrent: (g) => g === generation,
      fetch: async () => new Response(recent.text, { status: recent.status }),
    });
    const validIds = new Set<number>();
    let malformed = 0;
    try {
      sync.opened();
      for (const s of steps) {
        if (s.kind === 'reconnect') {
          sync.closed();
          generation += 1;
          recent = s.recent;
          sync.opened();
          for (const row of parsedRows(s.recent.text)) {
            const id = eventId(row);
            if (id !== 'malformed') validIds.add(id);
          }
          continue;
        }
        const frame = readFrame(s.text);
        malformed += frame.malformed;
        for (const id of frame.ids) validIds.add(id);
        sync.frame(generation, s.text);
        await settle(); // a gap fill answers at once
      }
      await settle();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    if (rejections.length > 0) throw new Error(`a promise was rejected and not handled: ${String(rejections[0])}`);
    const summary = await activity.summary();
    JSON.stringify({ ...summary, ...sync.details() });
    if (summary.malformed_total !== malformed) throw new Error(`malformed_total is ${summary.malformed_total}, the frames held ${malformed} malformed parts`);
    if (summary.events_total !== ingested.length) throw new Error(`events_total ${summary.events_total} but ${ingested.length} events were ingested`);
    const stray = ingested.filter((id) => !validIds.has(id));
    if (stray.length > 0) throw new Error(`counted events that were never valid: ids ${stray.slice(0, 5).join(', ')}`);
    const resets = Number(sync.details().database_resets_total);
    if (resets === 0 && new Set(ingested).size !== ingested.length) throw new Error(`an event was counted twice: ids ${ingested.join(', ')}`);
    const expected = expectedFirstConnectionCount(steps);
    if (expected !== null && ingested.length !== expected) throw new Error(`counted ${ingested.length} live events, expected ${expected} (ids ${ingested.join(', ')})`);
  },
});

function parsedRows(text: string): unknown[] {
  try {
    const rows: unknown = JSON.parse(text);
    return Array.isArray(rows) ? rows : [];
  } catch {
    return [];
  }
}
