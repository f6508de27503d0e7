import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ALERT_TYPES } from '../alerts/types.js';
import { writeFileDurably } from '../util/durable-file.js';
import { isSaneInstant } from '../util/time.js';
import { ALERT_ORIGINS, MAX_ORIGIN_KEY_LENGTH, MAX_SUMMARY_LENGTH } from './types.js';

/** Every time in the file must be one the bridge can print and compare: else the file is set aside. */
const instant = z.number().refine(isSaneInstant, 'expected a time between 1970 and 3000 in ms');

const originSchema = z.object({
  origin: z.enum(ALERT_ORIGINS),
  key: z.string().max(MAX_ORIGIN_KEY_LENGTH),
  since: instant,
  startedAt: instant.nullable(),
  expiresAt: instant.nullable(),
  summary: z.string().max(MAX_SUMMARY_LENGTH).nullable(),
});

export const persistedStateSchema = z.object({
  version: z.literal(1),
  savedAt: instant,
  alerts: z.array(z.object({ type: z.enum(ALERT_TYPES), since: instant, origins: z.array(originSchema) })),
  backoff: z.object({
    attempt: z.number().int().min(0).max(1000),
    delayMs: z.number().min(0).max(7 * 24 * 3600 * 1000),
    until: instant.nullable(),
    resolvedAt: instant.nullable(),
  }),
  pausedUntil: instant.nullable(),
  state: z.object({ name: z.enum(['normal', 'backoff', 'paused', 'degraded']), since: instant }),
});

export type PersistedState = z.infer<typeof persistedStateSchema>;

export interface LoadResult {
  state: PersistedState | null;
  /** Set when a file existed but could not be used; it was moved to `keptAs`. */
  problem?: string;
  keptAs?: string;
}

export interface StateStore {
  readonly location: string;
  load(): LoadResult;
  save(state: PersistedState): void;
}

export const STATE_FILE = 'recovery-state.json';

/** JSON file written atomically: temp file, fsync, rename. */
export class FileStateStore implements StateStore {
  readonly location: string;

  constructor(
    dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.location = path.join(dir, STATE_FILE);
  }

  load(): LoadResult {
    this.removeStaleTempFiles();
    if (!existsSync(this.location)) return { state: null };
    let problem: string;
    try {
      const parsed = persistedStateSchema.safeParse(JSON.parse(readFileSync(this.location, 'utf8')));
      if (parsed.success) return { state: parsed.data };
      problem = `unexpected content: ${parsed.error.issues[0]?.path.join('.') || 'root'} ${parsed.error.issues[0]?.message ?? ''}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const keptAs = `${this.location}.corrupt-${this.now()}`;
    renameSync(this.location, keptAs);
    return { state: null, problem, keptAs };
  }

  save(state: PersistedState): void {
    writeFileDurably(this.location, JSON.stringify(state, null, 2) + '\n');
  }

  /** Temp files of earlier processes that died between write and rename (kill -9). */
  private removeStaleTempFiles(): void {
    const dir = path.dirname(this.location);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    const prefix = `${path.basename(this.location)}.`;
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(path.join(dir, name), { force: true });
    }
  }
}

/** Keeps state in memory: for tests and for `state.dir: none`-style runs. */
export class MemoryStateStore implements StateStore {
  readonly location = 'memory';
  saved: PersistedState | null = null;
  load(): LoadResult {
    return { state: this.saved ? structuredClone(this.saved) : null };
  }
  save(state: PersistedState): void {
    this.saved = structuredClone(state);
  }
}
