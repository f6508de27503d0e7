/**
 * The shapes of `/metrics` sections. Hook and usage sources fill them; the shape is fixed here so
 * clients can rely on it before every source exists.
 */
export interface HooksData {
  events_total: number;
  events_by_type: Record<string, number>;
  events_by_source_app: Record<string, number>;
  duplicates_dropped_total: number;
  malformed_total: number;
  tool_calls_by_tool: Record<string, number>;
  tool_failures_by_tool: Record<string, number>;
  tool_duration_seconds: { count: number; sum: number };
  sessions: { started_total: number; ended_total: number; active: number };
  subagents: { started_total: number; stopped_total: number };
  prompts_total: number;
  notifications_by_type: Record<string, number>;
  compactions_total: number;
  stop_failures_by_error: Record<string, number>;
  decisions_by_kind: Record<string, number>;
  last_event_at: string | null;
  websocket: { state: WebSocketState; reconnects_total: number; last_connected_at: string | null };
}

export type WebSocketState = 'connected' | 'disconnected' | 'disabled';

export interface TokenCounts {
  input: number;
  output: number;
  cache_creation: number;
  cache_read: number;
}

export type FigureSource = 'official' | 'estimate';

export interface RateLimitWindow {
  used_ratio: number;
  resets_at: string | null;
  source: FigureSource;
}

export interface UsageData {
  source: 'claude-monitor' | 'ccusage' | null;
  updated_at: string | null;
  block: {
    start: string;
    end: string;
    resets_at: string | null;
    tokens: TokenCounts;
    /** input + output, the total plan limits are counted in (claude-monitor's). */
    tokens_input_output: number;
    /** all four kinds (ccusage's totalTokens). */
    tokens_all_kinds: number;
    /** input + output tokens per model family (opus, sonnet, haiku, other). */
    tokens_by_model_family: Record<string, number>;
    cost_by_model_family: Record<string, number>;
    cost_usd: number;
    /** tokens_per_minute counts input + output. */
    burn_rate: { tokens_per_minute: number; usd_per_hour: number } | null;
    /** At block end at the current burn rate; tokens count input + output. */
    projection: { tokens: number; cost_usd: number } | null;
    token_limit: number | null;
    token_limit_source: 'plan' | 'p90' | 'configured' | 'claude-monitor' | null;
    /** tokens_input_output / token_limit, 0–1 (may exceed 1 past the limit). */
    tokens_used_ratio: number | null;
    minutes_to_limit: number | null;
  } | null;
  session_seconds: number | null;
  rate_limits: { five_hour?: RateLimitWindow; seven_day?: RateLimitWindow };
  daily_cost_usd: number | null;
  /** Last Claude Code status line input received on POST /statusline. */
  statusline_updated_at: string | null;
}

export interface SummaryProvider<T> {
  summary(): T | null;
}
