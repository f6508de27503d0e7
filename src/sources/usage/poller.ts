import type { BridgeConfig } from '../../config/schema.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { type Logger } from '../../util/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { CcusageDailyCost, CcusageSource, DailyCost } from './ccusage.js';
import type { ClaudeMonitorProbe, ClaudeMonitorSource } from './claude-monitor.js';
import { UPGRADE_HINT } from './claude-monitor.js';
import type { UsageInputHealth } from './input-health.js';
import type { UsageState } from './state.js';
import { UsageSourceError, type UsageSnapshot, type UsageSource } from './types.js';

export type PolledMode = Exclude<BridgeConfig['usage']['source'], 'none'>;

export interface UsagePollerDeps {
  mode: PolledMode;
  claudeMonitor: ClaudeMonitorSource;
  ccusage: CcusageSource;
  daily: CcusageDailyCost;
  health: { claudeMonitor: UsageInputHealth; ccusage: UsageInputHealth };
  state: UsageState;
  clock: Clock;
  intervalMs: number;
  logger: Logger;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string; details: Record<string, unknown> };

/**
 * Polls the block source (claude-monitor v4 or ccusage) and ccusage's daily cost every interval.
 * One cycle at a time: a cycle still running (up to the subprocess timeout) is joined, never
 * doubled. Every failure lands in /health; none escapes.
 */
export class UsagePoller {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private lastProbeReported: string | null = null;
  private readonly lastErrors = new Map<string, string>();

  constructor(private readonly deps: UsagePollerDeps) {}

  start(): void {
    this.running = true;
    void this.pollOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.deps.claudeMonitor.cancel();
    this.deps.ccusage.cancel();
    this.deps.daily.cancel();
    await this.inFlight;
    this.deps.ccusage.dispose();
  }

  /** Runs a cycle now, or joins the one in flight. */
  pollOnce(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const startedAt = this.deps.clock.now();
    this.inFlight = this.cycle()
      .catch((error: unknown) => this.deps.logger.error('usage poll failed unexpectedly', { error: errorMessage(error) }))
      .finally(() => {
        this.inFlight = null;
        this.scheduleNext(startedAt);
      });
    return this.inFlight;
  }

  private scheduleNext(lastStart: number): void {
    if (!this.running) return;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    const delay = Math.max(0, lastStart + this.deps.intervalMs - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.pollOnce();
    }, delay);
  }

  private async cycle(): Promise<void> {
    const primary = await this.choosePrimary();
    const [block, daily] = await Promise.all([attempt(() => primary.poll()), attempt(() => this.deps.daily.today())]);
    if (block.ok) this.deps.state.snapshot = block.value;
    if (daily.ok) this.deps.state.daily = daily.value;
    this.report(primary, block, daily);
  }

  /**
   * `auto`: claude-monitor when a v4 is installed, else ccusage (the bundled default). An
   * installed v4 that fails is not replaced by ccusage: its failure shows in /health instead.
   */
  private async choosePrimary(): Promise<UsageSource> {
    const { mode, claudeMonitor, ccusage, health } = this.deps;
    if (mode === 'ccusage') return ccusage;
    if (mode === 'claude-monitor') return claudeMonitor;
    let probe: ClaudeMonitorProbe;
    try {
      probe = await claudeMonitor.probe();
    } catch (error) {
      this.fail(health.claudeMonitor, errorOf(error));
      return ccusage;
    }
    if (!probe.found) {
      this.lastProbeReported = null;
      health.claudeMonitor.standby({ found: false, reason: probe.reason, fallback: 'ccusage' });
      return ccusage;
    }
    if (probe.supported) return claudeMonitor;
    this.reportUnsupportedOnce(probe);
    return ccusage;
  }

  /** An unusable v3 is counted as one failure per installed binary, not one per poll. */
  private reportUnsupportedOnce(probe: Extract<ClaudeMonitorProbe, { found: true }>): void {
    const key = `${probe.path}@${probe.version}`;
    if (this.lastProbeReported === key) return;
    this.lastProbeReported = key;
    this.fail(this.deps.health.claudeMonitor, {
      error: `claude-monitor ${probe.version} is not supported: ${UPGRADE_HINT}`,
      details: { path: probe.path, version: probe.version, supported: false, hint: UPGRADE_HINT, fallback: 'ccusage' },
    });
  }

  private report(primary: UsageSource, block: Outcome<UsageSnapshot>, daily: Outcome<DailyCost>): void {
    const { health } = this.deps;
    if (primary.name === 'claude-monitor') {
      this.record(health.claudeMonitor, block, () => ({ ...(block.ok ? block.value.details : {}), hint: undefined, selected: true }));
      this.record(health.ccusage, daily, () => ({ used_for: 'daily cost', selected: false }));
      return;
    }
    const combined = block.ok ? daily : block;
    this.record(health.ccusage, combined, () => ({ ...(block.ok ? block.value.details : {}), used_for: 'blocks and daily cost', selected: true }));
  }

  private record<T>(health: UsageInputHealth, outcome: Outcome<T>, details: () => Record<string, unknown>): void {
    if (outcome.ok) {
      this.lastErrors.delete(health.name);
      health.success(details());
    } else {
      this.fail(health, outcome);
    }
  }

  private fail(health: UsageInputHealth, failure: { error: string; details: Record<string, unknown> }): void {
    health.failure(failure.error, failure.details);
    if (this.lastErrors.get(health.name) !== failure.error) {
      this.deps.logger.warn('usage source failed', { source: health.name, error: failure.error });
      this.lastErrors.set(health.name, failure.error);
    }
  }
}

async function attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, ...errorOf(error) };
  }
}

function errorOf(error: unknown): { error: string; details: Record<string, unknown> } {
  return { error: errorMessage(error), details: error instanceof UsageSourceError ? error.details : {} };
}
