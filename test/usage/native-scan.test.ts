import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EntryBatch, type EncodedBatch } from '../../src/sources/usage/transcripts/batch.js';
import type { TrackedFile } from '../../src/sources/usage/transcripts/files.js';
import { nativeScanner, nativeScanStatus, ROW, type NativeScanner } from '../../src/sources/usage/transcripts/native-scan.js';
import { scanAppended, zeroScanCounters, type ScanCounters } from '../../src/sources/usage/transcripts/scan.js';
import { repoPath } from '../support/binaries.js';
import { fixturePath } from '../support/fixtures.js';
import { assistantLine } from './support/transcripts.js';
import { INJECTED_NOW, TempDirs } from './support/usage.js';
import { seededRandom } from '../support/random.js';

/*
 * The native scanner (native/usage-scan.c) may only read a line the way line.ts would, and must
 * leave to line.ts every line it is not sure of. Each corpus is read twice, once with the scanner
 * and once without, and the entries (every column), offsets and counters must be equal.
 */

const scanner = nativeScanner();
if (!scanner && process.env.CI) throw new Error(`the native line scanner must be built in CI (npm run build): ${nativeScanStatus()}`);
const describeNative = scanner ? describe : describe.skip;

interface Read {
  counters: ScanCounters;
  batch: EncodedBatch;
}

async function readWith(file: string, with_: NativeScanner | null): Promise<Read> {
  const tracked: TrackedFile = { id: 1, path: file, root: 0, session: 'file-session', project: 'p', dev: 0, ino: 0, offset: 0, mtimeMs: 0, head: 0, headLength: 0 };
  const counters = zeroScanCounters();
  const batch = new EntryBatch();
  const outcome = await scanAppended(tracked, counters, batch, { scanner: with_ });
  expect(outcome?.bytes).toBe(statSync(file).size);
  return { counters, batch: batch.encode() };
}

/** The first entry where the two reads differ, with the line it came from, or null. */
function firstDifference(text: string, native: Read, js: Read): string | null {
  const n = Math.max(native.batch.length, js.batch.length);
  const show = (read: Read, i: number) =>
    i >= read.batch.length
      ? 'nothing'
      : JSON.stringify({
          ...Object.fromEntries(Object.entries(read.batch.floats).map(([name, column]) => [name, column[i]])),
          session: read.batch.sessions[read.batch.session[i]!] ?? null,
          model: read.batch.models[read.batch.model[i]!] ?? null,
          flags: read.batch.flags[i],
        });
  for (let i = 0; i < n; i++) {
    if (show(native, i) === show(js, i)) continue;
    const offset = Math.min(native.batch.floats.offset[i] ?? Infinity, js.batch.floats.offset[i] ?? Infinity);
    const line = Buffer.from(text).subarray(offset).toString().split('\n')[0]!;
    return `entry ${i}\n  native: ${show(native, i)}\n  js:     ${show(js, i)}\n  line:   ${line.slice(0, 2000)}`;
  }
  return null;
}

async function expectSameReads(file: string): Promise<ScanCounters> {
  const native = await readWith(file, scanner);
  const js = await readWith(file, null);
  expect(firstDifference(readFileSync(file, 'utf8'), native, js)).toBeNull();
  expect({ ...native.counters, usage_lines_native: 0 }).toEqual(js.counters);
  expect(js.counters.usage_lines_native).toBe(0);
  return native.counters;
}

const AT = INJECTED_NOW - 3 * 3_600_000;

function progressLine(inner: Record<string, unknown>): Record<string, unknown> {
  return { type: 'progress', sessionId: 's1', timestamp: new Date(AT).toISOString(), data: { type: 'agent_progress', message: inner } };
}

