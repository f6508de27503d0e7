import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../../util/errors.js';

export interface WatchEvents {
  /** A transcript file in a watched folder changed (or appeared). */
  file(path: string): void;
  /** Something else changed in a folder (a new subfolder, a removal): scan it. */
  folder(path: string): void;
}

/**
 * File-system notifications for every folder under the projects folders (inotify on Linux,
 * FSEvents on macOS): one watcher per folder, added as folders appear. A folder that cannot be
 * watched (e.g. the inotify limit is reached) is left to the periodic sweep and reported.
 */
export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private lastError: string | null = null;
  private failures = 0;

  constructor(private readonly events: WatchEvents) {}

  /** Watches these folders and stops watching the ones no longer listed. */
  sync(folders: readonly string[]): void {
    const wanted = new Set(folders);
    for (const [folder, watcher] of this.watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        this.watchers.delete(folder);
      }
    }
    for (const folder of wanted) if (!this.watchers.has(folder)) this.add(folder);
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  status(): { folders: number; failures: number; last_error: string | null } {
    return { folders: this.watchers.size, failures: this.failures, last_error: this.lastError };
  }

  private add(folder: string): void {
    try {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        const changed = typeof name === 'string' ? name : null;
        if (changed !== null && changed.endsWith('.jsonl')) this.events.file(path.join(folder, changed));
        else this.events.folder(folder);
      });
      watcher.on('error', (error) => this.fail(folder, error));
      this.watchers.set(folder, watcher);
    } catch (error) {
      this.fail(folder, error);
    }
  }

  private fail(folder: string, error: unknown): void {
    this.failures += 1;
    this.lastError = `${folder}: ${errorMessage(error)}`;
    this.watchers.get(folder)?.close();
    this.watchers.delete(folder);
  }
}
