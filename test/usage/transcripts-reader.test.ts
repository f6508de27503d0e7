import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../support/manual-clock.js';
import { assistantLine, compareWithCcusage, costMismatches, readerFor } from './support/transcripts.js';
import { INJECTED_NOW, TempDirs } from './support/usage.js';

const HOUR = 3_600_000;
const t0 = Math.floor(INJECTED_NOW / HOUR) * HOUR - 2 * HOUR;
const line = (id: string, minutes: number, extra: Parameters<typeof assistantLine>[0] = { at: 0 }) =>
  `${JSON.stringify(assistantLine({ ...extra, at: t0 + minutes * 60_000, id, req: `req-${id}` }))}\n`;

function totals(reader: ReturnType<typeof readerFor>['reader']) {
  const blocks = reader.blocks('ccusage');
  return { entries: blocks.reduce((n, b) => n + b.aggregate.entries, 0), input: blocks.reduce((n, b) => n + b.aggregate.tokens.input, 0) };
}

async function expectSameAsCcusage(reader: ReturnType<typeof readerFor>['reader'], root: string) {
  const report = await compareWithCcusage(reader, root);
  expect(report.blocks.mine).toEqual(report.blocks.theirs);
  expect(report.days.mine).toEqual(report.days.theirs);
  expect(costMismatches(report.costs)).toEqual([]);
}

