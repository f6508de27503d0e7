import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ALERT_TYPES } from '../alerts/types.js';
import { ALERT_ORIGINS } from './types.js';

const originSchema = z.object({
  origin: z.enum(ALERT_ORIGINS),
  key: z.string(),
  since: z.number(),
  startedAt: z.number().nullable(),
  expiresAt: z.number().nullable(),
  summary: z.string().nullable(),
});

export const persistedStateSchema = z.object({
  version: z.literal(1),
  savedAt: z.number(),
  alerts: z.array(z.object({ type: z.enum(ALERT_TYPES), since: z.number(), origins: z.array(originSchema) })),
  backoff: z.object({
    attempt: z.number().int().min(0),
    delayMs: z.number().min(0),
    until: z.number().nullable(),
    resolvedAt: z.number().nullable(),
  }),
  pausedUntil: z.number().nullable(),
  state: z.object({ name: z.enum(['normal', 'backoff', 'paused', 'degraded']), since: z.number() }),
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
    mkdirSync(path.dirname(this.location), { recursive: true });
    const temp = `${this.location}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.location);
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
