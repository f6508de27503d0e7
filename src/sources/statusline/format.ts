import type { StatuslineView } from './view.js';
import { officialWindows } from './windows.js';

const SEPARATOR = ' | ';

/**
 * One line from the bridge's answer: `5h 62% | $7.42 block, $19.50 today | 645 tok/min $1.84/h | normal`.
 * An estimated 5-hour figure is marked `~`.
 */
export function formatStatusline(view: StatuslineView): string {
  const parts: string[] = [];
  if (view.five_hour) parts.push(`5h ${view.five_hour.source === 'estimate' ? '~' : ''}${percent(view.five_hour.used_ratio)}`);
  const costs = [
    view.block ? `${usd(view.block.cost_usd)} block` : null,
    view.day_cost_usd !== null ? `${usd(view.day_cost_usd)} today` : null,
  ].filter((c): c is string => c !== null);
  if (costs.length > 0) parts.push(costs.join(', '));
  const rate = view.block?.burn_rate_tokens_per_minute;
  if (rate !== null && rate !== undefined) parts.push(`${compact(rate)} tok/min ${usd(view.block?.burn_rate_usd_per_hour ?? 0)}/h`);
  parts.push(view.recovery_state);
  return parts.join(SEPARATOR);
}

/** The line when the bridge cannot be asked: whatever Claude Code's own input (raw JSON) says. */
export function formatOffline(input: { rate_limits?: unknown; cost?: unknown } | null): string {
  const parts: string[] = [];
  const fiveHour = input ? officialWindows(input).five_hour : undefined;
  if (fiveHour) parts.push(`5h ${percent(fiveHour.usedRatio)}`);
  const cost = input?.cost;
  const sessionCost = typeof cost === 'object' && cost !== null ? (cost as { total_cost_usd?: unknown }).total_cost_usd : undefined;
  if (typeof sessionCost === 'number') parts.push(`${usd(sessionCost)} session`);
  parts.push('bridge offline');
  return parts.join(SEPARATOR);
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function compact(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return String(Math.round(value));
}
