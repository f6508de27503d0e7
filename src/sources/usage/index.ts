import type { BridgeComponent, BridgeContext, ComponentFactory } from '../../bridge.js';
import { OfficialRateLimits } from '../statusline/official-limits.js';
import { statuslineRoutes } from '../statusline/routes.js';
import { CcusageDailyCost, CcusageRunner, CcusageSource, claudeConfigDir, systemTimeZone } from './ccusage.js';
import { ClaudeMonitorSource } from './claude-monitor.js';
import { UsageInputHealth, type InputRole } from './input-health.js';
import { registerUsageMetrics } from './metrics.js';
import { UsagePoller } from './poller.js';
import { UsageState } from './state.js';
import { usageData } from './summary.js';

export interface UsageComponentOptions {
  /** Environment for PATH and CLAUDE_CONFIG_DIR lookups; the process's by default. */
  env?: NodeJS.ProcessEnv;
  /** IANA zone "today" is counted in; the system's by default. */
  timeZone?: string;
  /** How to run ccusage; the pinned package's binary by default. */
  ccusageCommand?: { file: string; prefix: string[] };
}

export interface UsageComponent extends BridgeComponent {
  readonly state: UsageState;
  /** null with `source: none`. */
  readonly poller: UsagePoller | null;
}

/**
 * Usage analytics: polls claude-monitor v4 or the bundled ccusage (config `usage.source`), takes
 * Claude Code's status line on /statusline, exports the usage metrics and feeds the embedded
 * evaluator's signals. `source: none` polls nothing; the status line still works.
 */
export function createUsageComponent(options: UsageComponentOptions = {}): ComponentFactory {
  return (context) => buildUsageComponent(context, options);
}

export function buildUsageComponent(context: BridgeContext, options: UsageComponentOptions = {}): UsageComponent {
  const { config, registry, clock, logger, controller } = context;
  const usage = config.usage;
  const env = options.env ?? process.env;
  const official = new OfficialRateLimits(usage.statusline_ttl_s * 1000);
  const state = new UsageState(usage, clock, official, options.timeZone ?? systemTimeZone());
  const { statuslineUpdates } = registerUsageMetrics(registry, () => state.figures());
  const claudeMonitorRole: InputRole = usage.source === 'claude-monitor' ? 'active' : usage.source === 'auto' ? 'standby' : 'disabled';
  const health = {
    claudeMonitor: new UsageInputHealth('claude-monitor', registry, clock, claudeMonitorRole),
    ccusage: new UsageInputHealth('ccusage', registry, clock, usage.source === 'none' ? 'disabled' : 'active'),
  };
  let poller: UsagePoller | null = null;
  if (usage.source !== 'none') {
    const now = () => clock.now();
    const ccusageOptions = {
      usage,
      configDir: claudeConfigDir(usage, env),
      now,
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      ...(options.ccusageCommand ? { command: options.ccusageCommand } : {}),
    };
    const runner = new CcusageRunner(ccusageOptions);
    poller = new UsagePoller({
      mode: usage.source,
      claudeMonitor: new ClaudeMonitorSource({
        usage,
        env,
        now,
        ...(usage.claude_config_dir ? { childEnv: { CLAUDE_CONFIG_DIR: ccusageOptions.configDir } } : {}),
      }),
      ccusage: new CcusageSource(ccusageOptions, runner),
      daily: new CcusageDailyCost(ccusageOptions, runner),
      health,
      state,
      clock,
      intervalMs: usage.poll_interval_s * 1000,
      logger: logger.child({ component: 'usage' }),
    });
  }
  return {
    name: 'usage',
    routes: statuslineRoutes({ state, controller, clock, updates: statuslineUpdates }),
    health: [health.claudeMonitor, health.ccusage],
    usageSummary: { summary: () => usageData(state.figures(), official.lastUpdateAt()) },
    signals: state,
    start: () => poller?.start(),
    stop: () => poller?.stop(),
    state,
    poller,
  };
}

export const usageComponent: ComponentFactory = createUsageComponent();
