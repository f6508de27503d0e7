import { errorMessage } from '../../util/errors.js';

export interface RunOptions {
  timeoutMs: number;
  /** Each of stdout and stderr may hold at most this many bytes. */
  maxOutputBytes: number;
  /** Added to the bridge's own environment. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** A run that ended on its own, whatever its exit code: the caller interprets the code. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type SubprocessFailure = 'timeout' | 'output_too_large' | 'spawn_failed' | 'killed' | 'cancelled';

export class SubprocessError extends Error {
  constructor(
    readonly kind: SubprocessFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SubprocessError';
  }
}

/**
 * Runs a CLI with stdin from /dev/null, a wall-clock deadline and bounded output. The child runs
 * in its own process group and the whole group is killed on timeout, overflow or cancel: killing
 * only the direct child (execa's own `timeout`) leaves grandchildren (a wrapper script's `sleep`,
 * ccusage's native binary) holding the pipes open, and the run would hang until they exit.
 */
export async function runSubprocess(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  const startedAt = Date.now();
  let stopReason: SubprocessFailure | null = null;
  // loaded on the first run: a bridge whose usage sources read files never needs it
  const { execa } = await import('execa');
  let child;
  try {
    child = execa(file, args, {
      stdin: 'ignore',
      reject: false,
      detached: process.platform !== 'win32',
      cleanup: true,
      maxBuffer: options.maxOutputBytes,
      env: options.env ?? {},
      extendEnv: true,
      stripFinalNewline: false,
    });
  } catch (error) {
    throw new SubprocessError('spawn_failed', `cannot start ${file}: ${errorMessage(error)}`);
  }
  const stop = (reason: SubprocessFailure) => {
    stopReason ??= reason;
    killProcessGroup(child.pid, () => child.kill('SIGKILL'));
  };
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  const onAbort = () => stop('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  for (const stream of [child.stdout, child.stderr]) {
    let bytes = 0;
    stream?.on('data', (chunk: Buffer | string) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (bytes > options.maxOutputBytes) stop('output_too_large');
    });
  }
  const result = await child;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  const durationMs = Date.now() - startedAt;
  if (stopReason) throw new SubprocessError(stopReason, describeStop(stopReason, file, options));
  if (result.isMaxBuffer) throw new SubprocessError('output_too_large', describeStop('output_too_large', file, options));
  if (result.exitCode === undefined) {
    const cause = result.signal ? `killed by ${result.signal}` : (result.originalMessage ?? result.shortMessage);
    throw new SubprocessError(result.signal ? 'killed' : 'spawn_failed', `${file}: ${cause}`);
  }
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), durationMs };
}

function killProcessGroup(pid: number | undefined, fallback: () => void): void {
  if (pid === undefined) return;
  try {
    if (process.platform === 'win32') fallback();
    else process.kill(-pid, 'SIGKILL');
  } catch {
    fallback(); // the group is already gone, or this is not its leader
  }
}

function describeStop(reason: SubprocessFailure, file: string, options: RunOptions): string {
  switch (reason) {
    case 'timeout':
      return `${file} did not finish within ${options.timeoutMs} ms and was killed`;
    case 'output_too_large':
      return `${file} printed more than ${options.maxOutputBytes} bytes and was killed`;
    case 'cancelled':
      return `${file} was cancelled`;
    default:
      return `${file} failed`;
  }
}

/** The last non-empty line of a program's stderr, for error messages. */
export function lastLine(text: string, max = 300): string {
  const line = text.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
