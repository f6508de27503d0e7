export interface TokenCounts {
  input: number;
  output: number;
  cache_creation: number;
  cache_read: number;
}

export const MODEL_FAMILIES = ['opus', 'sonnet', 'haiku', 'other'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const RATE_LIMIT_WINDOWS = ['five_hour', 'seven_day'] as const;
export type RateLimitWindowName = (typeof RATE_LIMIT_WINDOWS)[number];

/** A registered source's name (src/sources/usage/sources.ts), as in `usage.source`. */
export type UsageSourceName = string;

/** Input+output tokens and cost of one model family in the active block. */
export interface FamilyUsage {
  /** input + output tokens. */
  tokens: number;
  costUsd: number | null;
}

/** The active 5-hour block as a source reported it. Times are ms since the epoch. */
export interface ActiveBlock {
  start: number;
  end: number;
  /** A reset time the source learnt (e.g. from a rate-limit message), else null. */
  limitResetsAt: number | null;
  tokens: TokenCounts;
  byFamily: Partial<Record<ModelFamily, FamilyUsage>>;
  costUsd: number;
  /** Input+output tokens per minute and USD per hour; null while unknown. */
  burnRate: { tokensPerMinute: number; usdPerHour: number } | null;
}

/** A rate-limit window figure: official (Claude Code's status line) or a local estimate. */
export interface RateLimitFigure {
  usedRatio: number;
  resetsAt: number | null;
  source: 'official' | 'estimate';
}

/** What one poll of a usage source yields, normalized across sources. */
export interface UsageSnapshot {
  source: UsageSourceName;
  takenAt: number;
  activeBlock: ActiveBlock | null;
  /** Input+output tokens of every completed (not active, not gap) block: the P90 input. */
  completedBlockTokens: number[];
  /** Rate-limit figures the source itself knows (claude-monitor's `limits`). */
  rateLimits: Partial<Record<RateLimitWindowName, RateLimitFigure>>;
  /** The source's own token limit for the block (claude-monitor's plan limit or P90). */
  tokenLimit: number | null;
  /** Source-specific facts for /health (exit status, version, …). */
  details: Record<string, unknown>;
  /**
   * Facts read when /health asks instead of at each poll (the transcript reader's counters): the
   * reader asks for a poll after each read, which should cost no more than the figures.
   */
  liveDetails?: () => Record<string, unknown>;
}

/**
 * Whether a source can serve on this machine now; `usage.source: auto` takes the first usable
 * source of the registration order. Not installed is `standby` (shown in /health, no problem);
 * installed but unusable is a `problem`, counted once per `key` (e.g. per binary and version).
 */
export type Availability =
  | { usable: true }
  | { usable: false; standby: Record<string, unknown> }
  | { usable: false; problem: string; details: Record<string, unknown>; key: string };

/** Where the 5-hour block figures come from: one module per source, registered in sources.ts. */
export interface UsageSource {
  readonly name: UsageSourceName;
  /** Absent: always usable. */
  availability?(): Promise<Availability>;
  poll(): Promise<UsageSnapshot>;
  /** Kills a poll in flight (bridge shutdown). */
  cancel?(): void;
  /** Removes what the source keeps on disk between polls. */
  dispose?(): void;
  /** Ends what a long-lived source runs in the background (file watching) and saves its state. */
  stop?(): Promise<void>;
}

/** Today's cost in the configured zone; polled beside whichever source serves the block. */
export interface DailyCost {
  /** YYYY-MM-DD in the time zone of the report. */
  date: string;
  costUsd: number;
}

export interface DailyCostSource {
  readonly name: UsageSourceName;
  today(): Promise<DailyCost>;
  cancel?(): void;
  stop?(): Promise<void>;
}

/** A source that answered, but not with usable data; the message is shown in /health. */
export class UsageSourceError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UsageSourceError';
  }
}

export function inputOutputTokens(tokens: TokenCounts): number {
  return tokens.input + tokens.output;
}

export function allKindsTokens(tokens: TokenCounts): number {
  return tokens.input + tokens.output + tokens.cache_creation + tokens.cache_read;
}
