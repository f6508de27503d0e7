import { RECORDED_SERIES } from '../alerts/rules.js';
import { buildDashboard, type DashboardSpec, type PanelSpec } from './model.js';

const VALUE = RECORDED_SERIES.alertValue;
const THRESHOLD = RECORDED_SERIES.alertThreshold;
const RATE = '$__rate_interval';
const RANGE = '$__range';

const RECOVERY_COLORS = { normal: 'green', backoff: 'orange', paused: 'red', degraded: 'yellow' };
const UP_DOWN = [
  { value: '0', text: 'down', color: 'red' },
  { value: '1', text: 'up', color: 'green' },
];
const SHARE_OF_THRESHOLD = [
  { color: 'green', value: null },
  { color: 'yellow', value: 0.8 },
  { color: 'red', value: 1 },
];

type Extra = Partial<PanelSpec> & { legend?: string };

const stat = (title: string, description: string, unit: string, expr: string, { legend, ...extra }: Extra = {}): PanelSpec => ({
  type: 'stat',
  title,
  description,
  unit,
  targets: [{ expr, instant: true, ...(legend ? { legend } : {}) }],
  w: 4,
  h: 4,
  ...extra,
});

const series = (title: string, description: string, unit: string, targets: PanelSpec['targets'], extra: Partial<PanelSpec> = {}): PanelSpec => ({
  type: 'timeseries',
  title,
  description,
  unit,
  targets,
  w: 12,
  h: 8,
  ...extra,
});

const bars = (title: string, description: string, unit: string, expr: string, legend: string, extra: Partial<PanelSpec> = {}): PanelSpec => ({
  type: 'bargauge',
  title,
  description,
  unit,
  targets: [{ expr, legend, instant: true }],
  w: 8,
  h: 8,
  ...extra,
});

export const OVERVIEW: DashboardSpec = {
  uid: 'claude-bridge-overview',
  title: 'Claude Code: Overview',
  description: 'Recovery state, usage against the alert thresholds, cost, burn rate and firing alerts.',
  panels: [
    stat('Recovery state', 'What the bridge does to Claude Code right now.', 'none', 'claude_bridge_recovery_state == 1', {
      legend: '{{state}}',
      options: { textMode: 'name', colorMode: 'background' },
      colors: RECOVERY_COLORS,
    }),
    stat('Backoff hold per hook call', 'How long each PreToolUse/UserPromptSubmit hook is held while backing off.', 's', 'claude_bridge_recovery_backoff_delay_seconds'),
    stat('Paused until', 'When the session pause ends (the usage window reset).', 'dateTimeAsIso', 'claude_bridge_recovery_paused_until_timestamp_seconds * 1000 > 0', {
      noValue: 'not paused',
    }),
    stat('Time to limit', 'Time until the token limit at the current burn rate.', 's', 'min(claude_bridge_usage_time_to_limit_seconds)'),
    stat('Cost today', "Cost of today's usage.", 'currencyUSD', 'sum(claude_bridge_usage_cost_usd{scope="day"})'),
    stat('Alerts active in the bridge', 'Alerts the recovery controller is acting on.', 'none', 'sum(claude_bridge_alerts_active)', {
      thresholds: [
        { color: 'green', value: null },
        { color: 'red', value: 1 },
      ],
    }),
    {
      type: 'state-timeline',
      title: 'Recovery state over time',
      description: 'One row per state; coloured while it is the active one.',
      unit: 'none',
      targets: [{ expr: 'claude_bridge_recovery_state', legend: '{{state}}' }],
      w: 24,
      h: 6,
      mappings: [
        { value: '0', text: 'inactive', color: 'transparent' },
        { value: '1', text: 'active' },
      ],
      colors: RECOVERY_COLORS,
    },
    series(
      '5-hour usage against thresholds',
      'Tokens used in the active 5-hour block (input+output / limit) and the 5-hour rate-limit use, with the thresholds from config.yaml.',
      'percentunit',
      [
        { expr: 'claude_bridge_usage_tokens_used_ratio', legend: 'tokens used (5-hour block)' },
        { expr: 'max by (source) (claude_bridge_rate_limit_used_ratio{window="five_hour"})', legend: 'rate limit, 5 h ({{source}})' },
        { expr: `${THRESHOLD}{alert_type=~"token_threshold|rate_limit"}`, legend: 'threshold: {{alert_type}}' },
      ],
      { min: 0 },
    ),
    bars(
      'Alert inputs as a share of their thresholds',
      'Each alert input divided by its threshold: an alert fires once this has stayed at 100 % for its for-duration.',
      'percentunit',
      `${VALUE} / on (alert_type) ${THRESHOLD}`,
      '{{alert_type}}',
      { w: 12, min: 0, max: 1, thresholds: SHARE_OF_THRESHOLD },
    ),
    series(
      'Cost',
      'Cost of the active 5-hour block and of today, with the cost alert threshold.',
      'currencyUSD',
      [
        { expr: 'claude_bridge_usage_cost_usd', legend: '{{scope}}' },
        { expr: `${THRESHOLD}{alert_type="cost_threshold"}`, legend: 'threshold' },
      ],
      { w: 8, min: 0 },
    ),
    series(
      'Burn rate',
      'Tokens per minute at the current burn rate.',
      'suffix: tokens/min',
      [{ expr: 'claude_bridge_usage_burn_rate_tokens_per_second * 60', legend: 'tokens per minute' }],
      { w: 8, min: 0 },
    ),
    series(
      'Cost rate',
      'USD per hour at the current burn rate.',
      'currencyUSD',
      [{ expr: 'claude_bridge_usage_burn_rate_usd_per_second * 3600', legend: 'USD per hour' }],
      { w: 8, min: 0 },
    ),
    series(
      'Time to limit',
      'Time until the token limit is reached at the current burn rate.',
      's',
      [{ expr: 'claude_bridge_usage_time_to_limit_seconds', legend: 'time to limit' }],
      { w: 8, min: 0 },
    ),
    {
      type: 'table',
      title: 'Firing alerts',
      description: 'Alerts Prometheus fires now, with the recovery action Alertmanager routes to the bridge.',
      unit: 'none',
      targets: [{ expr: 'ALERTS{alertstate="firing"}', instant: true, format: 'table' }],
      w: 10,
      h: 8,
      transformations: [
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, Value: true, __name__: true, alertstate: true },
            indexByName: { alertname: 0, alert_type: 1, action: 2, severity: 3 },
          },
        },
      ],
    },
    bars(
      'Input sources',
      'Whether each input (hooks server, usage source, status line) worked at its last attempt.',
      'none',
      'claude_bridge_source_up',
      '{{source}}',
      { w: 6, min: 0, max: 1, mappings: UP_DOWN, thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
    ),
  ],
};