/** Where in a line the rules look, and values of every kind to put there. */
const PATHS = [
  'timestamp',
  'sessionId',
  'version',
  'requestId',
  'costUSD',
  'isSidechain',
  'isApiErrorMessage',
  'message',
  'message.id',
  'message.model',
  'message.usage',
  'message.usage.input_tokens',
  'message.usage.output_tokens',
  'message.usage.cache_creation_input_tokens',
  'message.usage.cache_read_input_tokens',
  'message.usage.speed',
  'message.usage.cache_creation',
  'message.usage.cache_creation.ephemeral_5m_input_tokens',
  'message.usage.cache_creation.ephemeral_1h_input_tokens',
  'message.usage.iterations',
  'data',
];
const ABSENT = Symbol('absent');
const VALUES: unknown[] = [
  ABSENT, null, '', 'x', 'é-ü', 'a"b', 'tab\there', 0, 7, 1.5, -3, 1e3, 123456789012345, 1234567890123456, 2 ** 64, true, false, {}, [], [1],
  'standard', 'fast', 'turbo', '2.1.197', '1.0', 'v2.1.0', '10.20.3x',
  '2026-11-25T10:00:00Z', '2026-11-25T10:00:00.123Z', '2026-11-25T10:00:00+05:30', '2026-11-25T10:00:00.123-11:00', '2026-02-29T10:00:00Z',
  '2024-02-29T23:59:59.999Z', '2026-11-25T24:00:00Z', '2026-11-25T10:00:00', '2026-11-25 10:00:00Z', '0099-01-01T00:00:00Z', '2026-11-25T10:00:00.1234Z',
  { ephemeral_5m_input_tokens: 5, ephemeral_1h_input_tokens: 6 }, { ephemeral_5m_input_tokens: 1.5 },
  [{ type: 'advisor_message', model: 'claude-opus-4-1-20250805', input_tokens: 1, output_tokens: 2 }],
  { message: { id: 'm', model: 'claude-haiku-4-5-20251001', usage: { input_tokens: 1, output_tokens: 2 } }, timestamp: '2026-11-25T10:00:00Z' },
];

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null || Array.isArray(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === ABSENT) delete node[last];
  else node[last] = structuredClone(value);
}

/** Lines with one to three members changed to other kinds of value, for the direct and the progress shape. */
function structuredVariants(next: () => number, count: number): string[] {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = assistantLine({ at: AT + i * 1000, id: `msg_${i}`, req: `req_${i}`, usage: { cache_creation: { ephemeral_5m_input_tokens: 3, ephemeral_1h_input_tokens: 4 } } });
    const progress = next() < 0.3;
    const line = progress ? progressLine(base) : base;
    const changes = 1 + Math.floor(next() * 3);
    for (let c = 0; c < changes; c++) setPath(progress ? (line.data as { message: Record<string, unknown> }).message : line, pick(PATHS), pick(VALUES));
    if (progress && next() < 0.2) setPath(line, pick(['sessionId', 'message', 'data', 'data.message']), pick(VALUES));
    let text = JSON.stringify(line);
    const twist = next();
    if (twist < 0.05) text = text.replace('"timestamp":', '"timestamp":"2026-11-25T10:00:00Z","timestamp":');
    else if (twist < 0.1) text = text.replace('"input_tokens":', '"input_tokens":5,"input_tokens":');
    else if (twist < 0.15) text = text.replace('"requestId"', '"request\\u0049d"');
    else if (twist < 0.2) text = text.replace('"model":', '"model" :  ');
    else if (twist < 0.25) text = ` \t${text}\r`;
    else if (twist < 0.3) text = text.replace('{"type"', '{"content":[{"type":"tool_use","input":{"id":null}}],"type"');
    else if (twist < 0.35) text = text.replace('"usage":{', '"usage":{"x":"\\"model\\":null",');
    // JSON.parse keeps the last of two members with one name, objects whole
    else if (twist < 0.4) text = text.replace('"message":{', '"message":{"usage":{"input_tokens":9,"output_tokens":1,"speed":"fast","cache_creation":{"ephemeral_1h_input_tokens":5}},"id":"first"},"message":{');
    if (text.includes('"usage":{')) lines.push(text);
  }
  return lines;
}

