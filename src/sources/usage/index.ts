import type { BridgeComponent, ComponentContext, ComponentFactory } from '../../component.js';
import { expandHome } from '../../config/index.js';
import type { HealthReporter, SourceStatus } from '../../metrics/source-health.js';
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
  /** Where sources keep state between runs (the transcript index); `state.dir` by default, null: nowhere. */
  stateDir?: string | null;
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
  let poller: UsagePoller | null = null;
  const built = (options.sources ?? USAGE_SOURCES).map((registration) =>
    registration.create({
      usage,
      env,
      now: () => clock.now(),
      configDir: claudeConfigDir(usage, env),
      timeZone,
      stateDir: options.stateDir === undefined ? expandHome(config.state.dir) : options.stateDir,
      clock,
      logger: logger.child({ component: 'usage', source: registration.name }),
      onChange: () => poller?.requestPoll(registration.name),
      ...(options.ccusageCommand ? { ccusageCommand: options.ccusageCommand } : {}),
    }),
  );
  const sources: UsageSource[] = built.map((b) => b.source);
  const daily = dailySourceFor(usage.source, built);
  const roleOf = (name: string): InputRole => {
    if (usage.source === 'none') return 'disabled';
    if (usage.source === name || daily?.name === name) return 'active';
    return usage.source === 'auto' ? 'standby' : 'disabled';
  };
  const health = new Map(sources.map((s) => [s.name, new UsageInputHealth(s.name, registry, clock, roleOf(s.name))]));
  poller =
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
  const figures = figuresHealth(usage.source, state, () => poller?.primaryName(), daily?.name ?? null);
  return {
    name: 'usage',
    routes: statuslineRoutes({ state, recoveryState: () => context.recoveryState(), clock, updates: statuslineUpdates }),
    health: [...health.values(), figures],
    section: { key: 'usage_data', read: () => usageData(state.figures(), official.lastUpdateAt()) },
    signals: () => state.signals(),
    start: () => poller?.start(),
    stop: () => poller?.stop(),
    state,
    poller,
  };
}

/**
 * Today's cost comes from the configured source when it has one (ccusage: `ccusage daily`),
 * otherwise from the first registered source that has one (the transcript reader: in-process).
 */
function dailySourceFor(mode: string, built: { source: UsageSource; daily?: DailyCostSource }[]): DailyCostSource | null {
  const own = built.find((b) => b.source.name === mode)?.daily;
  return own ?? built.find((b) => b.daily)?.daily ?? null;
}

/** The `usage` entry of /health: which input serves each figure right now. */
function figuresHealth(mode: string, state: UsageState, primary: () => string | null | undefined, daily: string | null): HealthReporter {
  return {
    name: 'usage',
    status(): SourceStatus {
      const figures = state.figures();
      const chosen = mode === 'none' ? null : primary();
      const blockSource = chosen ?? null;
      const windows = Object.fromEntries(
        Object.entries(figures.rateLimits).map(([window, figure]) => [window, figure.source === 'official' ? 'statusline' : figures.source]),
      );
      // undefined: no cycle has run yet, nothing to report
      const unserved = mode !== 'none' && chosen === null;
      return {
        enabled: mode !== 'none',
        up: !unserved,
        last_success: null,
        last_error: unserved ? 'no usage source can serve the block figures (see the sources above)' : null,
        last_error_at: null,
        details: {
          mode,
          figures: {
            block: blockSource,
            daily_cost: mode === 'none' ? null : daily,
            rate_limits: windows,
            statusline: 'POST /statusline',
          },
        },
      };
    },
  };
}

export const usageComponent: ComponentFactory = createUsageComponent();
