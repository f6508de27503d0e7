import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/**
 * How hard the fuzz suites try. CI runs DEFAULT_RUNS cases per target (twice: once under
 * libfaketime); `FUZZ_RUNS=20000` tries more by hand, `FUZZ_SEED` replays a failure (fast-check
 * prints the seed and the shrunk counterexample), and `FUZZ_REPORT=<file>` appends one JSON line
 * per target with the figures docs/RELIABILITY.md quotes.
 */
export const DEFAULT_RUNS = 2000;

export function fuzzRuns(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.FUZZ_RUNS;
  if (text === undefined || text === '') return DEFAULT_RUNS;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive whole number, got ${JSON.stringify(text)}`);
  return runs;
}

/** `FUZZ_SEED` (and `FUZZ_PATH`, to go straight to the shrunk case) from a failure's report replay it. */
function replayParameters(env: NodeJS.ProcessEnv = process.env): { seed?: number; path?: string } {
  const text = env.FUZZ_SEED;
  if (text === undefined || text === '') return {};
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be a whole number, got ${JSON.stringify(text)}`);
  return { seed, ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}) };
}

/** fast-check's report, with a counterexample of many large bodies cut short. */
const MAX_REPORT_CHARS = 4000;

/**
 * A case that has not finished after this long hung: fast-check then reports it (with the
 * counterexample) instead of Jest timing the whole test out. Not a speed limit: a case takes
 * milliseconds.
 */
const HANG_MS = 15_000;

/** Jest's limit for one target's test, from the number of cases it runs (generous: the suite also runs under libfaketime). */
export function targetTimeoutMs(runs = fuzzRuns()): number {
  return 120_000 + runs * 40;
}

/**
 * Runs one target's property and reports the figures: cases tried, failures, seconds. Throws
 * fast-check's report (seed, path, shrunk counterexample) when a case fails.
 */
export async function checkProperty<T>(
  target: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void> | void,
  /** Inputs each run tries (a run of the HTTP suite posts a few bodies, then reads the state once). */
  inputsPerRun = 1,
): Promise<void> {
  const started = performance.now();
  const property = fc.asyncProperty(arbitrary, async (value) => {
    await predicate(value);
  });
  let details: fc.RunDetails<[T]>;
  try {
    details = await fc.check(property, { numRuns: Math.ceil(fuzzRuns() / inputsPerRun), timeout: HANG_MS, ...replayParameters() });
  } catch (error) {
    // Not a failing case: the generator itself threw (a bug of the target's arbitrary).
    report({ target, cases: null, failures: 1, seconds: null, error: (error as Error)?.message ?? String(error) });
    throw error;
  }
  report({
    target,
    cases: details.numRuns * inputsPerRun,
    failures: details.failed ? 1 : 0,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    seed: details.seed,
  });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const message = fc.defaultReportMessage(details) ?? 'a case failed';
    const shown = message.length > MAX_REPORT_CHARS ? `${message.slice(0, MAX_REPORT_CHARS)}… (${message.length} characters)` : message;
    throw new Error(`${target}: ${shown}\n\nReplay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}\nThe case failed with: ${cause}`);
  }
}

function report(figures: Record<string, unknown>): void {
  const file = process.env.FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
}

/** An input of the bridge fuzzed in-process: its generator, and the properties each input must keep. */
export interface FuzzTarget<T> {
  /** As the test and docs/RELIABILITY.md name it. */
  name: string;
  input: fc.Arbitrary<T>;
  /** Throws (with what went wrong) when an input breaks a property. */
  check(input: T): Promise<void> | void;
  /** Removes what the checks left (temp files). */
  cleanup?: () => void;
}

/** Keeps each entry's input and check types together in a table of targets of different inputs. */
export function fuzzTarget<T>(target: FuzzTarget<T>): FuzzTarget<unknown> {
  return target;
}

/** One test per target, each running checkProperty. */
export function describeFuzzTargets(title: string, targets: FuzzTarget<unknown>[]): void {
  describe(title, () => {
    afterAll(() => {
      for (const target of targets) target.cleanup?.();
    });
    for (const target of targets) {
      it(target.name, () => checkProperty(target.name, target.input, (input) => target.check(input)), targetTimeoutMs());
    }
  });
}
