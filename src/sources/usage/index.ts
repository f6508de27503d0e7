import type { BridgeComponent, ComponentContext, ComponentFactory } from '../../component.js';
import { OfficialRateLimits } from '../statusline/official-limits.js';
import { statuslineRoutes } from '../statusline/routes.js';
import { claudeConfigDir, systemTimeZone } from './ccusage.js';
import { UsageInputHealth, type InputRole } from './input-health.js';
import { registerUsageMetrics } from './metrics.js';
import { UsagePoller } from './poller.js';
import { USAGE_SOURCES, type UsageSourceRegistration } from './sources.js';
import { UsageState } from './state.js';
import { usageData } from './summary.js';
import type { DailyCostSource, UsageSource } from './types.js';

export interface UsageComponentOptions {
  /** Environment for PATH and CLAUDE_CONFIG_DIR lookups; the process's by default. */
  env?: NodeJS.ProcessEnv;
  /** IANA zone "today" is counted in; the system's by default. */
  timeZone?: string;
  /** How to run ccusage; the pinned package's binary by default. */
  ccusageCommand?: { file: string; prefix: string[] };
  /** The sources to choose among; every registered one by default. */
  sources?: UsageSourceRegistration[];
}

export interface UsageComponent extends BridgeComponent {
  readonly state: UsageState;
  /** null with `source: none`. */
  readonly poller: UsagePoller | null;
}

/**
 * Usage analytics: polls the configured usage source (`usage.source`; `auto` takes the first
 * usable one of USAGE_SOURCES), takes Claude Code's status line on /statusline, exports the usage
 * metrics and feeds the embedded evaluator's signals. `source: none` polls nothing; the status
 * line still works.
 */
export function createUsageComponent(options: UsageComponentOptions = {}): ComponentFactory {
  return (context) => buildUsageComponent(context, options);
}

export function buildUsageComponent(context: ComponentContext, options: UsageComponentOptions = {}): UsageComponent {
  const { config, registry, clock, logger } = context;
  const usage = config.usage;
  const env = options.env ?? process.env;
  const timeZone = options.timeZone ?? systemTimeZone();
  const official = new OfficialRateLimits(usage.statusline_ttl_s * 1000);
  const state = new UsageState(usage, clock, official, timeZone);
  const { statuslineUpdates } = registerUsageMetrics(registry, () => state.figures());
  const built = (options.sources ?? USAGE_SOURCES).map((registration) =>
    registration.create({
      usage,
      env,
      now: () => clock.now(),
      configDir: claudeConfigDir(usage, env),
      timeZone,
      ...(options.ccusageCommand ? { ccusageCommand: options.ccusageCommand } : {}),
    }),
  );
  const sources: UsageSource[] = built.map((b) => b.source);
  const daily: DailyCostSource | null = built.find((b) => b.daily)?.daily ?? null;
  const roleOf = (name: string): InputRole => {
    if (usage.source === 'none') return 'disabled';
    if (usage.source === name || daily?.name === name) return 'active';
    return usage.source === 'auto' ? 'standby' : 'disabled';
  };
  const health = new Map(sources.map((s) => [s.name, new UsageInputHealth(s.name, registry, clock, roleOf(s.name))]));
  const poller =
    usage.source === 'none'
      ? null
      : new UsagePoller({
          mode: usage.source,
          sources,
          daily,
          health,
          state,
          clock,
          intervalMs: usage.poll_interval_s * 1000,
          logger: logger.child({ component: 'usage' }),
        });
  return {
    name: 'usage',
    routes: statuslineRoutes({ state, recoveryState: () => context.recoveryState(), clock, updates: statuslineUpdates }),
    health: [...health.values()],
    section: { key: 'usage_data', read: () => usageData(state.figures(), official.lastUpdateAt()) },
    signals: () => state.signals(),
    start: () => poller?.start(),
    stop: () => poller?.stop(),
    state,
    poller,
  };
}

export const usageComponent: ComponentFactory = createUsageComponent();
