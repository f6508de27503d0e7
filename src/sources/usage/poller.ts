import type { Clock, TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { UsageInputHealth } from './input-health.js';
import type { UsageState } from './state.js';
import { UsageSourceError, type DailyCost, type DailyCostSource, type UsageSnapshot, type UsageSource } from './types.js';

export interface UsagePollerDeps {
  /** `auto`, or the name of the one source to use. */
  mode: string;
  /** Every registered source, in `auto`'s order of preference. */
  sources: UsageSource[];
  daily: DailyCostSource | null;
  /** The /health entry of each source, by name. */
  health: Map<string, UsageInputHealth>;
  state: UsageState;
  clock: Clock;
  intervalMs: number;
  logger: Logger;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string; details: Record<string, unknown> };

/**
 * Polls the block source and the daily cost every interval. One cycle at a time: a cycle still
 * running (up to the subprocess timeout) is joined, never doubled. Every failure lands in
 * /health; none escapes.
 */
export class UsagePoller {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  /** The unusable-source problem last reported per source (reported once, not every poll). */
  private readonly reportedProblems = new Map<string, string>();
  private readonly lastErrors = new Map<string, string>();
  /** A poll was asked for while one ran: run again when it ends (the data changed meanwhile). */
  private again = false;
  /** The source chosen at the last cycle; undefined before the first. */
  private primary: string | null | undefined;

  constructor(private readonly deps: UsagePollerDeps) {}

  /** The source that served the block figures at the last cycle (undefined: none ran yet). */
  primaryName(): string | null | undefined {
    return this.primary;
  }

  /**
   * A source saw new data. The block source: poll now, or once more right after the cycle in
   * flight (which may have read the data before it changed); bursts collapse into one extra
   * cycle. The daily cost source alone: only today's cost is read again.
   */
  requestPoll(source: string): void {
    if (!this.running) return;
    const primary = this.primary === undefined ? this.deps.mode : this.primary;
    if (source !== primary) {
      if (this.deps.daily?.name === source) void this.refreshDaily();
      return;
    }
    if (this.inFlight) {
      this.again = true;
      return;
    }
    void this.pollOnce();
  }

  private async refreshDaily(): Promise<void> {
    const daily = this.deps.daily;
    if (!daily) return;
    const cost = await attempt(() => daily.today());
    if (cost.ok) this.deps.state.daily = cost.value;
    const health = this.healthOf(daily.name);
    if (health) this.record(health, cost, () => ({ used_for: 'daily cost', selected: false }));
  }

  start(): void {
    this.running = true;
    void this.pollOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const source of this.deps.sources) source.cancel?.();
    this.deps.daily?.cancel?.();
    await this.inFlight;
    for (const source of this.deps.sources) source.dispose?.();
    await Promise.all([...this.deps.sources.map((source) => source.stop?.()), this.deps.daily?.stop?.()]);
  }

  /** Runs a cycle now, or joins the one in flight. */
  pollOnce(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const startedAt = this.deps.clock.now();
    this.inFlight = this.cycle()
      .catch((error: unknown) => this.deps.logger.error('usage poll failed unexpectedly', { error: errorMessage(error) }))
      .finally(() => {
        this.inFlight = null;
        if (this.again && this.running) {
          this.again = false;
          void this.pollOnce();
        } else {
          this.scheduleNext(startedAt);
        }
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
    this.primary = primary?.name ?? null;
    const daily = this.deps.daily;
    const [block, cost] = await Promise.all([
      primary ? attempt(() => primary.poll()) : null,
      daily ? attempt(() => daily.today()) : null,
    ]);
    if (block?.ok) this.deps.state.snapshot = block.value;
    if (cost?.ok) this.deps.state.daily = cost.value;
    this.report(primary, block, cost);
  }

  /**
   * The configured source, or with `auto` the first usable one. A usable source that then fails
   * is not replaced by the next: its failure shows in /health instead.
   */
  private async choosePrimary(): Promise<UsageSource | null> {
    const { mode, sources } = this.deps;
    if (mode !== 'auto') return sources.find((s) => s.name === mode) ?? null;
    for (const [index, source] of sources.entries()) {
      const fallback = sources[index + 1]?.name;
      if (await this.usable(source, fallback)) return source;
    }
    return null;
  }

  private async usable(source: UsageSource, fallback: string | undefined): Promise<boolean> {
    if (!source.availability) return true;
    const health = this.healthOf(source.name);
    const next = fallback ? { fallback } : {};
    try {
      const availability = await source.availability();
      if (availability.usable) return true;
      if ('standby' in availability) {
        this.reportedProblems.delete(source.name);
        health?.standby({ ...availability.standby, ...next });
      } else if (this.reportedProblems.get(source.name) !== availability.key) {
        this.reportedProblems.set(source.name, availability.key);
        if (health) this.fail(health, { error: availability.problem, details: { ...availability.details, ...next } });
      }
    } catch (error) {
      if (health) this.fail(health, errorOf(error));
    }
    return false;
  }

  private report(primary: UsageSource | null, block: Outcome<UsageSnapshot> | null, cost: Outcome<DailyCost> | null): void {
    const daily = this.deps.daily;
    const primaryHealth = primary ? this.healthOf(primary.name) : undefined;
    const blockDetails = () => (block?.ok ? block.value.details : {});
    const live = block?.ok ? block.value.liveDetails : undefined;
    if (primary && daily && primary.name === daily.name) {
      const combined = block?.ok ? cost : block;
      if (primaryHealth && combined) this.record(primaryHealth, combined, () => ({ ...blockDetails(), used_for: 'blocks and daily cost', selected: true }), live);
      return;
    }
    if (primaryHealth && block) this.record(primaryHealth, block, () => ({ ...blockDetails(), hint: undefined, selected: true }), live);
    const dailyHealth = daily ? this.healthOf(daily.name) : undefined;
    if (dailyHealth && cost) this.record(dailyHealth, cost, () => ({ used_for: 'daily cost', selected: false }));
  }

  private healthOf(name: string): UsageInputHealth | undefined {
    return this.deps.health.get(name);
  }

  private record<T>(health: UsageInputHealth, outcome: Outcome<T>, details: () => Record<string, unknown>, live?: () => Record<string, unknown>): void {
    if (outcome.ok) {
      this.lastErrors.delete(health.name);
      health.success(details(), live);
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
