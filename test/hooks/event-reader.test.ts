import { HookEventReader, readHookJson } from '../../src/sources/hooks/event-reader.js';
import { readFixture } from '../support/fixtures.js';

const FRAME_LINES = readFixture('hooks-server', 'ws-frames.jsonl').split('\n').filter((l) => l.trim() !== '');
const RECONNECT_INITIAL = readFixture('hooks-server', 'ws-initial-frame-after-reconnect.json');

/** What the bridge keeps of an event parsed whole: the counted fields, and of the payload its counted keys. */
function reduced(event: Record<string, unknown>): Record<string, unknown> {
  const keep = ['id', 'source_app', 'session_id', 'hook_event_type', 'timestamp'];
  const payloadKeys = ['tool_name', 'tool_use_id', 'duration_ms', 'notification_type', 'trigger', 'error', 'prompt_id'];
  const out: Record<string, unknown> = {};
  for (const key of keep) if (key in event) out[key] = event[key];
  const payload = event.payload as Record<string, unknown>;
  out.payload = Object.fromEntries(payloadKeys.filter((k) => k in payload).map((k) => [k, payload[k]]));
  return out;
}

/** Feeds `text` in pieces of `size` bytes, cutting multi-byte characters too. */
function readInPieces(text: string, size: number): { events: unknown[]; summary: ReturnType<HookEventReader['end']> } {
  const events: unknown[] = [];
  const reader = new HookEventReader((raw) => events.push(raw));
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) reader.write(bytes.subarray(at, at + size));
  return { events, summary: reader.end() };
}

describe('HookEventReader: the server JSON as a stream, events reduced to what is counted', () => {
  it('reads every recorded frame as JSON.parse would, minus the uncounted fields', () => {
    for (const line of FRAME_LINES) {
      const whole = JSON.parse(line) as { type: string; data: unknown };
      const events: unknown[] = [];
      const summary = readHookJson(line, (raw) => events.push(raw));
      expect(summary.frameType).toBe(whole.type);
      const expected = Array.isArray(whole.data) ? whole.data : [whole.data];
      expect(events).toEqual(expected.map((e) => reduced(e as Record<string, unknown>)));
    }
    const replay = JSON.parse(RECONNECT_INITIAL) as { data: Record<string, unknown>[] };
    const { events, summary } = readInPieces(RECONNECT_INITIAL, 7);
    expect(summary).toMatchObject({ root: 'frame', frameType: 'initial', data: 'array', events: replay.data.length });
    expect(events).toEqual(replay.data.map(reduced));
  });

  it('an answer of GET /events/recent: an array of events, cut anywhere, multi-byte text included', () => {
    const rows = [
      { id: 1, source_app: 'app-é', session_id: 's-😀', hook_event_type: 'Stop', payload: { stop_hook_active: false }, timestamp: 1, chat: [{ text: 'ünïcødé 😀'.repeat(500) }] },
      { id: 2, source_app: 'a', session_id: 's', hook_event_type: 'PreToolUse', payload: { tool_name: 'Bash', tool_input: { command: 'ls' } }, timestamp: 2, summary: 'x' },
    ];
    const text = JSON.stringify(rows);
    for (const size of [1, 3, 64, text.length]) {
      const { events, summary } = readInPieces(text, size);
      expect(summary).toMatchObject({ root: 'array', events: 2 });
      expect(events).toEqual(rows.map(reduced));
    }
  });

  it('never keeps the uncounted parts: a chat or a tool response is not in what is handed on', () => {
    const big = 'y'.repeat(1_000_000);
    const events: unknown[] = [];
    readHookJson(JSON.stringify([{ id: 7, source_app: 'a', session_id: 's', hook_event_type: 'PostToolUse', payload: { tool_name: 'Read', tool_response: big }, timestamp: 3, chat: [big] }]), (raw) =>
      events.push(raw),
    );
    expect(JSON.stringify(events).length).toBeLessThan(200);
  });

  it('hands on what is not an event as it is, so it is reported as malformed', () => {
    const events: unknown[] = [];
    const summary = readHookJson('[1, "x", [2], {"id": 3, "payload": "text", "chat": {"a": 1}}, null]', (raw) => events.push(raw));
    expect(summary.events).toBe(5);
    expect(events).toEqual([1, 'x', [], { id: 3, payload: 'text' }, null]);
    expect(readHookJson('{"type":"initial","data":"nope"}', () => undefined)).toMatchObject({ root: 'frame', frameType: 'initial', data: 'other', preview: '"nope"' });
    expect(readHookJson('{"data":[]}', () => undefined)).toMatchObject({ root: 'frame', data: 'array' });
    expect(readHookJson('{"type":"event","data":{"id":1,"payload":[1,2]}}', (raw) => events.push(raw))).toMatchObject({ frameType: 'event', data: 'object', events: 1 });
    expect(events.at(-1)).toEqual({ id: 1, payload: [] });
  });

  it('refuses what is not JSON, or stops short', () => {
    expect(() => readHookJson('not json', () => undefined)).toThrow();
    expect(() => readHookJson('[{"id": 1}', () => undefined)).toThrow();
    expect(() => readHookJson('', () => undefined)).toThrow();
  });
});
