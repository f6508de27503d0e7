import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { RecoveryController } from '../../../src/recovery/controller.js';
import { MemoryStateStore } from '../../../src/recovery/store.js';
import { CcusageDailyCost, CcusageSource, type CcusageRunner } from '../../../src/sources/usage/ccusage.js';
import { CcusageFormatError, parseCcusageBlocks, parseCcusageDaily } from '../../../src/sources/usage/ccusage-json.js';
import { parseClaudeMonitorRun } from '../../../src/sources/usage/claude-monitor.js';
import { buildUsageComponent } from '../../../src/sources/usage/index.js';
import { UsageSourceError, type UsageSnapshot } from '../../../src/sources/usage/types.js';
import { RateLimitHits } from '../../../src/alerts/rate-limit-hits.js';
import { silentLogger } from '../../../src/util/logger.js';
import { isSaneInstant } from '../../../src/util/time.js';
import { testConfig } from '../../support/config.js';
import { readFixture } from '../../support/fixtures.js';
import { ManualClock } from '../../support/manual-clock.js';
import { applyTextMutation, mutatedValue, type TextMutation } from '../support/mutate.js';
import { fuzzTarget } from '../support/settings.js';

/** Inside the recorded 5-hour block of the samples (2026-11-25 13:00–18:00 UTC). */
const NOW = Date.parse('2026-11-25T16:30:00Z');

const snapshotText = readFixture('claude-monitor', 'v4-once-json-snapshot.json');
const ccusageBlocks = ['blocks.json', 'blocks-active-token-limit.json'].map((name) => JSON.parse(readFixture('ccusage', name)) as unknown);
const ccusageDaily = JSON.parse(readFixture('ccusage', 'daily.json')) as unknown;

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', ',', '"', '\n', '\u001b[2J')) }),
  fc.record({ kind: fc.constant('number-token' as const), at: fc.nat(), token: fc.constantFrom('1e400', '-1e400', '-1', '0', '1e308', '9'.repeat(400)) }),
  fc.record({ kind: fc.constant('surround' as const), before: fc.constantFrom('', 'Warning: x\n', '\ufeff', 'null\n'), after: fc.constantFrom('', '\n', '\n{"extra":1}', 'garbage') }),
);

/** A subprocess's stdout: the recorded sample, mutated as JSON, mutated as text, or anything. */
function stdoutOf(samples: unknown[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...samples).map((s) => JSON.stringify(s)) },
    { weight: 8, arbitrary: mutatedValue(samples, 4).map((v) => JSON.stringify(v) ?? '') },
    { weight: 2, arbitrary: fc.tuple(mutatedValue(samples, 1), fc.array(textMutation, { minLength: 1, maxLength: 3 })).map(([v, m]) => m.reduce(applyTextMutation, JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constant('')) },
  );
}

/** A parsed document as ccusage's runner hands it on (the runner refuses text that is not JSON). */
function documentOf(samples: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 8, arbitrary: mutatedValue(samples, 4) }, { weight: 1, arbitrary: fc.jsonValue() });
}

/** Times the bridge will print: a Date holds them, and they lie between 1970 and 3000. */
function checkTimes(what: string, times: (number | null | undefined)[]): void {
  for (const time of times) if (time !== null && time !== undefined && !isSaneInstant(time)) throw new Error(`${what}: time ${String(time)} is out of range`);
}

function checkSnapshot(snapshot: UsageSnapshot): void {
  const block = snapshot.activeBlock;
  checkTimes('snapshot', [snapshot.takenAt, block?.start, block?.end, block?.limitResetsAt, ...Object.values(snapshot.rateLimits).map((r) => r.resetsAt)]);
}

/**
 * What the usage component makes of a snapshot: the figures, the /metrics section, the signals
 * of the embedded evaluator and the status line view all compute and serialise.
 */
function checkDownstream(snapshot: UsageSnapshot): void {
  const clock = new ManualClock(NOW);
  const config = testConfig({ usage: { source: 'none' } });
  const controller = new RecoveryController({ config, clock, store: new MemoryStateStore(), logger: silentLogger });
  const usage = buildUsageComponent(
    { config, registry: new Registry(), clock, logger: silentLogger, report: new RateLimitHits(controller, clock, config, silentLogger), recoveryState: () => 'normal' },
    { timeZone: 'UTC', sources: [] },
  );
  usage.state.snapshot = snapshot;
  JSON.stringify([usage.section!.read(), usage.signals!()]);
}

