import { userInfo } from 'node:os';
import { z } from 'zod';
import { LOG_LEVELS } from '../util/logger.js';

/**
 * The whole configuration. Every key has a default, so an empty file (or none) gives a
 * working standalone bridge. `config.yaml` at the repo root spells the same defaults out.
 */
const ratio = z.number().min(0).max(1);
const positive = z.number().positive();
const seconds = z.number().min(0);
const HOUR_S = 3600;
const DAY_S = 24 * HOUR_S;
/** A duration in seconds up to `max`: a larger one (1e300, say) would overflow the timers and times built from it. */
const upTo = (max: number, base = positive) => base.max(max, `at most ${max} seconds`);

export const RECOVERY_ACTIONS = ['exponential_backoff', 'session_pause', 'graceful_degradation', 'notify'] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];
const action = z.enum(RECOVERY_ACTIONS);

const hostName = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'a host name such as "bridge" (no port, no scheme)')
  .transform((s) => s.toLowerCase());

/**
 * A developer's name as it appears on alerts, dashboards and in the team file: the `developer`
 * label Prometheus puts on this bridge's series. Short and plain, so it is safe as a label value,
 * a file name and a receiver name.
 */
/** The label Prometheus puts on a bridge's series in a team (the scrape config's target label). */
export const DEVELOPER_LABEL = 'developer';
export const DEVELOPER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const developerName = z
  .string()
  .regex(DEVELOPER_NAME, 'a name of 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');

/** The OS user name, made a valid developer name; "developer" when there is none. */
export function defaultDeveloperName(): string {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): fall through to the fixed name
  }
  const cleaned = user.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  return DEVELOPER_NAME.test(cleaned) ? cleaned : 'developer';
}

const bridgeSchema = z
  .strictObject({
    /**
     * Who this bridge serves. In a team, Prometheus labels the bridge's series `developer="<name>"`
     * (the team scrape config sets it per target) and alerts and dashboards name the developer by it;
     * `/health` shows it. Default: the OS user name.
     */
    name: developerName.default(defaultDeveloperName),
  })
  .prefault({});

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests); the bound port is logged. */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Body limit for ordinary JSON requests. */
    body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "1mb"').default('1mb'),
    /** Body limit for event ingestion: Stop events can carry whole transcripts. */
    events_body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "32mb"').default('32mb'),
    /** Body limit for Claude Code's HTTP hooks: a PreToolUse input carries a whole file being written. */
    hooks_body_limit: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as "8mb"').default('8mb'),
    /**
     * Host names (besides loopback names and IP addresses) the bridge answers to, e.g. `bridge`
     * in the compose network. Any other Host header is refused: a DNS-rebinding page cannot talk
     * to the bridge through a name of its own.
     */
    allowed_hosts: z.array(hostName).default([]),
    /**
     * Browser origins allowed to make requests, e.g. a dashboard on another port. Pages the
     * bridge serves itself are always allowed; any other page in the user's browser is refused.
     */
    allowed_origins: z.array(z.url({ protocol: /^https?$/, error: 'an origin such as "http://localhost:3000"' })).default([]),
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
    token: z
      .string()
      .min(16, 'at least 16 characters')
      .max(4096, 'at most 4096 characters')
      .regex(/^\S+$/, 'no spaces or other white space (a token with them could never be sent in a header)')
      .nullable()
      .default(null),
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
    /**
     * Catching up after a reconnect or a restart asks the server for ever larger windows of its
     * newest events (`GET /events/recent?limit=N`, streamed) until the last counted event is in one;
     * this is the largest. Reaching it is counted (`claude_bridge_hooks_catch_up_capped_total`):
     * older missed events are then not counted.
     */
    catch_up_max_events: z.number().int().min(300).default(50_000),
    /**
     * How many of the most recently counted events are remembered by content (with a few older
     * ones), saved in `state.dir`: after the server loses its newest rows (a crash, its WAL
     * clean-up), the newest one still intact tells which ids it hands out again.
     */
    cursor_history: z.number().int().min(16).default(2048),
  })
  .prefault({});

const hooksSchema = z
  .strictObject({
    /** Longest a backoff hold may last per hook event, below Claude Code's hook timeouts. */
    max_hold_ms: z
      .strictObject({
        PreToolUse: z.number().int().min(0).max(590_000, 'below Claude Code\'s 600 s hook timeout').default(50_000),
        UserPromptSubmit: z.number().int().min(0).max(29_000, 'below Claude Code\'s 30 s prompt hook timeout').default(25_000),
      })
      .prefault({}),
    /** Hook requests held at once; past this a hook is answered at once (and counted) instead of held. */
    max_held_requests: z.number().int().min(1).max(100_000).default(256),
    /** A session without events for this long no longer counts as active. */
    session_ttl_s: upTo(7 * DAY_S).default(3600),
    /** Distinct tool label values before the rest are counted as `other`. */
    max_tool_labels: z.number().int().min(1).default(50),
    /** Distinct source_app label values before the rest are counted as `other`. */
    max_source_labels: z.number().int().min(1).default(20),
    /** PreToolUse calls waiting for their PostToolUse, for the duration histogram. */
    max_pending_tools: z.number().int().min(1).default(10_000),
    /**
     * What the command hook (`claude-bridge hook`) answers when the bridge cannot be reached:
     * `last_state` applies the recovery state the bridge last saved in state.dir (a pause holds
     * until its resume time), `fail_open` lets everything through.
     */
    command_fallback: z.enum(['last_state', 'fail_open']).default('last_state'),
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
    /**
     * How long after a change the index is written; changes in between are written together. Each
     * write is the whole index (and an fsync); after a crash, what was appended since is read again.
     */
    index_flush_s: positive.default(300),
  })
  .prefault({});

