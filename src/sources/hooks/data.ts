/** The `hooks_data` section of `GET /metrics`: read from the same prom-client metrics as `/prometheus`. */
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
