import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from './errors.js';

/**
 * Replaces `file` with `text` so that a crash at any moment leaves either the old or the new
 * content, never a torn file: a temp file in the same folder, fsync, rename over the target, then
 * fsync of the folder so the rename itself is durable. Throws on failure (the caller reports it).
 */
export function writeFileDurably(file: string, text: string): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncFolder(dir);
}

export type ReadResult = { kind: 'missing' } | { kind: 'read'; text: string } | { kind: 'unreadable'; problem: string };

/** A file's text, or why it could not be read; never throws. */
export function readTextFile(file: string): ReadResult {
  try {
    return { kind: 'read', text: readFileSync(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a path under a file; nothing can be there either.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', problem: errorMessage(error) };
  }
}

/** Moves a file that could not be used out of the way (kept for inspection); null when even that fails. */
export function keepAside(file: string, suffix: string): string | null {
  const keptAs = `${file}.${suffix}`;
  try {
    renameSync(file, keptAs);
    return keptAs;
  } catch {
    return null;
  }
}

function syncFolder(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a folder; the rename is still atomic there.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
