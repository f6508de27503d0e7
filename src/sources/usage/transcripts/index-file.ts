import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../../util/atomic-file.js';
import { errorMessage } from '../../../util/errors.js';
import { isJsonObject } from '../../../util/json.js';
import type { TrackedFile } from './files.js';
import { RECORD_FLOAT_COLUMNS, RECORD_INT_COLUMNS, type RecordStore } from './records.js';

/**
 * The reader's index on disk: a JSON header (files with their offsets, the model and session
 * tables, counters) followed by the record columns as raw little-endian arrays, and a checksum.
 * A file that is missing, from another format, for other transcript folders or damaged is
 * ignored: the reader then reads every transcript once.
 */
export const INDEX_FORMAT = 1;
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
  rows: number;
}

export type Columns = ReturnType<RecordStore['columns']>;

export async function saveIndex(file: string, header: IndexHeader, columns: Columns): Promise<number> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((12 + json.length) % 8)) % 8;
  const prefix = Buffer.alloc(12);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(INDEX_FORMAT, 4);
  prefix.writeUInt32LE(json.length + pad, 8);
  const head = Buffer.concat([prefix, json, Buffer.alloc(pad, 0x20)]);
  const body = columnBytes(columns);
  const checksum = Buffer.alloc(8);
  checksum.writeDoubleLE(checksumOf([head, ...body]), 0);
  const chunks = [head, ...body, checksum];
  await writeFileAtomic(file, chunks);
  return chunks.reduce((sum, c) => sum + c.byteLength, 0);
}

export type LoadedIndex = { header: IndexHeader; columns: Columns } | { problem: string } | null;

/** null: no index yet. */
export async function loadIndex(file: string): Promise<LoadedIndex> {
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { problem: errorMessage(error) };
  }
  try {
    return decode(buffer);
  } catch (error) {
    return { problem: errorMessage(error) };
  }
}

function decode(buffer: Buffer): LoadedIndex {
  if (buffer.length < 20 || buffer.readUInt32LE(0) !== MAGIC) return { problem: 'not an index file' };
  if (buffer.readUInt32LE(4) !== INDEX_FORMAT) return { problem: `index format ${buffer.readUInt32LE(4)}, expected ${INDEX_FORMAT}` };
  const stored = buffer.readDoubleLE(buffer.length - 8);
  const content = buffer.subarray(0, buffer.length - 8);
  const headerLength = buffer.readUInt32LE(8);
  if (12 + headerLength > content.length) return { problem: 'index file is shorter than its header says' };
  const segments: Uint8Array[] = [content.subarray(0, 12 + headerLength)];
  const parsed: unknown = JSON.parse(buffer.toString('utf8', 12, 12 + headerLength));
  if (!isHeader(parsed)) return { problem: 'unexpected header' };
  const rows = parsed.rows;
  let at = 12 + headerLength;
  const take = <T>(Kind: { new (buffer: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T => {
    const bytes = rows * Kind.BYTES_PER_ELEMENT;
    if (at + bytes > content.length) throw new Error('index file is shorter than its header says');
    // copied: the file buffer need not be aligned for the typed array
    const copy = new Uint8Array(bytes);
    copy.set(content.subarray(at, at + bytes));
    segments.push(copy);
    at += bytes;
    return new Kind(copy.buffer, 0, rows);
  };
  const float = Object.fromEntries(RECORD_FLOAT_COLUMNS.map((name) => [name, take(Float64Array)])) as Columns['float'];
  const int = Object.fromEntries(RECORD_INT_COLUMNS.map((name) => [name, take(Uint32Array)])) as Columns['int'];
  const flags = take(Uint8Array);
  if (at !== content.length) return { problem: 'index file is longer than its header says' };
  if (checksumOf(segments) !== stored) return { problem: 'checksum mismatch (damaged file)' };
  return { header: parsed, columns: { float, int, flags, rows } };
}

function columnBytes(columns: Columns): Uint8Array[] {
  const view = (array: Float64Array | Uint32Array | Uint8Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return [...RECORD_FLOAT_COLUMNS.map((n) => view(columns.float[n])), ...RECORD_INT_COLUMNS.map((n) => view(columns.int[n])), view(columns.flags)];
}

/** A cheap 53-bit checksum over the bytes (32-bit words mixed with multiplications). */
function checksumOf(chunks: readonly Uint8Array[]): number {
  let h1 = 0x12345678;
  let h2 = 0x9abcdef0;
  for (const chunk of chunks) {
    const words = Math.floor(chunk.byteLength / 4);
    const aligned = chunk.byteOffset % 4 === 0 ? new Uint32Array(chunk.buffer, chunk.byteOffset, words) : new Uint32Array(chunk.slice(0, words * 4).buffer);
    for (let i = 0; i < words; i++) {
      const word = aligned[i]!;
      h1 = Math.imul(h1 ^ word, 2654435761);
      h2 = Math.imul(h2 ^ word, 1597334677);
    }
    for (let i = words * 4; i < chunk.byteLength; i++) {
      h1 = Math.imul(h1 ^ chunk[i]!, 2246822507);
      h2 = Math.imul(h2 ^ chunk[i]!, 3266489909);
    }
    h1 ^= chunk.byteLength;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
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
    typeof value.rows === 'number' &&
    Number.isInteger(value.rows) &&
    value.rows >= 0
  );
}
