import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { hashBytes } from './hash.js';

/** What the reader remembers of one transcript between reads (and in the index file). */
export interface TrackedFile {
  id: number;
  path: string;
  /** Which of the config folders (their index) holds it: ccusage reads them in order, then by path. */
  root: number;
  /** The session its path names (`<project>/<session>.jsonl`, or the folder of a subagent's file). */
  session: string;
  project: string;
  dev: number;
  ino: number;
  /** Bytes read: every line before this offset has been counted. */
  offset: number;
  mtimeMs: number;
  /** Hash of the first `headLength` bytes, to tell a file rewritten in place from one appended to. */
  head: number;
  headLength: number;
}

/** Bytes hashed to recognise a replaced file. */
export const HEAD_BYTES = 1024;
const CHUNK_BYTES = 4 << 20;
const NEWLINE = 0x0a;

export interface FoundFile {
  path: string;
  root: number;
  session: string;
  project: string;
}

export function describe(root: string, rootIndex: number, file: string): FoundFile {
  const parts = path.relative(root, file).split(path.sep);
  const stem = (name: string) => name.replace(/\.jsonl$/, '');
  let session: string;
  let project: string;
  if (parts.length >= 4 && parts[parts.length - 2] === 'subagents') {
    session = parts[parts.length - 3]!;
    project = parts.slice(0, -3).join('/');
  } else if (parts.length >= 3) {
    session = parts[parts.length - 2]!;
    project = parts.slice(0, -2).join('/');
  } else {
    session = stem(parts[parts.length - 1]!);
    project = parts.length === 2 ? parts[0]! : '';
  }
  return { path: file, root: rootIndex, session, project };
}

export type FileChange = 'unchanged' | 'appended' | 'replaced' | 'gone';

/**
 * How a tracked file changed since it was last read. One stat when nothing changed; the first
 * bytes are compared only when size or mtime moved, to tell an append from a rewrite in place
 * (truncated and written again past the old offset before it was looked at).
 */
export function classify(file: TrackedFile, stats: Stats | null): FileChange {
  if (!stats?.isFile()) return 'gone';
  if (stats.ino !== file.ino || stats.dev !== file.dev || stats.size < file.offset) return 'replaced';
  if (stats.size === file.offset && stats.mtimeMs === file.mtimeMs) return 'unchanged';
  if (file.headLength > 0 && headHash(file.path, file.headLength) !== file.head) return 'replaced';
  return 'appended';
}

function headHash(file: string, length: number): number | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(length);
    return readSync(fd, buffer, 0, length, 0) === length ? hashBytes(buffer) : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export interface ReadOutcome {
  bytes: number;
  stats: Stats;
}

/**
 * One read buffer for a run of reads (a first read's thousands of files): each file would
 * otherwise allocate, fault in and leave for the collector a buffer of its own size.
 */
export class ReadBuffer {
  private buffer: Buffer | null = null;

  /** A buffer of at least `size` bytes, valid until the next call. */
  get(size: number): Buffer {
    if (!this.buffer || this.buffer.length < size) this.buffer = Buffer.allocUnsafe(Math.max(size, CHUNK_BYTES));
    return this.buffer;
  }
}

export interface ReadOptions {
  /** Replaces the search for marked lines in each chunk: hands them on itself (the native scanner) and returns the bytes done with, as markedLines does. */
  chunkLines?: (buffer: Buffer, offset: number) => number;
  /** Where to read, for a run of reads; else each read allocates. */
  readBuffer?: ReadBuffer;
}

/** Gives the event loop a turn (HTTP requests, hook decisions) between chunks of a long read. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads a file from `file.offset` to its end and hands each complete line that contains `marker`
 * to `onLine` (as a buffer range valid only during the call); other lines are stepped over without
 * being split, so each byte is searched about once. A last line without a newline is handed over
 * only when `acceptTail` says it is complete (a JSON object that parses); otherwise it is read
 * again with what follows. Updates offset, identity and head hash.
 *
 * The reads are synchronous, a chunk at a time with a turn of the event loop in between: for
 * thousands of small files, a promise and a thread-pool hop per open, stat, read and close cost
 * more than the reading.
 */
export async function readAppended(
  file: TrackedFile,
  marker: Buffer,
  onLine: (buffer: Buffer, start: number, end: number, offset: number) => void,
  acceptTail: (buffer: Buffer, start: number, end: number) => boolean,
  { chunkLines, readBuffer }: ReadOptions = {},
): Promise<ReadOutcome | null> {
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch {
    return null;
  }
  try {
    const stats = fstatSync(fd);
    const end = stats.size;
    let position = file.offset;
    let carry: Buffer | null = null;
    let carryOffset = position;
    const chunkBytes = Math.min(CHUNK_BYTES, Math.max(1, end - position));
    const allocate = (size: number) => (readBuffer ? readBuffer.get(size) : Buffer.allocUnsafe(size));
    let chunk = allocate(chunkBytes);
    let first = true;
    while (position < end) {
      if (!first) await yieldToLoop();
      first = false;
      // a line longer than a chunk is assembled in a larger buffer; otherwise only its start is copied
      const carried = carry?.length ?? 0;
      if (chunk.length < carried + chunkBytes) chunk = allocate(carried + chunkBytes);
      if (carry) carry.copy(chunk, 0);
      const bytesRead = readSync(fd, chunk, carried, Math.min(chunkBytes, end - position), position);
      if (bytesRead === 0) break;
      if (position === 0 && file.headLength === 0) setHead(file, chunk.subarray(carried, carried + Math.min(bytesRead, HEAD_BYTES)));
      position += bytesRead;
      const buffer = chunk.subarray(0, carried + bytesRead);
      const consumed = chunkLines ? chunkLines(buffer, carryOffset) : markedLines(buffer, marker, (start, lineEnd) => onLine(buffer, start, lineEnd, carryOffset + start));
      carryOffset += consumed;
      carry = consumed < buffer.length ? Buffer.from(buffer.subarray(consumed)) : null;
    }
    if (carry && carry.includes(marker) && acceptTail(carry, 0, carry.length)) {
      onLine(carry, 0, carry.length, carryOffset);
      carryOffset += carry.length;
    }
    const bytes = carryOffset - file.offset;
    file.offset = carryOffset;
    file.dev = stats.dev;
    file.ino = stats.ino;
    file.mtimeMs = stats.mtimeMs;
    // the head covers consumed bytes only (never a torn last line that may still change)
    if (file.headLength !== Math.min(HEAD_BYTES, file.offset)) {
      const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, file.offset));
      setHead(file, head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    }
    return { bytes, stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `onLine` for each complete line of `buffer` holding `marker`; returns how many bytes
 * (whole lines) are done with: everything up to the last newline.
 */
function markedLines(buffer: Buffer, marker: Buffer, onLine: (start: number, end: number) => void): number {
  let done = 0;
  for (;;) {
    const at = buffer.indexOf(marker, done);
    if (at < 0) break;
    const start = Math.max(done, buffer.lastIndexOf(NEWLINE, at) + 1);
    const end = buffer.indexOf(NEWLINE, at);
    if (end < 0) return start;
    onLine(start, end);
    done = end + 1;
  }
  return buffer.lastIndexOf(NEWLINE) + 1 > done ? buffer.lastIndexOf(NEWLINE) + 1 : done;
}

function setHead(file: TrackedFile, bytes: Buffer): void {
  file.head = hashBytes(bytes);
  file.headLength = bytes.length;
}
