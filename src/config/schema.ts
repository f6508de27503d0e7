import { z } from 'zod';
import { LOG_LEVELS } from '../util/logger.js';

/**
 * The whole configuration. Every key has a default, so an empty file (or none) gives a
 * working standalone bridge. `config.yaml` at the repo root spells the same defaults out.
 */
const ratio = z.number().min(0).max(1);
const positive = z.number().positive();
const seconds = z.number().min(0);

export const RECOVERY_ACTIONS = ['exponential_backoff', 'session_pause', 'graceful_degradation', 'notify'] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];
const action = z.enum(RECOVERY_ACTIONS);

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests); the bound port is logged. */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Body limit for ordinary JSON requests. */
    body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "1mb"').default('1mb'),
    /** Body limit for event ingestion: Stop events can carry whole transcripts. */
    events_body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "32mb"').default('32mb'),
  })
  .prefault({});

const loggingSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info'),
    file: z.string().min(1).nullable().default(null),
  })
  .prefault({});

const stateSchema = z
  .strictObject({
    /** Where the recovery state is persisted; `~` is expanded. */
    dir: z.string().min(1).default('~/.claude-bridge/state'),
  })
  .prefault({});

const authSchema = z
  .strictObject({
    /** When set, mutating endpoints require `Authorization: Bearer <token>`. */
    token: z.string().min(16, 'at least 16 characters').nullable().default(null),
  })
  .prefault({});

const hooksServerSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    url: z.string().regex(/^wss?:\/\//, 'a ws:// or wss:// URL').default('ws://localhost:4000/stream'),
    reconnect_initial_ms: z.number().int().min(10).default(1000),
    reconnect_max_ms: z.number().int().min(10).default(30000),
    /** Frames above this size are refused by the socket (Stop events carry transcripts). */
    max_frame_bytes: z.number().int().min(1024).default(256 * 1024 * 1024),
    /** How many event ids are remembered above the contiguous low-water mark. */
    dedupe_window: z.number().int().min(100).default(100_000),
  })
  .prefault({});

const hooksSchema = z
  .strictObject({
    /** Longest a backoff hold may last per hook event, below Claude Code's hook timeouts. */
    max_hold_ms: z
      .strictObject({
        PreToolUse: z.number().int().min(0).default(50_000),
        UserPromptSubmit: z.number().int().min(0).default(25_000),
      })
      .prefault({}),
    /** A session without events for this long no longer counts as active. */
    session_ttl_s: positive.default(3600),
    /** Distinct tool label values before the rest are counted as `other`. */
    max_tool_labels: z.number().int().min(1).default(50),
    /** Distinct source_app label values before the rest are counted as `other`. */
    max_source_labels: z.number().int().min(1).default(20),
    /** PreToolUse calls waiting for their PostToolUse, for the duration histogram. */
    max_pending_tools: z.number().int().min(1).default(10_000),
  })
  .prefault({});

const perMillion = z.number().min(0);
const kindPrices = {
  /** USD per million input tokens. */
  input: perMillion,
  output: perMillion,
  /** 5-minute cache writes; ccusage's default is 1.25 × input. (1-hour writes cost 2 × input.) */
  cache_write: perMillion.optional(),
  /** Default 0.1 × input. */
  cache_read: perMillion.optional(),
};
/** One model's prices, replacing the shipped table's (or adding a model it does not know). */
const modelPricingSchema = z.strictObject({
  ...kindPrices,
  /** Rates for each kind's tokens beyond 200,000 in one message (the 1M-context models). */
  above_200k: z.strictObject(kindPrices).optional(),
  /** Cost multiplier for `speed: "fast"` messages. */
  fast: positive.optional(),
});

const transcriptsSchema = z
  .strictObject({
    /** The active block's rule: `ccusage` (the same blocks as `ccusage blocks`) or `claude-monitor` (a block ends at its 5-hour mark even while still used). */
    block_rule: z.enum(['ccusage', 'claude-monitor']).default('ccusage'),
    /** File-system notifications (inotify, FSEvents): an append counts within a second. Off: only the sweep notices. */
    watch: z.boolean().default(true),
    /** The stat sweep that catches what notifications miss (network folders, a full inotify table). */
    sweep_interval_s: positive.default(20),
    /** Keep the reader's index (offsets and counted entries) in state.dir, so a restart resumes instead of reading everything. */
    index: z.boolean().default(true),
    /** How long after a change the index is written; changes in between are written together. */
    index_flush_s: positive.default(60),
  })
  .prefault({});

