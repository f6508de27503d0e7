import type { UsageSignals } from '../../component.js';
import type { BridgeConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import type { OfficialRateLimits } from '../statusline/official-limits.js';
import { calendarDate } from './ccusage.js';
import type { DailyCost } from './types.js';
import { deriveFigures, signalsOf, type UsageFigures } from './figures.js';
import type { UsageSnapshot } from './types.js';

/** The latest data from every usage input; figures are derived from it at the clock's now. */
export class UsageState {
  snapshot: UsageSnapshot | null = null;
  daily: DailyCost | null = null;

  constructor(
    private readonly usage: BridgeConfig['usage'],
    private readonly clock: Clock,
    readonly official: OfficialRateLimits,
    private readonly timeZone: string,
  ) {}

  figures(): UsageFigures {
    const now = this.clock.now();
    return deriveFigures({
      usage: this.usage,
      now,
      today: calendarDate(now, this.timeZone),
      snapshot: this.snapshot,
      daily: this.daily,
      official: this.official.fresh(now),
    });
  }

  signals(): UsageSignals {
    return signalsOf(this.figures(), this.usage.cost_scope);
  }
}
