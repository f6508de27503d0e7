import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The recorded samples of the systems the bridge talks to (test/fixtures/README.md says where each came from). */
export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES_DIR, ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}

export function readJsonFixture<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFixture(...parts)) as T;
}

export function readJsonLinesFixture<T = unknown>(...parts: string[]): T[] {
  return readFixture(...parts)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
