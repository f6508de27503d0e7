import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from '../../../util/atomic-file.js';
import { errorMessage } from '../../../util/errors.js';
import { isJsonObject } from '../../../util/json.js';
import type { TrackedFile } from './files.js';
import type { MessageTokens } from './pricing.js';
import { RECORD_FLOAT_COLUMNS, RECORD_INT_COLUMNS, type RecordStore } from './records.js';

/**
 * The reader's index on disk: a JSON header (files with their offsets, the model and session
 * tables, counters) followed by the record columns as raw little-endian arrays, and a checksum.
 * A file that is missing, from another format, for other transcript folders or damaged is
 * ignored: the reader then reads every transcript once.
 *
 * Format 2: files name their config folder by index (`root`) instead of a sort key holding the
 * path again; token counts are 32-bit columns, with the rare other counts in the header.
 */
export const INDEX_FORMAT = 2;
const MAGIC = 0x49544243; // "CBTI" little-endian

export interface IndexHeader {
  format: number;
  /** The projects folders it was built from. */
  projectDirs: string[];
  savedAt: number;
  files: TrackedFile[];
  models: string[];
  sessions: string[];
  counters: Record<string, number>;
  unknownModels: [string, number][];
  limitResets: [number, number][];
  /** Rows whose token counts do not fit the columns (RecordStore.wideTokens). */
  wideTokens: [number, MessageTokens][];
  rows: number;
}

export type Columns = ReturnType<RecordStore['columns']>;

/**
 * Writes the index as it goes: the header's file list (thousands of paths over a large history)
 * is turned into JSON a slice at a time, twice (once to learn its length for the prefix), so no
 * copy of the whole header is ever held; the columns are written from the store's own arrays.
 */
export async function saveIndex(file: string, header: IndexHeader, columns: Columns): Promise<number> {
  let headerBytes = 0;
  for (const piece of headerPieces(header)) headerBytes += Buffer.byteLength(piece, 'utf8');
  const pad = (8 - ((12 + headerBytes) % 8)) % 8;
  const checksum = new Checksum();
  let written = 0;
  const track = (chunk: Uint8Array) => {
    checksum.update(chunk);
    written += chunk.byteLength;
    return chunk;
  };
  function* chunks(): Generator<Uint8Array> {
    const prefix = Buffer.alloc(12);
    prefix.writeUInt32LE(MAGIC, 0);
    prefix.writeUInt32LE(INDEX_FORMAT, 4);
    prefix.writeUInt32LE(headerBytes + pad, 8);
    yield track(prefix);
    for (const piece of headerPieces(header)) yield track(Buffer.from(piece, 'utf8'));
    yield track(Buffer.alloc(pad, 0x20));
    checksum.endSegment();
    for (const column of columnBytes(columns)) {
      yield track(column);
      checksum.endSegment();
    }
    const sum = Buffer.alloc(8);
    sum.writeDoubleLE(checksum.digest(), 0);
    written += 8;
    yield sum;
  }
  await writeFileAtomic(file, chunks());
  return written;
}

const FILES_PER_PIECE = 256;

/** The header's JSON in pieces: everything but the file list, then the files a slice at a time. */
function* headerPieces(header: IndexHeader): Generator<string> {
  const { files, ...rest } = header;
  yield `${JSON.stringify(rest).slice(0, -1)},"files":[`;
  for (let from = 0; from < files.length; from += FILES_PER_PIECE) {
    const slice = JSON.stringify(files.slice(from, from + FILES_PER_PIECE)).slice(1, -1);
    yield from === 0 ? slice : `,${slice}`;
  }
  yield ']}';
}

export type LoadedIndex = { header: IndexHeader; columns: Columns } | { problem: string } | null;

/**
 * Reads an index straight into its columns, each `capacity(rows)` long (the store grows into
 * the rest, so the first append after a restart copies nothing). null: no index yet.
 */
export async function loadIndex(file: string, capacity: (rows: number) => number = (rows) => rows): Promise<LoadedIndex> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { problem: errorMessage(error) };
  }
  try {
    return await decode(handle, capacity);
  } catch (error) {
    return { problem: errorMessage(error) };
  } finally {
    await handle.close();
  }
}

const BYTES_PER_ROW = RECORD_FLOAT_COLUMNS.length * 8 + RECORD_INT_COLUMNS.length * 4 + 1;

