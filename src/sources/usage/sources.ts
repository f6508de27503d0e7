import type { BridgeConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { CcusageDailyCost, CcusageRunner, CcusageSource } from './ccusage.js';
import { ClaudeMonitorSource } from './claude-monitor.js';
import { createTranscriptReader, TranscriptDailyCost, TranscriptSource } from './transcripts/source.js';
import type { DailyCostSource, UsageSource } from './types.js';

/** What a source is built from; the same for every source. */
export interface UsageSourceOptions {
  usage: BridgeConfig['usage'];
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** The folder(s) containing `projects/` (config, then CLAUDE_CONFIG_DIR, then ~/.claude). */
  configDir: string;
  /** IANA zone "today" is counted in. */
  timeZone: string;
  /** How to run ccusage; the pinned package's binary by default. */
  ccusageCommand?: { file: string; prefix: string[] };
  /** The bridge's state folder (expanded), for what a source keeps between runs; null: nothing on disk. */
  stateDir: string | null;
  clock: Clock;
  logger: Logger;
  /** A source that notices new data itself calls this to have it polled at once. */
  onChange: () => void;
}

export interface UsageSourceRegistration {
  /** As written in `usage.source` (src/config/schema.ts lists the names). */
  name: string;
  create(options: UsageSourceOptions): { source: UsageSource; daily?: DailyCostSource };
}

/**
 * Every usage source, in the order `usage.source: auto` prefers them: a new source is one module
 * plus its line here (and its name in the config schema).
 */
export const USAGE_SOURCES: UsageSourceRegistration[] = [
  {
    name: 'transcripts',
    create: ({ usage, now, configDir, timeZone, stateDir, clock, logger, onChange }) => {
      const reader = createTranscriptReader({ usage, configDir, stateDir, clock, timeZone, logger, onChange });
      return { source: new TranscriptSource(reader, usage, now), daily: new TranscriptDailyCost(reader, now) };
    },
  },
  {
    name: 'claude-monitor',
    create: ({ usage, env, now, configDir }) => ({
      source: new ClaudeMonitorSource({ usage, env, now, ...(usage.claude_config_dir ? { childEnv: { CLAUDE_CONFIG_DIR: configDir } } : {}) }),
    }),
  },
  {
    name: 'ccusage',
    create: ({ usage, now, configDir, timeZone, ccusageCommand }) => {
      const options = { usage, configDir, now, timeZone, ...(ccusageCommand ? { command: ccusageCommand } : {}) };
      const runner = new CcusageRunner(options);
      return { source: new CcusageSource(options, runner), daily: new CcusageDailyCost(options, runner) };
    },
  },
];
