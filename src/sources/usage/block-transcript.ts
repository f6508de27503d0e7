import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';

/**
 * The folders ccusage reads for one CLAUDE_CONFIG_DIR value: a comma-separated list of config
 * folders (each containing `projects/`) or `projects/` folders themselves.
 */
export function projectDirs(claudeConfigDir: string): string[] {
  return claudeConfigDir
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .flatMap((entry) => {
      const projects = path.join(entry, 'projects');
      if (existsSync(projects)) return [projects];
      return path.basename(entry) === 'projects' && existsSync(entry) ? [entry] : [];
    });
}

export interface BlockTranscriptStats {
  filesScanned: number;
  linesCopied: number;
  /** The earliest and latest copied line that carries `message.usage` (ccusage's entries), or null. */
  firstEntryAt: number | null;
  lastEntryAt: number | null;
}

/**
 * Copies, verbatim, the assistant lines timestamped inside [start, end) into one transcript file,
 * so ccusage can price exactly the active block per model (its `blocks` report has no per-model
 * split). Only files written since the block started can hold such lines, so older history is
 * never read.
 */
export async function writeBlockTranscript(dirs: string[], start: number, end: number, target: string): Promise<BlockTranscriptStats> {
  const out = createWriteStream(target);
  const stats: BlockTranscriptStats = { filesScanned: 0, linesCopied: 0, firstEntryAt: null, lastEntryAt: null };
  try {
    for (const dir of dirs) {
      for await (const file of transcriptFiles(dir)) {
        if ((await stat(file)).mtimeMs < start) continue;
        stats.filesScanned += 1;
        await copyBlockLines(file, start, end, out, stats);
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return stats;
}

async function* transcriptFiles(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a folder removed while scanning
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* transcriptFiles(full);
    else if (entry.isFile() && entry.name.endsWith('.jsonl')) yield full;
  }
}

async function copyBlockLines(file: string, start: number, end: number, out: WriteStream, stats: BlockTranscriptStats): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"assistant"')) continue; // cheap pre-filter: only assistant lines carry usage
    const entry = assistantEntry(line);
    if (entry === null || entry.at < start || entry.at >= end) continue;
    if (!out.write(`${line}\n`)) await once(out, 'drain');
    stats.linesCopied += 1;
    if (!entry.hasUsage) continue;
    stats.firstEntryAt = Math.min(stats.firstEntryAt ?? entry.at, entry.at);
    stats.lastEntryAt = Math.max(stats.lastEntryAt ?? entry.at, entry.at);
  }
}

function assistantEntry(line: string): { at: number; hasUsage: boolean } | null {
  try {
    const entry = JSON.parse(line) as { type?: unknown; timestamp?: unknown; message?: { usage?: unknown } };
    if (entry.type !== 'assistant' || typeof entry.timestamp !== 'string') return null;
    const at = Date.parse(entry.timestamp);
    if (Number.isNaN(at)) return null;
    const usage = entry.message?.usage;
    return { at, hasUsage: typeof usage === 'object' && usage !== null };
  } catch {
    return null;
  }
}
