import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage } from '../util/errors.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin?: NodeJS.ReadableStream;
}

export const processIO = (): CliIO => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
});

export interface Command {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Returns the exit code; long-running commands resolve when they stop. */
  run(values: Record<string, string | boolean | undefined>, io: CliIO): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export function parseCommandArgs(command: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

export function intOption(values: Record<string, string | boolean | undefined>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n)) throw new UsageError(`--${name} expects a whole number, got ${JSON.stringify(raw)}`);
  return n;
}