const usageSchema = z
  .strictObject({
    /** auto: the first usable of transcripts (in-process reader), claude-monitor, ccusage. */
    source: z.enum(['auto', 'transcripts', 'claude-monitor', 'ccusage', 'none']).default('auto'),
    poll_interval_s: positive.default(30),
    timeout_s: positive.default(20),
    max_output_bytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    plan: z.enum(['pro', 'max5', 'max20', 'custom']).default('max5'),
    /** Token limit of a 5-hour block: `plan`, `p90`, or a number of tokens. */
    token_limit: z.union([z.literal('plan'), z.literal('p90'), z.number().int().positive()]).default('plan'),
    claude_monitor_path: z.string().min(1).nullable().default(null),
    /** Folder that contains `projects/`; null uses CLAUDE_CONFIG_DIR or ~/.claude. */
    claude_config_dir: z.string().min(1).nullable().default(null),
    /** How long official status line figures override local estimates. */
    statusline_ttl_s: positive.default(300),
    /** Which cost the cost alert compares: the active 5-hour block or the calendar day. */
    cost_scope: z.enum(['block', 'day']).default('day'),
    /** Per model id: prices in USD per million tokens over the shipped table (ccusage 20.0.24's offline prices). */
    pricing: z.record(z.string().min(1), modelPricingSchema).default({}),
    /** The incremental transcript reader (`source: transcripts`). */
    transcripts: transcriptsSchema,
  })
  .prefault({});

const alertsSchema = z
  .strictObject({
    token_threshold: ratio.default(0.8),
    time_threshold: positive.default(4.5),
    cost_threshold: positive.default(50.0),
    rate_limit_threshold: ratio.default(0.9),
    /** How long a condition must hold before its alert fires. */
    for_seconds: z
      .strictObject({
        rate_limit: seconds.default(30),
        time_limit: seconds.default(60),
        token_threshold: seconds.default(60),
        cost_threshold: seconds.default(60),
      })
      .prefault({}),
  })
  .prefault({});

const alertingSchema = z
  .strictObject({
    /** embedded: the in-process evaluator; alertmanager: only webhook notices; both. */
    mode: z.enum(['embedded', 'alertmanager', 'both']).default('embedded'),
    evaluation_interval_s: positive.default(15),
  })
  .prefault({});

const recoverySchema = z
  .strictObject({
    rate_limit: action.default('exponential_backoff'),
    time_limit: action.default('session_pause'),
    cost_limit: action.default('graceful_degradation'),
    token_limit: action.default('notify'),
    auto_recovery: z.boolean().default(true),
    backoff: z
      .strictObject({
        base_s: positive.default(1),
        cap_s: positive.default(32),
        /** 0 = none; 0.2 shortens each delay by up to 20 %. */
        jitter: ratio.default(0),
        /** Quiet time after the alert resolves before the attempt count starts over. */
        reset_after_s: seconds.default(300),
        /** How long a one-shot signal (a StopFailure rate_limit) keeps backoff active. */
        signal_ttl_s: positive.default(120),
      })
      .prefault({}),
    pause: z
      .strictObject({
        /** Local hour of the next day to resume at when no window reset time is known. */
        fallback_resume_hour: z.number().int().min(0).max(23).default(9),
      })
      .prefault({}),
    degradation: z
      .strictObject({
        deny_tools: z.array(z.string().min(1)).default(['Task', 'Agent', 'WebSearch', 'WebFetch']),
        context_message: z
          .string()
          .nullable()
          .default(
            'Budget mode: the cost threshold was reached. Prefer cheap, focused work: avoid subagents and web access, keep answers short.',
          ),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: serverSchema,
  logging: loggingSchema,
  state: stateSchema,
  auth: authSchema,
  hooks_server: hooksServerSchema,
  hooks: hooksSchema,
  usage: usageSchema,
  alerts: alertsSchema,
  alerting: alertingSchema,
  recovery: recoverySchema,
});

export type BridgeConfig = z.infer<typeof configSchema>;
export type AlertsConfig = BridgeConfig['alerts'];
export type RecoveryConfig = BridgeConfig['recovery'];