/** Waits for a condition that an event (not a timer of ours) makes true; the deadline only turns a hang into a clear failure. */
async function eventually(condition: () => boolean, describe: () => string, deadlineMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`not seen within ${deadlineMs} ms: ${describe()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the incremental transcript reader', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  function folder(files: Record<string, string>) {
    const root = dirs.make();
    for (const [relative, text] of Object.entries(files)) {
      const file = path.join(root, 'projects', relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    return { root, file: (relative: string) => path.join(root, 'projects', relative) };
  }

  it('reads only appended bytes, and only complete lines: a line torn mid-write counts once it is whole', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) + line('b', 1) });
    const { reader } = readerFor(root);
    await reader.start();
    expect(totals(reader)).toEqual({ entries: 2, input: 20 });
    const before = Number(reader.status().bytes_read);
    const next = line('c', 2, { at: 0, input: 5 });
    appendFileSync(file('p/a.jsonl'), next.slice(0, 40));
    await reader.sweep();
    expect(totals(reader)).toEqual({ entries: 2, input: 20 });
    expect(reader.status().bytes_read).toBe(before); // the torn part is not consumed
    appendFileSync(file('p/a.jsonl'), next.slice(40));
    await reader.sweep();
    expect(totals(reader)).toEqual({ entries: 3, input: 25 });
    expect(reader.status().bytes_read).toBe(before + Buffer.byteLength(next));
    await expectSameAsCcusage(reader, root);
  });

  it('finds new files and new project folders on the sweep, which runs on the injected clock', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) });
    const clock = new ManualClock(INJECTED_NOW);
    const { reader } = readerFor(root, { clock, sweepIntervalMs: 20_000 });
    await reader.start();
    mkdirSync(path.dirname(file('q/sub/b.jsonl')), { recursive: true });
    writeFileSync(file('q/sub/b.jsonl'), line('b', 3) + line('c', 4));
    writeFileSync(file('p/d.jsonl'), line('d', 5));
    await reader.settled();
    expect(totals(reader).entries).toBe(1); // nothing watches: only the sweep may see them
    clock.advance(19_999);
    await reader.settled();
    expect(totals(reader).entries).toBe(1);
    clock.advance(1);
    await reader.settled();
    expect(totals(reader).entries).toBe(4);
    expect(reader.status()).toMatchObject({ files: 3 });
    await reader.stop();
  });

  it('a truncated, replaced (new inode) or rewritten file is read again from its start; a deleted one stops counting', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) + line('b', 1), 'p/b.jsonl': line('x', 2) + line('y', 3) + line('z', 4), 'p/c.jsonl': line('k', 5) });
    const { reader } = readerFor(root);
    await reader.start();
    expect(totals(reader).entries).toBe(6);

    writeFileSync(file('p/a.jsonl'), line('a2', 6)); // shorter
    await reader.sweep();
    expect(totals(reader).entries).toBe(5);

    const replacement = path.join(root, 'new.jsonl');
    writeFileSync(replacement, line('x2', 7) + line('y2', 8) + line('z2', 9, { at: 0, input: 99 }));
    renameSync(replacement, file('p/b.jsonl')); // rotated in: another inode
    await reader.sweep();
    expect(totals(reader)).toEqual({ entries: 5, input: 10 + 10 + 10 + 99 + 10 });

    const sameSize = line('k', 5).replace('"input_tokens":10', '"input_tokens":77');
    expect(Buffer.byteLength(sameSize)).toBe(statSync(file('p/c.jsonl')).size);
    writeFileSync(file('p/c.jsonl'), sameSize); // rewritten in place, same size: its first bytes differ
    await reader.sweep();
    expect(totals(reader).input).toBe(10 + 10 + 10 + 99 + 77);

    rmSync(file('p/c.jsonl'));
    await reader.sweep();
    expect(totals(reader).entries).toBe(4);
    await expectSameAsCcusage(reader, root);
  });

  it('a deleted transcript whose copy of a message had won over another file: the other copy counts again (one full read)', async () => {
    const copied = (session: string) => line('shared', 10, { at: 0, session });
    const { root, file } = folder({ 'p/aa.jsonl': copied('s1') + line('own', 11), 'p/zz.jsonl': copied('s2') });
    const { reader } = readerFor(root);
    await reader.start();
    expect(totals(reader).entries).toBe(2);
    rmSync(file('p/aa.jsonl'));
    await reader.sweep();
    expect(totals(reader).entries).toBe(1);
    expect(reader.status()).toMatchObject({ full_reads: 1 });
    await expectSameAsCcusage(reader, root);
  });

  it('copies of a message in two config folders: the folder listed first wins a tie, whatever the paths', async () => {
    const copied = (session: string) => line('shared', 10, { at: 0, session });
    const [low, high] = [folder({ 'p/a.jsonl': copied('s1') }), folder({ 'p/a.jsonl': copied('s2') })].sort((a, b) => (a.root < b.root ? -1 : 1));
    const configDir = `${high!.root},${low!.root}`;
    const { reader } = readerFor(configDir);
    await reader.start();
    expect(totals(reader).entries).toBe(1);
    // the winner's file going is what makes the reader read everything again
    rmSync(high!.file('p/a.jsonl'));
    await reader.sweep();
    expect(reader.status()).toMatchObject({ full_reads: 1 });
    expect(totals(reader).entries).toBe(1);
    await expectSameAsCcusage(reader, configDir);
  });

  it('a deleted transcript whose better copy had replaced one in a file read earlier: that copy counts again (one full read)', async () => {
    const { root, file } = folder({ 'p/aa.jsonl': line('shared', 10, { at: 0, session: 's1', input: 5 }), 'p/zz.jsonl': line('shared', 10, { at: 0, session: 's2', input: 50 }) + line('own', 11) });
    const { reader } = readerFor(root);
    await reader.start();
    expect(totals(reader)).toEqual({ entries: 2, input: 60 });
    rmSync(file('p/zz.jsonl'));
    await reader.sweep();
    expect(totals(reader)).toEqual({ entries: 1, input: 5 });
    expect(reader.status()).toMatchObject({ full_reads: 1 });
    await expectSameAsCcusage(reader, root);
  });

  it('token counts beyond 32 bits count exactly, also after a restart from the index', async () => {
    const { root } = folder({ 'p/a.jsonl': line('big', 0, { at: 0, input: 2 ** 33 + 1, cacheRead: 5_000_000_000 }) + line('small', 1) });
    const index = path.join(dirs.make('state-'), 'usage-transcripts.index');
    const clock = new ManualClock(INJECTED_NOW);
    const first = readerFor(root, { clock, indexFile: index }).reader;
    await first.start();
    expect(totals(first)).toEqual({ entries: 2, input: 2 ** 33 + 1 + 10 });
    const readBefore = first.status().bytes_read;
    await first.stop();
    const second = readerFor(root, { clock, indexFile: index }).reader;
    await second.start();
    expect(second.status()).toMatchObject({ index: { loaded: true }, bytes_read: readBefore }); // nothing read again
    expect(totals(second)).toEqual({ entries: 2, input: 2 ** 33 + 1 + 10 });
    await expectSameAsCcusage(second, root);
  });

  it('keeps its index in the state folder: a restart resumes from the offsets instead of reading everything again', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) + line('b', 1), 'p/b.jsonl': line('c', 2) });
    const index = path.join(dirs.make('state-'), 'usage-transcripts.index');
    const clock = new ManualClock(INJECTED_NOW);
    const first = readerFor(root, { clock, indexFile: index, flushDelayMs: 60_000 }).reader;
    await first.start();
    await first.stop();
    expect(existsSync(index)).toBe(true);
    const readBefore = Number(first.status().bytes_read);

    appendFileSync(file('p/a.jsonl'), line('d', 3));
    const second = readerFor(root, { clock, indexFile: index }).reader;
    await second.start();
    expect(second.status()).toMatchObject({ index: { loaded: true, problem: null }, files: 2 });
    expect(second.status().bytes_read).toBe(readBefore + Buffer.byteLength(line('d', 3))); // only the new line was read
    expect(totals(second).entries).toBe(4);
    await expectSameAsCcusage(second, root);
    await second.stop();
  });

  it('writes the index once after a burst of changes, on the injected clock, atomically', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) });
    const index = path.join(dirs.make('state-'), 'usage-transcripts.index');
    const clock = new ManualClock(INJECTED_NOW);
    const { reader } = readerFor(root, { clock, indexFile: index, flushDelayMs: 60_000, sweepIntervalMs: 3_600_000 });
    await reader.start();
    expect(existsSync(index)).toBe(false); // the first read is not written at once either
    for (const id of ['b', 'c', 'd']) {
      appendFileSync(file('p/a.jsonl'), line(id, 1));
      await reader.sweep();
    }
    clock.advance(59_999);
    await reader.settled();
    expect(existsSync(index)).toBe(false);
    clock.advance(1);
    await reader.settled();
    expect(existsSync(index)).toBe(true);
    const written = statSync(index).mtimeMs;
    await reader.settled();
    clock.advance(120_000); // nothing changed since: nothing to write
    await reader.settled();
    expect(statSync(index).mtimeMs).toBe(written);
    expect(reader.status()).toMatchObject({ index: { saved_at: new Date(INJECTED_NOW + 60_000).toISOString() } });
    await reader.stop();
  });

  it('a damaged or foreign index means one full read and a note in its status, never an error', async () => {
    const { root } = folder({ 'p/a.jsonl': line('a', 0) + line('b', 1) });
    const stateDir = dirs.make('state-');
    const index = path.join(stateDir, 'usage-transcripts.index');
    const first = readerFor(root, { indexFile: index }).reader;
    await first.start();
    await first.flush();
    const good = readFileSync(index);

    const cases: [string, Buffer][] = [
      ['garbage', Buffer.from('not an index at all')],
      ['cut short', good.subarray(0, good.length - 20)],
      ['one byte flipped', Buffer.from(good.map((byte, i) => (i === good.length - 30 ? byte ^ 0xff : byte)))],
    ];
    for (const [, bytes] of cases) {
      writeFileSync(index, bytes);
      const { reader } = readerFor(root, { indexFile: index });
      await reader.start();
      expect(reader.status()).toMatchObject({ index: { loaded: false, problem: expect.stringContaining('read every transcript again') } });
      expect(totals(reader).entries).toBe(2);
    }

    writeFileSync(index, good);
    const other = folder({ 'p/x.jsonl': line('x', 0) });
    const { reader } = readerFor(other.root, { indexFile: index });
    await reader.start();
    expect(reader.status()).toMatchObject({ index: { loaded: false, problem: expect.stringContaining('other transcript folders') } });
    expect(totals(reader).entries).toBe(1);
  });

  it('reads every folder of a comma-separated CLAUDE_CONFIG_DIR', async () => {
    const one = folder({ 'p/a.jsonl': line('a', 0) });
    const two = folder({ 'p/b.jsonl': line('b', 1) });
    const { reader } = readerFor(`${one.root}, ${two.root}`);
    await reader.start();
    expect(totals(reader).entries).toBe(2);
    expect(reader.status()).toMatchObject({ project_dirs: [path.join(one.root, 'projects'), path.join(two.root, 'projects')] });
  });

  it('while a session writes without pause, bursts are read at most every 500 ms (on the clock)', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) });
    let changes = 0;
    const clock = new ManualClock(INJECTED_NOW);
    const { reader } = readerFor(root, { clock, watch: true, sweepIntervalMs: 3_600_000, onChange: () => changes++ });
    await reader.start();
    const timers = clock.pendingTimers();
    const burst = async (id: string, n: number) => {
      appendFileSync(file('p/a.jsonl'), line(id, n));
      await eventually(
        () => clock.pendingTimers() > timers,
        () => `timers ${clock.pendingTimers()}, status ${JSON.stringify(reader.status())}`,
      );
    };
    const readsDone = (count: number) =>
      eventually(
        () => changes === count,
        () => `status ${JSON.stringify(reader.status())}`,
      );
    await burst('b', 1);
    clock.advance(200);
    await readsDone(1);
    expect(totals(reader).entries).toBe(2);
    // the next burst (at the same clock time): its read waits until 500 ms after the previous one began
    await burst('c', 2);
    clock.advance(200);
    await reader.settled();
    expect(totals(reader).entries).toBe(2);
    clock.advance(299);
    await reader.settled();
    expect(totals(reader).entries).toBe(2);
    clock.advance(1);
    await readsDone(2);
    expect(totals(reader).entries).toBe(3);
    // after a pause, a burst is read 200 ms after it began again
    clock.advance(1_000);
    await burst('d', 3);
    clock.advance(200);
    await readsDone(3);
    expect(totals(reader).entries).toBe(4);
    await reader.stop();
  });

  it('notices an append through file-system notifications, without waiting for the sweep; a burst is read once, 200 ms (on the clock) after it began', async () => {
    const { root, file } = folder({ 'p/a.jsonl': line('a', 0) });
    let changes = 0;
    const clock = new ManualClock(INJECTED_NOW);
    const { reader } = readerFor(root, { clock, watch: true, sweepIntervalMs: 3_600_000, onChange: () => changes++ });
    await reader.start();
    appendFileSync(file('p/a.jsonl'), line('b', 1));
    appendFileSync(file('p/a.jsonl'), line('c', 1));
    // the notification arms the settle timer; nothing is read before it fires
    await eventually(
      () => clock.pendingTimers() > 1,
      () => `timers ${clock.pendingTimers()}, status ${JSON.stringify(reader.status())}`,
    );
    await reader.settled();
    expect(totals(reader).entries).toBe(1);
    clock.advance(200);
    await eventually(
      () => changes > 0,
      () => `status ${JSON.stringify(reader.status())}`,
    );
    expect(totals(reader).entries).toBe(3);
    expect(changes).toBe(1);
    mkdirSync(path.dirname(file('q/new.jsonl')), { recursive: true });
    writeFileSync(file('q/new.jsonl'), line('d', 2));
    await eventually(
      () => {
        clock.advance(50);
        return totals(reader).entries === 4;
      },
      () => `entries ${totals(reader).entries}, status ${JSON.stringify(reader.status())}`,
    );

    // rewritten in place (same inode) and already longer than what was read: a notification does
    // not make it an append, its first bytes tell it apart
    writeFileSync(file('p/a.jsonl'), line('e', 3, { at: 0, input: 50 }) + line('f', 4) + line('g', 5) + line('h', 6));
    await eventually(
      () => {
        clock.advance(50);
        return totals(reader).entries === 5;
      },
      () => `entries ${totals(reader).entries}, status ${JSON.stringify(reader.status())}`,
    );
    expect(totals(reader)).toEqual({ entries: 5, input: 10 + 50 + 10 + 10 + 10 });
    expect(reader.status()).toMatchObject({ skipped_malformed: 0, skipped_invalid: 0 });
    await reader.stop();
  });
});