const usageSchema = z
  .strictObject({
    /** auto: the first usable of transcripts (in-process reader), claude-monitor, ccusage. */
    source: z.enum(['auto', 'transcripts', 'claude-monitor', 'ccusage', 'none']).default('auto'),
    poll_interval_s: upTo(DAY_S).default(30),
    timeout_s: upTo(HOUR_S).default(20),
    max_output_bytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    plan: z.enum(['pro', 'max5', 'max20', 'custom']).default('max5'),
    /** Token limit of a 5-hour block: `plan`, `p90`, or a number of tokens. */
    token_limit: z.union([z.literal('plan'), z.literal('p90'), z.number().int().positive()]).default('plan'),
    claude_monitor_path: z.string().min(1).nullable().default(null),
    /** Folder that contains `projects/`; null uses CLAUDE_CONFIG_DIR or ~/.claude. */
    claude_config_dir: z.string().min(1).nullable().default(null),
    /** How long official status line figures override local estimates. */
    statusline_ttl_s: upTo(DAY_S).default(300),
    /** Which cost the cost alert compares: the active 5-hour block or the calendar day. */
    cost_scope: z.enum(['block', 'day']).default('day'),
    /** Per model id: prices in USD per million tokens over the shipped table (ccusage 20.0.24's offline prices). */
    pricing: z.record(z.string().min(1), modelPricingSchema).default({}),
    /** The incremental transcript reader (`source: transcripts`). */
    transcripts: transcriptsSchema,
  })
  .prefault({});

const otlpSchema = z
  .strictObject({
    /** The OTLP/HTTP receiver for Claude Code's own telemetry, on its own port. */
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    /** 4318 is OTLP/HTTP's registered port; 0 picks a free one (tests). */
    port: z.number().int().min(0).max(65535).default(4318),
    /** Largest request body, after decompression (the OTLP/HTTP specification recommends 20 MiB). */
    max_body_bytes: z.number().int().min(1024).default(20 * 1024 * 1024),
    /** How long to wait before trying again when the port cannot be bound (e.g. a Collector has it). */
    retry_bind_s: positive.default(30),
  })
  .prefault({});

const alertsSchema = z
  .strictObject({
    token_threshold: ratio.default(0.8),
    time_threshold: positive.max(24, 'at most 24 (hours)').default(4.5),
    cost_threshold: positive.max(1_000_000, 'at most 1000000 (USD)').default(50.0),
    rate_limit_threshold: ratio.default(0.9),
    /** How long a condition must hold before its alert fires. */
    for_seconds: z
      .strictObject({
        rate_limit: upTo(DAY_S, seconds).default(30),
        time_limit: upTo(DAY_S, seconds).default(60),
        token_threshold: upTo(DAY_S, seconds).default(60),
        cost_threshold: upTo(DAY_S, seconds).default(60),
      })
      .prefault({}),
  })
  .prefault({});

const alertingSchema = z
  .strictObject({
    /** embedded: the in-process evaluator; alertmanager: only webhook notices; both. */
    mode: z.enum(['embedded', 'alertmanager', 'both']).default('embedded'),
    evaluation_interval_s: upTo(HOUR_S).default(15),
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
        base_s: upTo(HOUR_S).default(1),
        cap_s: upTo(DAY_S).default(32),
        /** 0 = none; 0.2 shortens each delay by up to 20 %. */
        jitter: ratio.default(0),
        /** Quiet time after the alert resolves before the attempt count starts over. */
        reset_after_s: upTo(DAY_S, seconds).default(300),
        /** How long a one-shot signal (a StopFailure rate_limit) keeps backoff active. */
        signal_ttl_s: upTo(DAY_S).default(120),
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
  bridge: bridgeSchema,
  server: serverSchema,
  logging: loggingSchema,
  state: stateSchema,
  auth: authSchema,
  hooks_server: hooksServerSchema,
  hooks: hooksSchema,
  usage: usageSchema,
  otlp: otlpSchema,
  alerts: alertsSchema,
  alerting: alertingSchema,
  recovery: recoverySchema,
});

export type BridgeConfig = z.infer<typeof configSchema>;
export type AlertsConfig = BridgeConfig['alerts'];
export type RecoveryConfig = BridgeConfig['recovery'];
