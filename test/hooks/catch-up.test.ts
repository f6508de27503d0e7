import { EventWindow, judge, nextWindowLimit, type ServerEvent } from '../../src/sources/hooks/catch-up.js';
import { EventMemory } from '../../src/sources/hooks/event-memory.js';

/** Event `id` stamped `id` seconds in, of content `version` (another version = another event under the same id). */
function event(id: number, version = 'a', time = id * 1000): ServerEvent {
  return { id, fingerprint: `${version}${id}`, time, type: 'Stop', sourceApp: 'app', sessionId: 's' };
}

function memoryOf(ids: number[]): EventMemory {
  const memory = new EventMemory(1000, 64);
  for (const id of ids) memory.accept(event(id));
  return memory;
}

function windowOf(memory: EventMemory, limit: number, events: ServerEvent[]): EventWindow {
  const window = new EventWindow(memory, limit);
  for (const e of [...events].sort((a, b) => (a.time ?? 0) - (b.time ?? 0))) window.add(e);
  return window;
}

const range = (from: number, to: number, version = 'a') => Array.from({ length: to - from + 1 }, (_, i) => event(from + i, version));

describe('judging a window of the server against what was counted', () => {
  const counted = () => memoryOf(range(1, 30).map((e) => e.id));

  it('in step: the cursor is there unchanged; only newer events are new', () => {
    const memory = counted();
    const window = windowOf(memory, 300, [...range(1, 30), ...range(31, 35)]);
    expect(judge(window, memory, false)).toEqual({ kind: 'in-step' });
    expect(window.unknownEvents().map((e) => e.id)).toEqual([31, 32, 33, 34, 35]);
  });

  it('a rollback: the newest rows lost, their ids handed out again; the newest intact one is the anchor', () => {
    const memory = counted();
    const window = windowOf(memory, 300, [...range(1, 27), ...range(28, 33, 'b')]);
    expect(judge(window, memory, false)).toEqual({ kind: 'rollback', from: 28, anchor: 27 });
    expect(window.unknownEvents().map((e) => e.id)).toEqual([28, 29, 30, 31, 32, 33]);
  });

  it('a rollback with fewer new rows than lost ones: the missing cursor counts as lost only where the window reaches', () => {
    const memory = counted();
    expect(judge(windowOf(memory, 300, range(1, 25)), memory, false)).toEqual({ kind: 'rollback', from: 26, anchor: 25 });
  });

  it('a reset: nothing remembered is there any more (a whole new table)', () => {
    const memory = counted();
    expect(judge(windowOf(memory, 300, range(1, 40, 'new')), memory, false)).toEqual({ kind: 'reset' });
  });

  it('grows while the window does not reach the cursor; at the cap it takes the safe side', () => {
    const memory = counted();
    const newer = Array.from({ length: 300 }, (_, i) => event(31 + i));
    const window = windowOf(memory, 300, newer); // full, and older than all of it is out of reach
    expect(judge(window, memory, false)).toEqual({ kind: 'grow' });
    expect(judge(window, memory, true)).toEqual({ kind: 'in-step' }); // nothing shown replaced: counted stays counted
  });

  it('at the cap after some lost: a rollback from the lowest shown lost, the rest counted as before', () => {
    const memory = counted();
    // The window reaches back to id 28's time: 28..30 are there replaced, 27 and older are out of reach.
    const replaced = [event(28, 'b', 28_000), event(29, 'b', 29_000), event(30, 'b', 30_000)];
    const window = windowOf(memory, 3, replaced);
    expect(judge(window, memory, false)).toEqual({ kind: 'grow' });
    expect(judge(window, memory, true)).toEqual({ kind: 'rollback', from: 28, anchor: 0 });
  });

  it('nothing counted yet (an empty table at the baseline): every event is new once the whole table is read', () => {
    const memory = new EventMemory(1000, 64);
    expect(judge(windowOf(memory, 300, range(1, 300)), memory, false)).toEqual({ kind: 'grow' });
    expect(judge(windowOf(memory, 1200, range(1, 301)), memory, false)).toEqual({ kind: 'empty' });
  });

  it('windows grow by 4 up to the cap', () => {
    expect([300, 1200, 4800, 19200, 50_000].map((n) => nextWindowLimit(n, 50_000))).toEqual([1200, 4800, 19200, 50_000, null]);
  });
});