/** Bytes inserted, deleted or replaced at random places of real lines. */
function byteMutations(next: () => number, sources: string[], count: number): string[] {
  const pieces = ['"', '\\', '{', '}', '[', ']', ',', ':', 'null', ':null', '0', '1', '-', '.', 'e', ' ', 'é', '\t', '\u0001', '\\u00', 'true', '"usage":{'];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = sources[Math.floor(next() * sources.length)]!;
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(next() * text.length);
      const kind = next();
      const piece = pieces[Math.floor(next() * pieces.length)]!;
      if (kind < 0.34) text = text.slice(0, at) + text.slice(at + 1);
      else if (kind < 0.67) text = text.slice(0, at) + piece + text.slice(at);
      else text = text.slice(0, at) + piece + text.slice(at + 1);
    }
    if (text.includes('"usage":{')) lines.push(text);
  }
  return lines;
}

function jsonlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

describeNative('the native line scanner reads lines as line.ts does', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('the recorded transcripts (fixtures/claude-projects): the same entries, nearly all read natively', async () => {
    for (const file of jsonlFiles(fixturePath('claude-projects'))) {
      const counters = await expectSameReads(file);
      expect(counters.usage_lines_native).toBeGreaterThan(0);
    }
  });

  it('a generated history (bench/usage-history.mjs), as one file of several 4 MiB chunks: the same entries, > 95 % read natively', async () => {
    const root = dirs.make();
    execFileSync(process.execPath, [repoPath('bench', 'usage-history.mjs'), root, '10', '--days', '20', '--now', new Date(INJECTED_NOW).toISOString(), '--seed', '11']);
    const joined = path.join(dirs.make(), 'joined.jsonl');
    // lines across chunk ends, and more than one call's worth of rows per chunk
    writeFileSync(joined, jsonlFiles(root).map((file) => readFileSync(file, 'utf8')).join(''));
    const counters = await expectSameReads(joined);
    expect(counters.usage_lines).toBeGreaterThan(1000);
    expect(counters.usage_lines_native / counters.usage_lines).toBeGreaterThan(0.95);
  });

  it('thousands of lines with members of every kind of value, duplicated, escaped or spaced: the same entries and skips', async () => {
    const lines = structuredVariants(seededRandom(1), 6000);
    const file = path.join(dirs.make(), 'variants.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const counters = await expectSameReads(file);
    // both paths are exercised: lines read natively, and lines left to line.ts (entries and skips)
    expect(counters.usage_lines_native).toBeGreaterThan(300);
    expect(counters.usage_lines - counters.usage_lines_native).toBeGreaterThan(1000);
    expect(counters.skipped_malformed + counters.skipped_schema + counters.skipped_timestamp + counters.skipped_invalid + counters.skipped_null_field).toBeGreaterThan(500);
  });

  it('real lines with random bytes inserted, deleted or replaced: the same entries and skips', async () => {
    const sources = [...jsonlFiles(fixturePath('claude-projects')).flatMap((file) => readFileSync(file, 'utf8').split('\n')), ...structuredVariants(seededRandom(2), 200)].filter((line) =>
      line.includes('"usage":{'),
    );
    const file = path.join(dirs.make(), 'mutated.jsonl');
    writeFileSync(file, byteMutations(seededRandom(3), sources, 20000).join('\n') + '\n');
    const counters = await expectSameReads(file);
    expect(counters.skipped_malformed).toBeGreaterThan(1000);
    expect(counters.usage_lines_native).toBeGreaterThan(1000);
  });

  it('a marked line with no newline yet is not read, and the row buffer is checked', () => {
    const line = JSON.stringify(assistantLine({ at: AT, id: 'a', req: 'r' }));
    const rows = new Float64Array(ROW.length * 4);
    expect(scanner!.scan(Buffer.from(line), 0, rows)).toBe(0);
    expect(scanner!.scan(Buffer.from(`${line}\n${line}`), 0, rows)).toBe(1);
    expect(rows[ROW.status]).toBe(1);
    expect(rows[ROW.end]).toBe(Buffer.byteLength(line));
    expect(() => scanner!.scan(Buffer.from(line), 0, new Float32Array(4) as unknown as Float64Array)).toThrow(/Float64Array/);
  });
});
