import { readFileSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import type { TrackedFile } from '../../src/sources/usage/transcripts/files.js';
import { INDEX_FORMAT, loadIndex, saveIndex, type Columns, type IndexHeader } from '../../src/sources/usage/transcripts/index-file.js';
import { RECORD_FLOAT_COLUMNS, RECORD_INT_COLUMNS } from '../../src/sources/usage/transcripts/records.js';
import { seededRandom } from '../support/random.js';
import { TempDirs } from './support/usage.js';

const temp = new TempDirs();
afterEach(() => temp.cleanup());

function trackedFile(id: number): TrackedFile {
  // non-ASCII names: their UTF-8 bytes cross the header's pieces and the checksum's words
  const name = `${id % 7 === 0 ? 'sessión-ü' : 'session'}-${id}`;
  return { id, path: `/home/dev/.claude/projects/-home-dev-p${id % 13}/${name}.jsonl`, root: id % 2, session: name, project: `-home-dev-p${id % 13}`, dev: 2049, ino: 1_000_000 + id, offset: id * 977, mtimeMs: 1.7e12 + id * 0.5, head: id * 12345, headLength: 1024 };
}

function sample(rows: number, files: number): { header: IndexHeader; columns: Columns } {
  const random = seededRandom(rows + files);
  const float = Object.fromEntries(RECORD_FLOAT_COLUMNS.map((name) => [name, Float64Array.from({ length: rows }, () => Math.floor(random() * 2 ** 40) / 8)])) as Columns['float'];
  const int = Object.fromEntries(RECORD_INT_COLUMNS.map((name) => [name, Uint32Array.from({ length: rows }, () => Math.floor(random() * 2 ** 32))])) as Columns['int'];
  const flags = Uint8Array.from({ length: rows }, () => Math.floor(random() * 256));
  const header: IndexHeader = {
    format: INDEX_FORMAT,
    projectDirs: ['/home/dev/.claude/projects'],
    savedAt: 1.75e12,
    files: Array.from({ length: files }, (_, id) => trackedFile(id)),
    models: ['', 'claude-sonnet-4-5-20250929'],
    sessions: ['session-1', 'sessión-ü-7'],
    counters: { usage_lines: rows },
    unknownModels: [],
    limitResets: [[3, 1.75e12 + 3_600_000]],
    wideTokens: [[5, { input: 0.5, output: 2 ** 40, cacheWrite5m: 0, cacheWrite1h: -1, cacheRead: 7 }]],
    rows,
  };
  return { header, columns: { float, int, flags, rows } };
}

/** The checksum as the format defines it: over the header segment, then each column, each whole. */
function referenceChecksum(file: Buffer, rows: number): number {
  const headerEnd = 12 + file.readUInt32LE(8);
  const segments: Buffer[] = [file.subarray(0, headerEnd)];
  let at = headerEnd;
  for (const bytes of [...RECORD_FLOAT_COLUMNS.map(() => 8), ...RECORD_INT_COLUMNS.map(() => 4), 1]) {
    segments.push(file.subarray(at, at + rows * bytes));
    at += rows * bytes;
  }
  let h1 = 0x12345678;
  let h2 = 0x9abcdef0;
  for (const segment of segments) {
    const words = Math.floor(segment.length / 4);
    for (let i = 0; i < words; i++) {
      const word = segment.readUInt32LE(i * 4);
      h1 = Math.imul(h1 ^ word, 2654435761);
      h2 = Math.imul(h2 ^ word, 1597334677);
    }
    for (let i = words * 4; i < segment.length; i++) {
      h1 = Math.imul(h1 ^ segment[i]!, 2246822507);
      h2 = Math.imul(h2 ^ segment[i]!, 3266489909);
    }
    h1 ^= segment.length;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

describe('transcript index file', () => {
  it.each([
    [0, 0],
    [1, 1],
    [1003, 700],
  ])('reads back what it wrote (%d rows, %d files), each column with room to grow', async (rows, files) => {
    const file = path.join(temp.make(), 'usage.index');
    const { header, columns } = sample(rows, files);
    const bytes = await saveIndex(file, header, columns);
    const written = readFileSync(file);
    expect(bytes).toBe(written.length);
    expect(written.readDoubleLE(written.length - 8)).toBe(referenceChecksum(written, rows));

    const loaded = await loadIndex(file, (n) => n + 100);
    if (!loaded || 'problem' in loaded) throw new Error(`not loaded: ${JSON.stringify(loaded)}`);
    expect(loaded.header).toEqual(header);
    expect(loaded.columns.rows).toBe(rows);
    for (const name of RECORD_FLOAT_COLUMNS) {
      expect(loaded.columns.float[name]).toHaveLength(rows + 100);
      expect(loaded.columns.float[name].subarray(0, rows)).toEqual(columns.float[name]);
    }
    for (const name of RECORD_INT_COLUMNS) expect(loaded.columns.int[name].subarray(0, rows)).toEqual(columns.int[name]);
    expect(loaded.columns.flags.subarray(0, rows)).toEqual(columns.flags);
  });

  it('is null when missing, and names the problem when damaged, cut short, extended or foreign', async () => {
    const dir = temp.make();
    const file = path.join(dir, 'usage.index');
    expect(await loadIndex(file)).toBeNull();
    const { header, columns } = sample(500, 300);
    await saveIndex(file, header, columns);
    const good = readFileSync(file);
    const problem = async (damage: (bytes: Buffer) => void) => {
      const copy = Buffer.from(good);
      damage(copy);
      writeFileSync(file, copy);
      const loaded = await loadIndex(file);
      return loaded && 'problem' in loaded ? loaded.problem : 'loaded';
    };
    const headerEnd = 12 + good.readUInt32LE(8);
    // a byte of the header's file list, of the first column and of the last: the checksum sees each
    for (const at of [headerEnd - 200, headerEnd + 3, good.length - 9]) expect(await problem((b) => (b[at] = b[at]! ^ 0x01))).toBe('checksum mismatch (damaged file)');
    expect(await problem((b) => b.writeUInt32LE(0, 0))).toBe('not an index file');
    expect(await problem((b) => b.writeUInt32LE(INDEX_FORMAT + 1, 4))).toMatch(/^index format/);
    expect(await problem((b) => b.write('[', 12))).toMatch(/JSON/);

    writeFileSync(file, good);
    truncateSync(file, good.length - 1);
    expect(((await loadIndex(file)) as { problem: string }).problem).toBe('index file is shorter than its header says');
    writeFileSync(file, good);
    appendFileSync(file, 'x');
    expect(((await loadIndex(file)) as { problem: string }).problem).toBe('index file is longer than its header says');
  });
});
