import path from 'node:path';
import { z } from 'zod';
import { keepAside, readTextFile, writeFileDurably } from '../../util/durable-file.js';
import { errorMessage } from '../../util/errors.js';
import type { MemorySnapshot } from './event-memory.js';

/** The file in `state.dir`, beside the recovery state. */
export const CURSOR_FILE = 'hooks-server-cursor.json';

const id = z.number().int().positive();
const persistedCursorSchema = z.object({
  version: z.literal(1),
  /** The stream URL the cursor belongs to: another server's ids mean nothing here. */
  server: z.string(),
  saved_at: z.number(),
  seen: z.object({ through: z.number().int().min(0), above: z.array(z.tuple([id, id])) }),
  remembered: z.array(z.tuple([id, z.string().min(1), z.number().nullable()])),
  baseline: z.object({ throughId: z.number().int().min(0), floorTime: z.number() }).nullable(),
});

export type PersistedCursor = z.infer<typeof persistedCursorSchema>;

export type CursorLoad =
  | { kind: 'none' }
  | { kind: 'loaded'; cursor: PersistedCursor }
  /** A file that could not be used: reported, kept aside, and the sync starts without a cursor. */
  | { kind: 'unusable'; problem: string; keptAs: string | null };

export interface CursorStore {
  readonly location: string;
  load(): CursorLoad;
  /** Throws when the state cannot be made durable. */
  save(cursor: PersistedCursor): void;
}

/** The hooks server sync's cursor as its own JSON file, written atomically (durable-file.ts). */
export class FileCursorStore implements CursorStore {
  readonly location: string;

  constructor(
    stateDir: string,
    private readonly now: () => number,
  ) {
    this.location = path.join(stateDir, CURSOR_FILE);
  }

  load(): CursorLoad {
    const read = readTextFile(this.location);
    if (read.kind === 'missing') return { kind: 'none' };
    let problem: string;
    if (read.kind === 'unreadable') {
      problem = read.problem;
    } else {
      try {
        const parsed = persistedCursorSchema.safeParse(JSON.parse(read.text));
        if (parsed.success) return { kind: 'loaded', cursor: parsed.data };
        const issue = parsed.error.issues[0];
        problem = `unexpected content: ${issue?.path.join('.') || 'root'} ${issue?.message ?? ''}`.trim();
      } catch (error) {
        problem = `not JSON: ${errorMessage(error)}`;
      }
    }
    return { kind: 'unusable', problem, keptAs: keepAside(this.location, `corrupt-${this.now()}`) };
  }

  save(cursor: PersistedCursor): void {
    writeFileDurably(this.location, JSON.stringify(cursor) + '\n');
  }
}

export function toPersisted(server: string, savedAt: number, memory: MemorySnapshot): PersistedCursor {
  return { version: 1, server, saved_at: savedAt, seen: memory.seen, remembered: memory.remembered, baseline: memory.baseline };
}