/** Anything but the source's own error is a bug: it would surface as a crash of the poll. */
function expectOnly<T>(what: string, allowed: (error: unknown) => boolean, run: () => T): T | null {
  try {
    return run();
  } catch (error) {
    if (allowed(error)) {
      if (!(error as Error).message) throw new Error(`${what}: an error without a message`, { cause: error });
      return null;
    }
    throw new Error(`${what} threw ${(error as Error)?.stack ?? String(error)}`, { cause: error });
  }
}

const isUsageSourceError = (e: unknown) => e instanceof UsageSourceError;

let configDir: string | null = null;

/** A runner that answers with the given documents instead of running ccusage. */
function fakeRunner(documents: { blocks?: unknown; daily?: unknown }): CcusageRunner {
  return { json: async (args: string[]) => (args[0] === 'daily' ? documents.daily : documents.blocks), cancel: () => {} } as unknown as CcusageRunner;
}

function ccusageOptions() {
  configDir ??= mkdtempSync(path.join(tmpdir(), 'bridge-ccusage-fuzz-')); // no transcripts: the per-model split finds none
  return { usage: testConfig().usage, configDir, now: () => NOW, timeZone: 'UTC' };
}

const exitCode = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 10, 11, 20, 30) }, { weight: 1, arbitrary: fc.integer({ min: -300, max: 300 }) });

export const SUBPROCESS_TARGETS = [
  fuzzTarget<{ exitCode: number; stdout: string; stderr: string }>({
    name: 'claude-monitor --once --output json (exit code, stdout, stderr)',
    input: fc.record({ exitCode, stdout: stdoutOf([JSON.parse(snapshotText)]), stderr: fc.oneof(fc.constant(''), fc.string({ maxLength: 200 })) }),
    check({ exitCode: code, stdout, stderr }) {
      const snapshot = expectOnly('parseClaudeMonitorRun', isUsageSourceError, () => parseClaudeMonitorRun(code, stdout, stderr, NOW));
      if (snapshot === null) return;
      if (![0, 10, 11, 20].includes(code)) throw new Error(`exit code ${code} gave a snapshot`);
      checkSnapshot(snapshot);
      checkDownstream(snapshot);
    },
  }),
  fuzzTarget<unknown>({
    name: 'ccusage blocks --json',
    input: documentOf(ccusageBlocks),
    async check(document) {
      const blocks = expectOnly('parseCcusageBlocks', (e) => e instanceof CcusageFormatError, () => parseCcusageBlocks(document));
      if (blocks === null) return;
      for (const block of blocks) checkTimes('block', [block.start, block.end, block.lastActivity, block.limitResetsAt]);
      let snapshot: UsageSnapshot | null = null;
      const source = new CcusageSource(ccusageOptions(), fakeRunner({ blocks: document }));
      try {
        snapshot = await source.poll();
      } catch (error) {
        expectOnly('CcusageSource.poll', isUsageSourceError, () => {
          throw error;
        });
      } finally {
        // the active block's split writes a scratch folder per source
        source.dispose();
      }
      if (snapshot) {
        checkSnapshot(snapshot);
        checkDownstream(snapshot);
      }
    },
    cleanup() {
      if (configDir) rmSync(configDir, { recursive: true, force: true });
      configDir = null;
    },
  }),
  fuzzTarget<unknown>({
    name: 'ccusage daily --json',
    input: documentOf([ccusageDaily]),
    async check(document) {
      const days = expectOnly('parseCcusageDaily', (e) => e instanceof CcusageFormatError, () => parseCcusageDaily(document));
      if (days === null) return;
      for (const day of days) {
        const figures = [day.costUsd, ...Object.values(day.tokens), ...day.models.flatMap((m) => [m.costUsd, ...Object.values(m.tokens)])];
        if (!figures.every(Number.isFinite)) throw new Error(`a day with a figure that is not a finite number: ${JSON.stringify(day)}`);
      }
      try {
        const cost = await new CcusageDailyCost(ccusageOptions(), fakeRunner({ daily: document })).today();
        if (!Number.isFinite(cost.costUsd)) throw new Error(`today's cost is ${cost.costUsd}`);
      } catch (error) {
        expectOnly('CcusageDailyCost.today', isUsageSourceError, () => {
          throw error;
        });
      }
    },
  }),
];
