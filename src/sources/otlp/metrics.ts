import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import type { LiveFigures } from './figures.js';

const otlp = (name: string) => `${METRIC_PREFIX}otlp_${name}`;

export type TelemetryCounters = ReturnType<typeof registerTelemetryMetrics>;

/**
 * The telemetry metrics of docs/METRICS.md: counters of what Claude Code reported (increases,
 * whatever the temporality it exported with), and gauges of the live figures, refilled from
 * them on each scrape. No label carries a session, prompt or user id.
 */
export function registerTelemetryMetrics(registry: Registry, figures: () => LiveFigures) {
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name: otlp(name), help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, f: LiveFigures) => void) =>
    new Gauge({
      name: otlp(name),
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        if (labelNames.length === 0) this.remove();
        fill(this, figures());
      },
    });

  gauge('live_tokens', 'Tokens Claude Code reported in the active 5-hour block (scope=block) and today (scope=day), by kind.', ['scope', 'kind'], (g, f) => {
    for (const [scope, figure] of [['block', f.block], ['day', f.today]] as const) {
      if (figure) for (const [kind, value] of Object.entries(figure.tokens) as [string, number][]) g.set({ scope, kind }, value);
    }
  });
  gauge('live_cost_usd', 'Cost in USD Claude Code reported in the active 5-hour block (scope=block) and today (scope=day).', ['scope'], (g, f) => {
    if (f.block) g.set({ scope: 'block' }, f.block.costUsd);
    g.set({ scope: 'day' }, f.today.costUsd);
  });
  gauge('block_tokens_used_ratio', 'Input+output tokens Claude Code reported in the active block / the plan or configured token limit.', [], (g, f) => {
    if (f.block?.usedRatio !== null && f.block?.usedRatio !== undefined) g.set(f.block.usedRatio);
  });
  gauge('burn_rate_tokens_per_second', 'Input+output tokens per second over the last 10 minutes of the active block.', [], (g, f) => {
    if (f.block?.burnRate) g.set(f.block.burnRate.tokensPerMinute / 60);
  });
  gauge('burn_rate_usd_per_second', 'USD per second over the last 10 minutes of the active block.', [], (g, f) => {
    if (f.block?.burnRate) g.set(f.block.burnRate.usdPerHour / 3600);
  });
  gauge('block_start_timestamp_seconds', 'Start of the active 5-hour block the telemetry figures count from, by where it came from.', ['from'], (g, f) => {
    if (f.block) g.set({ from: f.block.from }, f.block.start / 1000);
  });

  return {
    tokens: counter('tokens_total', 'Tokens Claude Code reported (claude_code.token.usage), by model family and kind.', ['family', 'kind']),
    cost: counter('cost_usd_total', 'Cost in USD Claude Code reported (claude_code.cost.usage), by model family.', ['family']),
    sessions: counter('sessions_total', 'Claude Code sessions started (claude_code.session.count).'),
    activeTime: counter('active_time_seconds_total', 'Active time Claude Code reported (claude_code.active_time.total), by type (user, cli).', ['type']),
    linesOfCode: counter('lines_of_code_total', 'Lines of code modified (claude_code.lines_of_code.count), by type (added, removed).', ['type']),
    commits: counter('commits_total', 'Git commits Claude Code created (claude_code.commit.count).'),
    pullRequests: counter('pull_requests_total', 'Pull requests Claude Code created (claude_code.pull_request.count).'),
    editDecisions: counter('code_edit_decisions_total', 'Code-edit tool permission decisions (claude_code.code_edit_tool.decision), by tool and decision.', ['tool', 'decision']),
    apiRequests: counter('api_requests_total', 'API requests Claude Code made (api_request events), by model family.', ['family']),
    apiErrors: counter('api_errors_total', 'Failed API requests (api_error events), by HTTP status class (4xx, 5xx, other: no status).', ['status_class']),
    rateLimitEvents: counter('rate_limit_events_total', 'Rate-limit (429) telemetry events, by event (api_error, api_retries_exhausted).', ['event']),
    exports: counter('exports_total', 'OTLP export requests received, by signal and result (success, partial, rejected).', ['signal', 'result']),
    rejectedItems: counter('rejected_items_total', 'Data points and log records the receiver could not use, by signal.', ['signal']),
    duplicates: counter('duplicates_total', 'Data points and log records already counted (a retried export), by signal.', ['signal']),
    resets: counter('counter_resets_total', 'Cumulative series that restarted (counted from their new start, never as a negative increase).'),
  };
}
