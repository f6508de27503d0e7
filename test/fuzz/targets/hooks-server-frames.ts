import fc from 'fast-check';
import { parseHookEvent } from '../../../src/sources/hooks/event.js';
import { readFixture, readJsonLinesFixture } from '../../support/fixtures.js';
import { applyTextMutation, hostileValue, mutatedValue, type TextMutation } from '../support/mutate.js';

/**
 * What the hooks server, or something on its port, does next. The stored events are always ones
 * the real server stores (`POST /events` checks its four required fields); the raw frames are
 * what a broken or hostile server, or a bridge-unaware proxy, could put on the socket.
 */
export type StreamStep =
  /** `POST /events` on the server: stored with the next id and broadcast. */
  | { kind: 'post'; event: PostedEvent }
  /** A human-in-the-loop answer: the row broadcast again under its old id (`pick` chooses which). */
  | { kind: 'respond'; pick: number }
  /** Raw text on the socket; `malformed`: what the protocol says it is worth to the malformed counter. */
  | { kind: 'raw'; text: string; malformed: 0 | 1; made: string }
  /** The server restarts; while it is down, `change` happens to its database, then `posted` events are stored. */
  | { kind: 'restart'; change: 'none' | 'rollback' | 'delete'; lose: number; posted: PostedEvent[] };

export interface PostedEvent {
  source_app: string;
  session_id: string;
  hook_event_type: string;
  payload: Record<string, unknown>;
  /** Added to the server's clock: the real server keeps the sender's timestamp, in or out of order. */
  timestampOffsetMs: number;
}

const recordedFrames = readJsonLinesFixture<{ type: string; data: unknown }>('hooks-server', 'ws-frames.jsonl');
const reconnectFrame = JSON.parse(readFixture('hooks-server', 'ws-initial-frame-after-reconnect.json')) as { data: unknown[] };
const recordedEvents = [...recordedFrames.filter((f) => f.type === 'event').map((f) => f.data), ...reconnectFrame.data] as Record<string, unknown>[];
const recordedPayloads = recordedEvents.map((e) => e.payload);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A required string field as senders fill it: usually a recorded value, sometimes odd or very long. */
const fieldValue = (recorded: string[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...recorded) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  );

const distinct = (key: string) => [...new Set(recordedEvents.map((e) => String(e[key])))];

const payload: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 10, arbitrary: mutatedValue(recordedPayloads, 3).filter(isObject) },
  // A Stop event with an `--add-chat` transcript: past 64 KB the frame is read by the streaming reader.
  { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 300_000 }).map((n) => ({ hook_event_name: 'Stop', chat: [{ role: 'assistant', content: 'y'.repeat(n) }] })) },
);

export const postedEvent: fc.Arbitrary<PostedEvent> = fc.record({
  source_app: fieldValue(distinct('source_app')),
  session_id: fieldValue(distinct('session_id')),
  hook_event_type: fieldValue(distinct('hook_event_type')),
  payload,
  timestampOffsetMs: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -86_400_000, max: 60_000 }) }),
});

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', ']', ',', '"', '\ufffd', '\u0000')) }),
  fc.record({ kind: fc.constant('number-token' as const), at: fc.nat(), token: fc.constantFrom('1e400', '-1', '0', '1.5', '9007199254740993', '1e300') }),
  fc.record({ kind: fc.constant('duplicate-key' as const), at: fc.nat() }),
);

/**
 * What the protocol makes of a frame no server would send for a stored event: not JSON or
 * without a `type` → malformed; an `event` whose data is not a stored event with an id →
 * malformed; another type → ignored. Null for frames that are not garbage (an `initial` frame
 * starts a new replay, a valid event is an event): those are left to the other steps.
 */
export function garbageWorth(text: string): 0 | 1 | null {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 1;
  }
  if (!isObject(frame) || typeof frame.type !== 'string') return 1;
  if (frame.type === 'initial') return null;
  if (frame.type !== 'event') return 0;
  const parsed = parseHookEvent(frame.data);
  return parsed.ok && parsed.value.id !== undefined ? null : 1;
}

const rawText: fc.Arbitrary<{ text: string; made: string }> = fc.oneof(
  { weight: 6, arbitrary: mutatedValue(recordedFrames, 3).map((f) => ({ text: JSON.stringify(f) ?? 'null', made: 'mutated frame' })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...recordedFrames), fc.array(textMutation, { minLength: 1, maxLength: 3 }))
      .map(([f, m]) => ({ text: m.reduce(applyTextMutation, JSON.stringify(f)), made: 'damaged text' })),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('event'), data: hostileValue }).map((f) => ({ text: JSON.stringify(f) ?? 'null', made: 'event with hostile data' })) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null')).map((text) => ({ text, made: 'arbitrary' })) },
);

const rawStep: fc.Arbitrary<StreamStep> = rawText
  .map((raw) => ({ ...raw, worth: garbageWorth(raw.text) }))
  .filter((raw) => raw.worth !== null)
  .map(({ text, made, worth }) => ({ kind: 'raw' as const, text, made, malformed: worth! }));

export const streamStep: fc.Arbitrary<StreamStep> = fc.oneof(
  { weight: 10, arbitrary: postedEvent.map((event) => ({ kind: 'post' as const, event })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'respond' as const, pick })) },
  { weight: 6, arbitrary: rawStep },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('restart' as const),
      change: fc.constantFrom('none' as const, 'rollback' as const, 'delete' as const),
      lose: fc.integer({ min: 1, max: 5 }),
      posted: fc.array(postedEvent, { maxLength: 4 }),
    }),
  },
);
