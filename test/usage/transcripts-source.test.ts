import { appendFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { inputOutputTokens } from '../../src/sources/usage/types.js';
import { TranscriptSource } from '../../src/sources/usage/transcripts/source.js';
import { testConfig } from '../support/config.js';
import { assistantLine, readerFor, writeTranscripts } from './support/transcripts.js';
import { INJECTED_NOW, TempDirs } from './support/usage.js';

const HOUR = 3_600_000;
const start = Math.floor(INJECTED_NOW / HOUR) * HOUR - 30 * HOUR;
const entry = (id: string, hours: number, output = 20) => assistantLine({ id, req: `req-${id}`, at: start + hours * HOUR, output });

describe('the transcripts usage source', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it("derives the completed blocks' tokens again only where the reader's blocks changed, and always as a full derivation would", async () => {
    // four claude-monitor blocks (a gap of 5 h or more starts the next), all ended by hour 27
    const root = writeTranscripts(dirs.make(), {
      'p/a.jsonl': [entry('a1', 0), entry('a2', 1), entry('a3', 6)],
      'p/b.jsonl': [entry('b1', 12), entry('b2', 18, 300)],
    });
    const { reader, clock } = readerFor(root);
    const at = async (instant: number) => {
      clock.advance(instant - clock.now());
      await reader.settled(); // the sweeps the clock passed
    };
    await at(start + 27 * HOUR);
    const source = new TranscriptSource(reader, testConfig().usage, () => clock.now());
    const fullDerivation = () =>
      reader
        .blocks('claude-monitor')
        .filter((block) => block.end <= clock.now())
        .map((block) => inputOutputTokens(block.aggregate.tokens));
    const expectFull = async () => {
      const { completedBlockTokens } = await source.poll();
      expect(completedBlockTokens).toEqual(fullDerivation());
      return completedBlockTokens;
    };

    const first = await expectFull();
    expect(first).toEqual([30 + 30, 30, 30, 310]);
    expect(await expectFull()).toBe(first); // nothing changed: the same list

    appendFileSync(path.join(root, 'projects', 'p/b.jsonl'), `${JSON.stringify(entry('b3', 19))}\n`);
    await reader.sweep();
    expect(await expectFull()).toEqual([60, 30, 30, 340]); // the block that grew is derived again

    appendFileSync(path.join(root, 'projects', 'p/a.jsonl'), `${JSON.stringify(entry('a4', 25, 0))}\n`);
    await reader.sweep();
    expect(await expectFull()).toEqual([60, 30, 30, 340]); // the block of hour 25 is active until hour 30
    await at(start + 30 * HOUR - 1);
    expect(await expectFull()).toEqual([60, 30, 30, 340]);
    await at(start + 30 * HOUR);
    expect(await expectFull()).toEqual([60, 30, 30, 340, 10]);

    rmSync(path.join(root, 'projects', 'p/b.jsonl')); // blocks in the middle are gone
    await reader.sweep();
    expect(await expectFull()).toEqual([60, 30, 10]);
    await source.stop();
  });

  it("reads the reader's counters for /health when asked, not at each poll", async () => {
    const root = writeTranscripts(dirs.make(), { 'p/a.jsonl': [entry('a1', 0)] });
    const { reader, clock } = readerFor(root);
    const source = new TranscriptSource(reader, testConfig().usage, () => clock.now());
    const snapshot = await source.poll();
    expect(snapshot.details).toEqual({ block_rule: 'ccusage' });
    expect(snapshot.liveDetails?.()).toMatchObject({ files: 1, entries_counted: 1 });
    appendFileSync(path.join(root, 'projects', 'p/a.jsonl'), `${JSON.stringify(entry('a2', 1))}\n`);
    await reader.sweep();
    expect(snapshot.liveDetails?.()).toMatchObject({ entries_counted: 2 }); // the same function, read later
    await source.stop();
  });
});
