import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoPath } from '../support/binaries.js';
import { ManualClock } from '../support/manual-clock.js';
import { assistantLine, compareWithCcusage, costMismatches, readerFor, writeTranscripts } from './support/transcripts.js';
import { claudeConfigCopy, INJECTED_NOW, TempDirs } from './support/usage.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function expectSameAsCcusage(configDir: string, timeZone: string, reader = readerFor(configDir, { timeZone }).reader) {
  const report = await compareWithCcusage(reader, configDir, timeZone);
  expect(report.blocks.mine).toEqual(report.blocks.theirs);
  expect(report.days.mine).toEqual(report.days.theirs);
  expect(costMismatches(report.costs)).toEqual([]);
  return report;
}

/** Every rule of ccusage's reading, one case each, relative to the injected now. */
function edgeCases(root: string): string {
  const t = Math.floor((INJECTED_NOW - 20 * DAY) / HOUR) * HOUR;
  const line = assistantLine;
  return writeTranscripts(root, {
    'p-a/dedupe.jsonl': [
      // written once per content block: the copy with more tokens counts, at its own time
      line({ at: t, id: 'grow', req: 'r1', output: 5 }),
      line({ at: t + 1000, id: 'grow', req: 'r1', output: 500 }),
      line({ at: t + 2000, id: 'shrink', req: 'r2', output: 500 }),
      line({ at: t + 3000, id: 'shrink', req: 'r2', output: 5 }),
      // equal copies: the first read wins; one that records its speed wins a tie
      line({ at: t + 4000, id: 'tie', req: 'r3' }),
      line({ at: t + 5000, id: 'tie', req: 'r3', usage: { speed: 'standard' } }),
      // the copy outside a side chain wins, even with fewer tokens
      line({ at: t + 6000, id: 'side', req: 'r4', output: 900, extra: { isSidechain: true } }),
      line({ at: t + 7000, id: 'side', req: 'r4', output: 9 }),
      // a /btw side question replays a message under a new request id (same time: both reports merge it;
      // another time: only the daily report does)
      line({ at: t + 8000, id: 'btw', req: 'r5' }),
      line({ at: t + 8000, id: 'btw', req: 'r6', extra: { isSidechain: true } }),
      line({ at: t + 9000, id: 'btw2', req: 'r7' }),
      line({ at: t + 12000, id: 'btw2', req: 'r8', extra: { isSidechain: true } }),
      // no request id: blocks merge per session, the daily report only at the same time
      line({ at: t + 13000, id: 'noreq' }),
      line({ at: t + 14000, id: 'noreq' }),
      line({ at: t + 15000, id: 'noreq-same', session: 'other' }),
      line({ at: t + 15000, id: 'noreq-same', session: 'other' }),
      // no message id: never merged
      line({ at: t + 16000, req: 'r9' }),
      line({ at: t + 16000, req: 'r9' }),
    ],
    'p-a/zz-copy.jsonl': [
      // a resumed session's copy in another file, another session: merged
      line({ at: t + 4000, id: 'tie', req: 'r3', session: 's2' }),
      line({ at: t + 20000, id: 'copy', req: 'c1', session: 's2' }),
    ],
    'p-a/aa-first.jsonl': [
      // the same message in a file read earlier (path order), a different time: that one is kept
      line({ at: t + 25000, id: 'copy', req: 'c1', session: 's3' }),
    ],
    'p-b/skipped.jsonl': [
      line({ at: t + 2 * HOUR, id: 'null-req', req: null }),
      line({ at: t + 2 * HOUR, id: 'null-in-tool', req: 'n1', message: { content: [{ type: 'tool_use', input: { id: null } }] } }),
      line({ at: t + 2 * HOUR, id: 'null-in-text', req: 'n2', message: { content: [{ type: 'text', text: 'a "model":null b' }] } }),
      line({ at: t + 2 * HOUR, id: 'bad-version', req: 'n3', extra: { version: 'abc' } }),
      line({ at: t + 2 * HOUR, id: 'short-version', req: 'n4', extra: { version: '2.1' } }),
      line({ at: t + 2 * HOUR, id: 'float', req: 'n5', input: 1.5 }),
      line({ at: t + 2 * HOUR, id: 'negative', req: 'n6', input: -3 }),
      line({ at: t + 2 * HOUR, id: 'speed', req: 'n7', usage: { speed: 'turbo' } }),
      line({ at: t + 2 * HOUR, id: 'empty-model', req: 'n8', model: '' }),
      line({ at: t + 2 * HOUR, id: 'model-number', req: 'n9', message: { model: 5 } }),
      line({ at: t + 2 * HOUR, id: 'sidechain-text', req: 'n10', extra: { isSidechain: 'yes' } }),
      line({ at: t + 2 * HOUR, id: 'sidechain-null', req: 'n11', extra: { isSidechain: null } }),
      line({ at: t + 2 * HOUR, id: 'cache-split-null', req: 'n12', usage: { cache_creation: null } }),
      line({ at: '2026-11-25T10:00:00', id: 'no-zone', req: 'n13' }),
      line({ at: '2026-11-25T10:00:00.123456Z', id: 'nanos', req: 'n14' }),
      line({ at: '2026-11-25 10:00:00Z', id: 'space', req: 'n15' }),
      line({ at: new Date(t + 2 * HOUR).toISOString().replace('Z', '+00:00'), id: 'offset', req: 'n16' }),
      line({ at: new Date(t + 2 * HOUR + 5.5 * HOUR).toISOString().slice(0, 19) + '+05:30', id: 'offset2', req: 'n17' }),
      tornAfterUsage(line({ at: t + 2 * HOUR, id: 'torn', req: 'n18' })),
      '{"usage":{ not json',
      `  ${JSON.stringify(line({ at: t + 2 * HOUR, id: 'leading-space', req: 'n19' }))}`,
      `${JSON.stringify(line({ at: t + 2 * HOUR, id: 'crlf', req: 'n20' }))}\r`,
      JSON.stringify(line({ at: t + 2 * HOUR, id: 'spaced-marker', req: 'n21' })).replace('"usage":{', '"usage": {'),
      { type: 'assistant', timestamp: new Date(t + 2 * HOUR).toISOString(), message: { id: 'no-output', usage: { input_tokens: 5 } } },
      { type: 'user', timestamp: new Date(t + 2 * HOUR).toISOString(), message: { id: 'typed-user', model: 'claude-haiku-4-5-20251001', usage: { input_tokens: 7, output_tokens: 1 } } },
      { timestamp: new Date(t + 2 * HOUR).toISOString(), message: { usage: { input_tokens: 3, output_tokens: 4 } } },
    ],
    'p-c/prices.jsonl': [
      line({ at: t + 30 * HOUR, id: 'p1', req: 'q1', model: 'claude-opus-4-1-20250805', input: 1200, output: 4000, cacheWrite: 3000, cacheRead: 90000 }),
      line({ at: t + 30 * HOUR, id: 'p2', req: 'q2', cacheRead: 350_000, input: 250_000, output: 3000, cacheWrite: 210_000 }),
      line({ at: t + 30 * HOUR, id: 'p3', req: 'q3', usage: { cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 300_000 } } }),
      line({ at: t + 30 * HOUR, id: 'p4', req: 'q4', model: 'claude-opus-4-6', input: 5000, usage: { speed: 'fast' } }),
      line({ at: t + 30 * HOUR, id: 'p5', req: 'q5', model: 'claude-sonnet-4-7-preview', input: 5000 }),
      line({ at: t + 30 * HOUR, id: 'p6', req: 'q6', model: null, input: 5000 }),
      line({ at: t + 30 * HOUR, id: 'p7', req: 'q7', extra: { costUSD: 1.25 } }),
      line({ at: t + 30 * HOUR, id: 'p8', req: 'q8', model: 'claude-sonnet-4-5-20250929[1m]', input: 300_000 }),
      line({ at: t + 30 * HOUR, id: 'p9', req: 'q9', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', input: 3000 }),
      line({
        at: t + 30 * HOUR,
        id: 'p10',
        req: 'q10',
        usage: {
          iterations: [
            { type: 'message', model: null, input_tokens: 10, output_tokens: 20 },
            { type: 'advisor_message', model: 'claude-opus-4-1-20250805', input_tokens: 100, output_tokens: 200 },
          ],
        },
      }),
      line({ at: t + 30 * HOUR, id: 'p11', req: 'q11', model: '<synthetic>', input: 0, output: 0, extra: { isApiErrorMessage: true }, message: { content: [{ type: 'text', text: `Claude AI usage limit reached|${(t + 33 * HOUR) / 1000}` }] } }),
      line({ at: t + 30 * HOUR + 60_000, id: 'p12', req: 'q12', model: '<synthetic>', input: 0, output: 0, extra: { isApiErrorMessage: true }, message: { content: [{ type: 'text', text: `Claude AI usage limit reached|${(t + 32 * HOUR) / 1000}` }] } }),
      line({ at: t + 30 * HOUR, id: 'p13', req: 'q13', model: '<synthetic>', input: 0, output: 0, extra: { isApiErrorMessage: 'x' } }),
    ],
    'p-c/sess-1/subagents/agent-1.jsonl': [line({ at: t + 31 * HOUR, id: 'sub1', req: 'u1', extra: { isSidechain: true } })],
    'p-c/sess-1.jsonl': [
      // a subagent's message nested in a progress line: daily counts it (once, with the file's copy)
      { type: 'progress', sessionId: 's1', timestamp: new Date(t + 31 * HOUR).toISOString(), data: { message: { timestamp: new Date(t + 31 * HOUR).toISOString(), requestId: 'u1', isSidechain: true, message: { id: 'sub1', model: 'claude-sonnet-4-5-20250929', usage: { input_tokens: 10, output_tokens: 20 } } } } },
      { type: 'progress', sessionId: 's1', timestamp: new Date(t + 31 * HOUR).toISOString(), data: { message: { timestamp: new Date(t + 31 * HOUR + 5000).toISOString(), requestId: 'u2', message: { id: 'sub2', model: 'claude-haiku-4-5-20251001', usage: { input_tokens: 40, output_tokens: 50 } } } } },
    ],
    'p-d/boundaries.jsonl': [
      // an entry at exactly start + 5 h stays in the block; one millisecond later starts the next
      line({ at: t + 40 * HOUR, id: 'b1', req: 'b1' }),
      line({ at: t + 44 * HOUR, id: 'b2', req: 'b2' }),
      line({ at: t + 45 * HOUR, id: 'b3', req: 'b3' }),
      line({ at: t + 45 * HOUR + 1, id: 'b4', req: 'b4' }),
      // a gap of exactly 5 h, and of 5 h + 1 ms
      line({ at: t + 60 * HOUR, id: 'g1', req: 'g1' }),
      line({ at: t + 65 * HOUR, id: 'g2', req: 'g2' }),
      line({ at: t + 70 * HOUR + 30 * 60_000, id: 'g3', req: 'g3' }),
      line({ at: t + 75 * HOUR + 30 * 60_000 + 1, id: 'g4', req: 'g4' }),
      // around midnight in the report zones
      line({ at: Math.floor(t / DAY) * DAY + 5 * DAY - 1, id: 'm1', req: 'm1' }),
      line({ at: Math.floor(t / DAY) * DAY + 5 * DAY, id: 'm2', req: 'm2' }),
    ],
    'top-level.jsonl': [line({ at: t + 80 * HOUR, id: 'top', req: 't1' })],
  });
}

describe('the transcript reader counts what ccusage 20.0.24 counts (the real binary, side by side)', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('fixtures/claude-projects, moved to an injected now: every block and day', async () => {
    const root = claudeConfigCopy(dirs.make(), 'claude-projects/-home-user-demo', '-home-user-demo', Math.floor((INJECTED_NOW - Date.parse('2026-11-25T16:08:18Z')) / HOUR) * HOUR);
    const report = await expectSameAsCcusage(root, 'UTC');
    expect(report.blocks.mine).toHaveLength(2);
    await expectSameAsCcusage(root, 'Pacific/Auckland');
  });

  it('one case per rule (de-duplication, skipped lines, timestamps, prices, progress lines, block edges): every block and day, in three zones', async () => {
    const root = edgeCases(dirs.make());
    for (const zone of ['UTC', 'Asia/Kathmandu', 'America/Los_Angeles']) await expectSameAsCcusage(root, zone);
    const { reader } = readerFor(root);
    await reader.start();
    expect(reader.status()).toMatchObject({
      skipped_malformed: 2,
      skipped_null_field: 2,
      skipped_timestamp: 3,
      skipped_invalid: 3,
      synthetic_entries: 3,
      unpriced_models: { 'claude-sonnet-4-7-preview': 1 },
    });
  });

  it('a generated four-month history (bench/usage-history.mjs): every block and day, in two zones', async () => {
    const root = generated(dirs.make(), 12, 120);
    const report = await expectSameAsCcusage(root, 'UTC');
    expect(report.blocks.mine.length).toBeGreaterThan(20);
    await expectSameAsCcusage(root, 'America/New_York');
  }, 120_000);

  it('the same history read by worker threads (as a large first read is): the same figures', async () => {
    const root = generated(dirs.make(), 4, 45, 9);
    const worker = repoPath('dist', 'sources', 'usage', 'transcripts', 'read-worker.js');
    expect(existsSync(worker)).toBe(true); // npm test builds dist/ first
    const { reader } = readerFor(root, { workers: 2, workerScript: worker, workerMinBytes: 0 });
    await expectSameAsCcusage(root, 'UTC', reader);
    expect(reader.status().files_read_by_workers).toBe(reader.status().files);
    expect(reader.status().entries_counted).toBeGreaterThan(1000);
  }, 120_000);

  it('a large first read made by an index-builder process, its index loaded: the same figures', async () => {
    const root = generated(dirs.make(), 3, 30, 12);
    const dist = (name: string) => repoPath('dist', 'sources', 'usage', 'transcripts', name);
    const { reader } = readerFor(root, { workers: 2, workerScript: dist('read-worker.js'), workerMinBytes: 0, indexBuilder: dist('index-builder.js'), indexBuilderMinBytes: 0 });
    await expectSameAsCcusage(root, 'UTC', reader);
    const status = reader.status() as { first_reads_by_builder: number; files_read_by_workers: number; files: number; index: { file: string | null; loaded: boolean } };
    expect(status).toMatchObject({ first_reads_by_builder: 1, files_read_by_workers: status.files, index: { file: null, loaded: true } });
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('claude-bridge-index-'))).toEqual([]);
  }, 120_000);

  it('an index-builder process that dies: the bridge makes the first read itself, with the same figures', async () => {
    const root = generated(dirs.make(), 3, 30, 13);
    const dying = path.join(dirs.make('dying-'), 'dying-builder.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    const { reader } = readerFor(root, { workers: 2, workerMinBytes: 0, indexBuilder: dying, indexBuilderMinBytes: 0 });
    await expectSameAsCcusage(root, 'UTC', reader);
    expect(reader.status()).toMatchObject({ first_reads_by_builder: 0, last_error: null });
  }, 120_000);

  it('worker threads that die: the reader reads their files itself, with the same figures', async () => {
    const root = generated(dirs.make(), 3, 30, 10);
    const dying = path.join(dirs.make('dying-'), 'dying-worker.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    const { reader } = readerFor(root, { workers: 2, workerScript: dying, workerMinBytes: 0 });
    await expectSameAsCcusage(root, 'UTC', reader);
    expect(reader.status().files_read_by_workers).toBe(0);
    expect(reader.status().entries_counted).toBeGreaterThan(500);
    expect(reader.status().last_error).toBeNull();
  }, 120_000);

  it('the same history fed in slices (lines torn mid-write), with a restart from the index half-way: the same figures', async () => {
    const source = generated(dirs.make(), 6, 60, 11);
    const target = dirs.make();
    const index = path.join(dirs.make('state-'), 'usage-transcripts.index');
    const files = transcriptFiles(path.join(source, 'projects'));
    const clock = new ManualClock(INJECTED_NOW);
    let { reader } = readerFor(target, { clock, indexFile: index });
    await reader.start();
    const slices = 5;
    for (let slice = 1; slice <= slices; slice++) {
      for (const file of files) {
        const bytes = readFileSync(file);
        const relative = path.relative(source, file);
        const into = path.join(target, relative);
        mkdirSync(path.dirname(into), { recursive: true });
        const written = slice === 1 ? 0 : statSync(into, { throwIfNoEntry: false })?.size ?? 0;
        // cut anywhere, mid-line too: only complete lines may count
        const upTo = slice === slices ? bytes.length : Math.floor((bytes.length * slice) / slices) + 7;
        if (slice === 1) writeFileSync(into, bytes.subarray(0, upTo));
        else if (upTo > written) appendFileSync(into, bytes.subarray(written, upTo));
      }
      await reader.sweep();
      if (slice === 3) {
        await reader.stop();
        ({ reader } = readerFor(target, { clock, indexFile: index }));
        await reader.start();
        expect(reader.status()).toMatchObject({ index: { loaded: true, problem: null } });
      }
    }
    await expectSameAsCcusage(target, 'UTC', reader);
    await reader.stop();
  }, 120_000);
});

/** A line cut short by a crash after its usage began: ccusage sees the marker, cannot parse the line. */
function tornAfterUsage(entry: object): string {
  const text = JSON.stringify(entry);
  return text.slice(0, text.indexOf('"usage":{') + 20);
}

function generated(root: string, megabytes: number, days: number, seed = 5): string {
  execFileSync(process.execPath, [repoPath('bench', 'usage-history.mjs'), root, String(megabytes), '--days', String(days), '--now', new Date(INJECTED_NOW).toISOString(), '--seed', String(seed)]);
  return root;
}

function transcriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(e.parentPath, e.name));
}