const SOURCE = 'source_app=~"$source_app"';
const TOOL = 'tool=~"$tool"';

export const HOOK_ACTIVITY: DashboardSpec = {
  uid: 'claude-bridge-hooks',
  title: 'Claude Code: Hook activity',
  description: 'What Claude Code does, from its hook events: events, tool calls and latency, failures, sessions, subagents and the answers the bridge gave.',
  variables: [
    { name: 'source_app', label: 'Source app', query: 'label_values(claude_bridge_hook_events_total, source_app)' },
    { name: 'tool', label: 'Tool', query: 'label_values(claude_bridge_tool_calls_total, tool)' },
  ],
  panels: [
    stat('Hook events', 'Hook events per second, all types.', 'eps', `sum(rate(claude_bridge_hook_events_total{${SOURCE}}[${RATE}]))`),
    stat('Active sessions', 'Sessions with events within hooks.session_ttl_s and not ended.', 'none', 'sum(claude_bridge_sessions_active)'),
    stat('Tool calls', 'Tool calls in the selected time range.', 'short', `sum(increase(claude_bridge_tool_calls_total{${TOOL}}[${RANGE}]))`),
    stat('Tool failures', 'Failed tool calls in the selected time range.', 'short', `sum(increase(claude_bridge_tool_failures_total{${TOOL}}[${RANGE}]))`, {
      thresholds: [
        { color: 'green', value: null },
        { color: 'orange', value: 1 },
      ],
    }),
    stat('Hooks server', 'WebSocket connection to the hooks observability server.', 'none', 'max(claude_bridge_hooks_websocket_connected)', {
      mappings: [
        { value: '0', text: 'disconnected', color: 'red' },
        { value: '1', text: 'connected', color: 'green' },
      ],
      noValue: 'disabled',
    }),
    stat('Since last event', 'Time since the newest hook event.', 's', `time() - max(claude_bridge_last_event_timestamp_seconds{${SOURCE}})`),
    series('Events by hook type', 'Hook events per second by event type.', 'eps', [
      { expr: `sum by (event) (rate(claude_bridge_hook_events_total{${SOURCE}}[${RATE}]))`, legend: '{{event}}' },
    ], { stack: true }),
    series('Tool calls by tool', 'PreToolUse calls per second by tool (MCP tools by server).', 'ops', [
      { expr: `sum by (tool) (rate(claude_bridge_tool_calls_total{${TOOL}}[${RATE}]))`, legend: '{{tool}}' },
    ], { stack: true }),
    series('Tool latency quantiles', 'Time from PreToolUse to PostToolUse(Failure), all selected tools.', 's', [0.5, 0.9, 0.99].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(claude_bridge_tool_duration_seconds_bucket{${TOOL}}[${RATE}])))`,
      legend: `p${q * 100}`,
    }))),
    series('Tool latency p90 by tool', 'The 90th percentile of tool duration, per tool.', 's', [
      { expr: `histogram_quantile(0.9, sum by (tool, le) (rate(claude_bridge_tool_duration_seconds_bucket{${TOOL}}[${RATE}])))`, legend: '{{tool}}' },
    ]),
    series('Tool failures by tool', 'PostToolUseFailure per second by tool.', 'ops', [
      { expr: `sum by (tool) (rate(claude_bridge_tool_failures_total{${TOOL}}[${RATE}]))`, legend: '{{tool}}' },
    ], { w: 8 }),
    series('Tool failure ratio', 'Failed calls / calls, per tool.', 'percentunit', [
      {
        expr: `sum by (tool) (rate(claude_bridge_tool_failures_total{${TOOL}}[${RATE}])) / sum by (tool) (rate(claude_bridge_tool_calls_total{${TOOL}}[${RATE}]))`,
        legend: '{{tool}}',
      },
    ], { w: 8, min: 0 }),
    bars('Stop failures by error', 'Turns that ended on an API error (StopFailure), in the time range.', 'short', `sum by (error) (increase(claude_bridge_stop_failures_total[${RANGE}]))`, '{{error}}'),
    series('Sessions', 'Active sessions.', 'short', [{ expr: 'sum(claude_bridge_sessions_active)', legend: 'active' }], { w: 8, min: 0 }),
    series('Session starts and ends', 'SessionStart and SessionEnd per minute.', 'cpm', [
      { expr: 'sum(rate(claude_bridge_sessions_started_total[' + RATE + '])) * 60', legend: 'started' },
      { expr: 'sum(rate(claude_bridge_sessions_ended_total[' + RATE + '])) * 60', legend: 'ended' },
    ], { w: 8 }),
    series('Subagents and prompts', 'SubagentStart, SubagentStop and UserPromptSubmit per minute.', 'cpm', [
      { expr: `sum(rate(claude_bridge_subagents_started_total[${RATE}])) * 60`, legend: 'subagents started' },
      { expr: `sum(rate(claude_bridge_subagents_stopped_total[${RATE}])) * 60`, legend: 'subagents stopped' },
      { expr: `sum(rate(claude_bridge_prompts_total[${RATE}])) * 60`, legend: 'prompts' },
    ], { w: 8 }),
    series('Hook decisions', "The bridge's answers to Claude Code's HTTP hooks per second: allow, delay (backoff), deny, block.", 'ops', [
      { expr: `sum by (event, decision) (rate(claude_bridge_hook_decisions_total[${RATE}]))`, legend: '{{event}}: {{decision}}' },
    ]),
    series('Ingestion health', 'Events dropped as duplicates (replays after reconnects) and bodies that could not be used.', 'eps', [
      { expr: `sum(rate(claude_bridge_hook_events_duplicate_total[${RATE}]))`, legend: 'duplicates dropped' },
      { expr: `sum by (transport) (rate(claude_bridge_hook_events_malformed_total[${RATE}]))`, legend: 'malformed ({{transport}})' },
    ]),
    bars('Notifications by type', 'Notification events in the time range.', 'short', `sum by (notification_type) (increase(claude_bridge_notifications_total[${RANGE}]))`, '{{notification_type}}'),
    bars('Compactions', 'PreCompact events in the time range, manual or automatic.', 'short', `sum by (trigger) (increase(claude_bridge_compactions_total[${RANGE}]))`, '{{trigger}}'),
    bars('Hooks server reconnects', 'Reconnections to the hooks server in the time range.', 'short', `sum(increase(claude_bridge_hooks_websocket_reconnects_total[${RANGE}]))`, 'reconnects'),
  ],
};

export const USAGE: DashboardSpec = {
  uid: 'claude-bridge-usage',
  title: 'Claude Code: Usage',
  description: "Tokens and cost of the active 5-hour block by kind and model, the limit and the projection, which figures are official, and Claude Code's own telemetry (live) beside the transcript figures.",
  panels: [
    stat('Tokens used', 'Input+output tokens of the active block / its token limit.', 'percentunit', 'max(claude_bridge_usage_tokens_used_ratio)', {
      thresholds: SHARE_OF_THRESHOLD,
    }),
    stat('Token limit', 'Token limit of the 5-hour block (input+output) and where it comes from.', 'short', 'claude_bridge_usage_token_limit', {
      legend: '{{basis}}',
    }),
    stat('Block cost', 'Cost of the active 5-hour block.', 'currencyUSD', 'sum(claude_bridge_usage_cost_usd{scope="block"})'),
    stat('Projected block cost', 'Cost at the end of the block at the current burn rate.', 'currencyUSD', 'max(claude_bridge_usage_projected_cost_usd)'),
    stat('Block resets', 'When the usage window resets.', 'dateTimeAsIso', 'max(claude_bridge_usage_reset_timestamp_seconds) * 1000'),
    stat('Session time', 'Time elapsed in the active 5-hour block.', 's', 'max(claude_bridge_usage_session_duration_seconds)'),
    series('Tokens by kind', 'Tokens in the active 5-hour block, by kind.', 'short', [
      { expr: 'sum by (kind) (claude_bridge_usage_block_tokens)', legend: '{{kind}}' },
    ], { stack: true, min: 0 }),
    series('Tokens by model family', 'Input+output tokens in the active block, by model family.', 'short', [
      { expr: 'sum by (family) (claude_bridge_usage_block_model_tokens)', legend: '{{family}}' },
    ], { stack: true, min: 0 }),
    series('Cost by model family', 'Cost of the active block, by model family.', 'currencyUSD', [
      { expr: 'sum by (family) (claude_bridge_usage_block_model_cost_usd)', legend: '{{family}}' },
    ], { stack: true, min: 0, w: 8 }),
    series('Cost and projection', 'Cost of the block and of today, the projected block cost, and the cost alert threshold.', 'currencyUSD', [
      { expr: 'sum by (scope) (claude_bridge_usage_cost_usd)', legend: '{{scope}}' },
      { expr: 'max(claude_bridge_usage_projected_cost_usd)', legend: 'projected block cost' },
      { expr: `${THRESHOLD}{alert_type="cost_threshold"}`, legend: 'threshold' },
    ], { min: 0, w: 8 }),
    series('Limit and projection', 'Input+output tokens used, projected at block end, and the token limit.', 'short', [
      { expr: 'sum(claude_bridge_usage_block_tokens{kind=~"input|output"})', legend: 'used (input+output)' },
      { expr: 'max(claude_bridge_usage_projected_tokens)', legend: 'projected at block end' },
      { expr: 'max by (basis) (claude_bridge_usage_token_limit)', legend: 'limit ({{basis}})' },
    ], { min: 0, w: 8 }),
    series('Rate-limit use: official vs estimated', "Rate-limit use per window; `official` comes from Claude Code's status line, `estimate` from local usage.", 'percentunit', [
      { expr: 'max by (window, source) (claude_bridge_rate_limit_used_ratio)', legend: '{{window}} ({{source}})' },
      { expr: `${THRESHOLD}{alert_type="rate_limit"}`, legend: 'threshold' },
    ], { min: 0 }),
    {
      type: 'table',
      title: 'Figure sources',
      description: 'The latest rate-limit figure per window, whether it is official or estimated, and when the window resets.',
      unit: 'percentunit',
      targets: [
        { expr: 'max by (window, source) (claude_bridge_rate_limit_used_ratio)', instant: true, format: 'table' },
        { expr: 'max by (window, source) (claude_bridge_rate_limit_reset_timestamp_seconds) * 1000', instant: true, format: 'table' },
      ],
      w: 12,
      h: 8,
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true },
            renameByName: { 'Value #A': 'used', 'Value #B': 'resets at' },
          },
        },
      ],
      units: { 'resets at': 'dateTimeAsIso' },
    },
    series('Burn rate', "Input+output tokens per minute: the usage source's burn rate, and telemetry's over the last 10 minutes.", 'suffix: tokens/min', [
      { expr: 'max(claude_bridge_usage_burn_rate_tokens_per_second) * 60', legend: 'transcripts' },
      { expr: 'max(claude_bridge_otlp_burn_rate_tokens_per_second) * 60', legend: 'telemetry (live)' },
    ], { min: 0, w: 8 }),
    series('Session time against its limit', 'Hours elapsed in the active 5-hour block, with the time-limit threshold.', 'h', [
      { expr: `${VALUE}{alert_type="time_limit"}`, legend: 'session time' },
      { expr: `${THRESHOLD}{alert_type="time_limit"}`, legend: 'threshold' },
    ], { min: 0, w: 8 }),
    series('Status line updates', "Claude Code status line inputs per minute: the source of the official figures.", 'cpm', [
      { expr: `sum(rate(claude_bridge_statusline_updates_total[${RATE}])) * 60`, legend: 'status line updates' },
    ], { min: 0, w: 8 }),
    // Claude Code's own telemetry (OTLP), beside the transcript figures above: live between polls.
    stat('Block cost (telemetry)', "Cost of the active block as Claude Code's telemetry reported it, live.", 'currencyUSD', 'sum(claude_bridge_otlp_live_cost_usd{scope="block"})'),
    stat('Cost today (telemetry)', "Today's cost as Claude Code's telemetry reported it, live.", 'currencyUSD', 'sum(claude_bridge_otlp_live_cost_usd{scope="day"})'),
    stat('Tokens used (telemetry)', 'Input+output tokens telemetry reported in the active block / the plan or configured limit.', 'percentunit', 'max(claude_bridge_otlp_block_tokens_used_ratio)', {
      thresholds: SHARE_OF_THRESHOLD,
    }),
    stat('Telemetry receiver', "Whether the OTLP receiver listens (Claude Code's telemetry reaches the bridge there).", 'none', 'max(claude_bridge_source_up{source="otlp"})', {
      mappings: UP_DOWN,
    }),
    stat('Last telemetry export', 'When Claude Code last exported metrics or logs to the bridge.', 'dateTimeAsIso', 'max(claude_bridge_source_last_success_timestamp_seconds{source="otlp"}) * 1000 > 0', {
      noValue: 'never',
    }),
    stat('API errors today (telemetry)', 'Failed API requests Claude Code reported in the last 24 hours.', 'short', `sum(increase(claude_bridge_otlp_api_errors_total[24h]))`),
    series('Block tokens: transcripts and telemetry', 'Input+output tokens of the active block: from the usage source (transcripts, each poll) and from telemetry (live). The higher one feeds the alerts.', 'short', [
      { expr: 'sum(claude_bridge_usage_block_tokens{kind=~"input|output"})', legend: 'transcripts' },
      { expr: 'sum(claude_bridge_otlp_live_tokens{scope="block",kind=~"input|output"})', legend: 'telemetry' },
    ], { min: 0 }),
    series('Cost: transcripts and telemetry', 'Cost of the block and of today, from the usage source and from telemetry; the higher feeds the cost alert.', 'currencyUSD', [
      { expr: 'sum by (scope) (claude_bridge_usage_cost_usd)', legend: 'transcripts ({{scope}})' },
      { expr: 'sum by (scope) (claude_bridge_otlp_live_cost_usd)', legend: 'telemetry ({{scope}})' },
      { expr: `${THRESHOLD}{alert_type="cost_threshold"}`, legend: 'threshold' },
    ], { min: 0 }),
    series('API requests and errors (telemetry)', 'Requests per minute by model family, failed requests by HTTP status class, and rate-limit (429) events.', 'cpm', [
      { expr: `sum by (family) (rate(claude_bridge_otlp_api_requests_total[${RATE}])) * 60`, legend: 'requests ({{family}})' },
      { expr: `sum by (status_class) (rate(claude_bridge_otlp_api_errors_total[${RATE}])) * 60`, legend: 'errors {{status_class}}' },
      { expr: `sum(rate(claude_bridge_otlp_rate_limit_events_total{event="api_error"}[${RATE}])) * 60`, legend: '429s' },
    ], { min: 0 }),
    series('Tokens by model family (telemetry)', 'Tokens per minute Claude Code reported, by model family and kind.', 'suffix: tokens/min', [
      { expr: `sum by (family, kind) (rate(claude_bridge_otlp_tokens_total[${RATE}])) * 60`, legend: '{{family}} {{kind}}' },
    ], { stack: true, min: 0 }),
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [OVERVIEW, HOOK_ACTIVITY, USAGE];

/** File name in grafana/dashboards → dashboard JSON. */
export function buildDashboards(): Map<string, Record<string, unknown>> {
  return new Map(DASHBOARDS.map((spec) => [`${spec.uid.replace(/^claude-bridge-/, '')}.json`, buildDashboard(spec)]));
}

export function renderDashboard(dashboard: Record<string, unknown>): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
