import { Counter, Gauge, type Registry } from 'prom-client';
import { ALERT_INPUT_METRICS } from '../../component.js';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import type { UsageFigures } from './figures.js';

type Figures = () => UsageFigures;
type Setter = (gauge: Gauge, figures: UsageFigures) => void;

const seconds = (ms: number) => ms / 1000;

/**
 * The usage metrics of docs/METRICS.md. Every gauge is point-in-time: reset and refilled from
 * the current figures on each scrape, so series that stop existing (the block ended, a window
 * changed source) disappear.
 */
export function registerUsageMetrics(registry: Registry, figures: Figures): { statuslineUpdates: Counter } {
  const gauge = (name: string, help: string, labelNames: string[], fill: Setter) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        if (labelNames.length === 0) this.remove(); // reset() leaves an unlabelled gauge at 0, not absent
        fill(this, figures());
      },
    });
  const usage = (name: string) => `${METRIC_PREFIX}usage_${name}`;

  gauge(usage('block_tokens'), 'Tokens in the active 5-hour block, by kind.', ['kind'], (g, f) => {
    if (!f.block) return;
    for (const [kind, value] of Object.entries(f.block.tokens) as [string, number][]) g.set({ kind }, value);
  });
  gauge(usage('block_model_tokens'), 'Input+output tokens in the active block, by model family.', ['family'], (g, f) => {
    for (const [family, use] of Object.entries(f.block?.byFamily ?? {})) g.set({ family }, use.tokens);
  });
  gauge(usage('block_model_cost_usd'), 'Cost in USD of the active block, by model family.', ['family'], (g, f) => {
    for (const [family, use] of Object.entries(f.block?.byFamily ?? {})) if (use.costUsd !== null) g.set({ family }, use.costUsd);
  });
  gauge(ALERT_INPUT_METRICS.costUsd, 'Cost in USD of the active 5-hour block (scope=block) and of today (scope=day).', ['scope'], (g, f) => {
    if (f.block) g.set({ scope: 'block' }, f.block.costUsd);
    if (f.dailyCostUsd !== null) g.set({ scope: 'day' }, f.dailyCostUsd);
  });
  gauge(usage('burn_rate_tokens_per_second'), 'Current burn rate of the active block, input+output tokens per second.', [], (g, f) => {
    if (f.block?.burnRate) g.set(f.block.burnRate.tokensPerMinute / 60);
  });
  gauge(usage('burn_rate_usd_per_second'), 'Current cost rate of the active block, USD per second.', [], (g, f) => {
    if (f.block?.burnRate) g.set(f.block.burnRate.usdPerHour / 3600);
  });
  gauge(usage('projected_tokens'), 'Input+output tokens projected at the end of the active block at the current burn rate.', [], (g, f) => {
    if (f.block?.projection) g.set(f.block.projection.tokens);
  });
  gauge(usage('projected_cost_usd'), 'Cost in USD projected at the end of the active block at the current burn rate.', [], (g, f) => {
    if (f.block?.projection) g.set(f.block.projection.costUsd);
  });
  gauge(usage('token_limit'), 'Token limit of the 5-hour block (input+output), by where it comes from.', ['basis'], (g, f) => {
    if (f.block) g.set({ basis: f.block.tokenLimit.basis }, f.block.tokenLimit.tokens);
  });
  gauge(ALERT_INPUT_METRICS.tokensUsedRatio, 'Input+output tokens used in the active block / its token limit.', [], (g, f) => {
    if (f.block) g.set(f.block.usedRatio);
  });
  gauge(usage('time_to_limit_seconds'), 'Time until the token limit at the current burn rate; 0 once reached.', [], (g, f) => {
    if (f.block && f.block.secondsToLimit !== null) g.set(f.block.secondsToLimit);
  });
  gauge(usage('block_start_timestamp_seconds'), 'Start of the active 5-hour block.', [], (g, f) => {
    if (f.block) g.set(seconds(f.block.start));
  });
  gauge(usage('block_end_timestamp_seconds'), 'End of the active 5-hour block.', [], (g, f) => {
    if (f.block) g.set(seconds(f.block.end));
  });
  gauge(usage('reset_timestamp_seconds'), 'When the 5-hour usage window resets.', [], (g, f) => {
    if (f.resetsAt !== null) g.set(seconds(f.resetsAt));
  });
  gauge(ALERT_INPUT_METRICS.sessionSeconds, 'Time elapsed in the active 5-hour block.', [], (g, f) => {
    if (f.sessionSeconds !== null) g.set(f.sessionSeconds);
  });
  gauge(ALERT_INPUT_METRICS.rateLimitUsedRatio, 'Share of the rate limit used per window; source=official (status line) or estimate.', ['window', 'source'], (g, f) => {
    for (const [window, figure] of Object.entries(f.rateLimits)) g.set({ window, source: figure.source }, figure.usedRatio);
  });
  gauge(`${METRIC_PREFIX}rate_limit_reset_timestamp_seconds`, 'When the rate-limit window resets.', ['window', 'source'], (g, f) => {
    for (const [window, figure] of Object.entries(f.rateLimits)) {
      if (figure.resetsAt !== null) g.set({ window, source: figure.source }, seconds(figure.resetsAt));
    }
  });
  const statuslineUpdates = new Counter({
    name: `${METRIC_PREFIX}statusline_updates_total`,
    help: 'Claude Code status line inputs received on POST /statusline.',
    registers: [registry],
  });
  return { statuslineUpdates };
}