async function decode(handle: FileHandle, capacity: (rows: number) => number): Promise<LoadedIndex> {
  const { size } = await handle.stat();
  const prefix = Buffer.alloc(12);
  if (size < 20 || (await readFully(handle, prefix, 0)) < 12 || prefix.readUInt32LE(0) !== MAGIC) return { problem: 'not an index file' };
  if (prefix.readUInt32LE(4) !== INDEX_FORMAT) return { problem: `index format ${prefix.readUInt32LE(4)}, expected ${INDEX_FORMAT}` };
  const headerLength = prefix.readUInt32LE(8);
  if (12 + headerLength + 8 > size) return { problem: 'index file is shorter than its header says' };
  const headerBytes = Buffer.alloc(headerLength);
  await readFully(handle, headerBytes, 12);
  const parsed: unknown = JSON.parse(headerBytes.toString('utf8'));
  if (!isHeader(parsed)) return { problem: 'unexpected header' };
  const { rows } = parsed;
  const expected = 12 + headerLength + rows * BYTES_PER_ROW + 8;
  if (expected > size) return { problem: 'index file is shorter than its header says' };
  if (expected < size) return { problem: 'index file is longer than its header says' };
  const checksum = new Checksum();
  checksum.update(prefix);
  checksum.update(headerBytes);
  checksum.endSegment();
  const room = Math.max(rows, capacity(rows));
  let at = 12 + headerLength;
  const take = async <T extends Float64Array | Uint32Array | Uint8Array>(Kind: { new (length: number): T; BYTES_PER_ELEMENT: number }): Promise<T> => {
    const column = new Kind(room);
    const bytes = new Uint8Array(column.buffer, 0, rows * Kind.BYTES_PER_ELEMENT);
    at += await readFully(handle, bytes, at);
    checksum.update(bytes);
    checksum.endSegment();
    return column;
  };
  const float = {} as Columns['float'];
  for (const name of RECORD_FLOAT_COLUMNS) float[name] = await take(Float64Array);
  const int = {} as Columns['int'];
  for (const name of RECORD_INT_COLUMNS) int[name] = await take(Uint32Array);
  const flags = await take(Uint8Array);
  const stored = Buffer.alloc(8);
  await readFully(handle, stored, at);
  if (checksum.digest() !== stored.readDoubleLE(0)) return { problem: 'checksum mismatch (damaged file)' };
  return { header: parsed, columns: { float, int, flags, rows } };
}

/** Fills `target` from `position`; a file that ends first is damaged. */
async function readFully(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < target.byteLength) {
    const { bytesRead } = await handle.read(target, filled, target.byteLength - filled, position + filled);
    if (bytesRead === 0) throw new Error('index file is shorter than its header says');
    filled += bytesRead;
  }
  return filled;
}

function columnBytes(columns: Columns): Uint8Array[] {
  const view = (array: Float64Array | Uint32Array | Uint8Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return [...RECORD_FLOAT_COLUMNS.map((n) => view(columns.float[n])), ...RECORD_INT_COLUMNS.map((n) => view(columns.int[n])), view(columns.flags)];
}

/**
 * A cheap 53-bit checksum (32-bit little-endian words mixed with multiplications), over
 * segments: the header, then each column. Bytes may come in any pieces; a segment's last one
 * to three bytes are mixed one by one, and its length closes it.
 */
class Checksum {
  private h1 = 0x12345678;
  private h2 = 0x9abcdef0;
  private segmentLength = 0;
  /** Bytes of a word begun in one piece and ended in the next. */
  private carry = 0;
  private carried = 0;

  update(bytes: Uint8Array): void {
    this.segmentLength += bytes.byteLength;
    let i = 0;
    while (this.carried > 0 && this.carried < 4 && i < bytes.byteLength) this.carry |= bytes[i++]! << (8 * this.carried++);
    if (this.carried === 4) {
      this.word(this.carry >>> 0);
      this.carry = this.carried = 0;
    }
    const words = Math.floor((bytes.byteLength - i) / 4);
    if ((bytes.byteOffset + i) % 4 === 0) {
      const aligned = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
      for (let w = 0; w < words; w++) this.word(aligned[w]!);
    } else {
      for (let w = 0, b = i; w < words; w++, b += 4) this.word((bytes[b]! | (bytes[b + 1]! << 8) | (bytes[b + 2]! << 16) | (bytes[b + 3]! << 24)) >>> 0);
    }
    for (i += words * 4; i < bytes.byteLength; i++) this.carry |= bytes[i]! << (8 * this.carried++);
  }

  endSegment(): void {
    for (let k = 0; k < this.carried; k++) {
      const byte = (this.carry >>> (8 * k)) & 0xff;
      this.h1 = Math.imul(this.h1 ^ byte, 2246822507);
      this.h2 = Math.imul(this.h2 ^ byte, 3266489909);
    }
    this.h1 ^= this.segmentLength;
    this.carry = this.carried = this.segmentLength = 0;
  }

  digest(): number {
    let { h1, h2 } = this;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }

  private word(word: number): void {
    this.h1 = Math.imul(this.h1 ^ word, 2654435761);
    this.h2 = Math.imul(this.h2 ^ word, 1597334677);
  }
}

function isHeader(value: unknown): value is IndexHeader {
  if (!isJsonObject(value)) return false;
  return (
    value.format === INDEX_FORMAT &&
    Array.isArray(value.projectDirs) &&
    Array.isArray(value.files) &&
    Array.isArray(value.models) &&
    Array.isArray(value.sessions) &&
    isJsonObject(value.counters) &&
    Array.isArray(value.unknownModels) &&
    Array.isArray(value.limitResets) &&
    Array.isArray(value.wideTokens) &&
    typeof value.rows === 'number' &&
    Number.isInteger(value.rows) &&
    value.rows >= 0
  );
}
