import type { StatusSummary } from '../http/routes-status-page.js';
import { errorMessage } from '../util/errors.js';
import type { CliIO, Command } from './command.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 3000;
const WATCH_INTERVAL_MS = 1000;
const SHOWN_SESSIONS = 5;
const SHOWN_DECISIONS = 3;

/** Exit codes scripts can rely on. */
export const STATUS_EXIT = { normal: 0, down: 1, slowed: 2 } as const;

type Summary = StatusSummary & {
  usage_data?: {
    source: string;
    daily_cost_usd: number | null;
    block: { cost_usd: number | null; tokens_used_ratio: number | null; tokens_all_kinds: number; token_limit: number | null } | null;
    rate_limits: Partial<Record<'five_hour' | 'seven_day', { used_ratio: number; resets_at: string | null; source: string }>>;
  };
  sessions_data?: {
    sessions: { session_id: string; project: string | null; model: string | null; prompts: number; tool_calls: number; cost_usd: number | null; last_activity_at: string }[];
    recent_decisions: { at: string; event: string; decision: string; reason: string | null }[];
  };
};

/** `claude-bridge status`: the status page's summary on one terminal screen. */
export const statusCommand: Command = {
  name: 'status',
  usage: `claude-bridge status [--url URL] [--json] [--watch]

  --url URL   the bridge (default $CLAUDE_BRIDGE_URL or ${DEFAULT_URL})
  --json      print the bridge's GET /status summary as JSON
  --watch     redraw every second until interrupted (Ctrl-C)

Exit codes: 0 running normally (or degraded), 1 bridge down, 2 paused or backing off.
Colour when the output is a terminal (NO_COLOR turns it off).`,
  options: {
    url: { type: 'string' },
    json: { type: 'boolean' },
    watch: { type: 'boolean' },
  },
  async run(values, io) {
    const url = (typeof values.url === 'string' ? values.url : (io.env.CLAUDE_BRIDGE_URL ?? DEFAULT_URL)).replace(/\/+$/, '');
    const colour = !values.json && process.stdout.isTTY === true && io.env.NO_COLOR === undefined;
    if (!values.watch) return showOnce(url, values.json === true, colour, io);
    return watch(url, values.json === true, colour, io);
  },
};

async function showOnce(url: string, json: boolean, colour: boolean, io: CliIO): Promise<number> {
  const result = await fetchSummary(url);
  if (!result.ok) {
    if (json) io.stdout(`${JSON.stringify({ bridge: 'down', url, error: result.error })}\n`);
    else io.stderr(`${paint('bridge down', 'red', colour)}: ${url} (${result.error})\n`);
    return STATUS_EXIT.down;
  }
  io.stdout(json ? `${JSON.stringify(result.summary, null, 2)}\n` : formatStatus(result.summary, colour));
  return exitCodeOf(result.summary);
}

async function watch(url: string, json: boolean, colour: boolean, io: CliIO): Promise<number> {
  let stopped = false;
  let code: number = STATUS_EXIT.normal;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  try {
    while (!stopped) {
      if (colour) io.stdout('\x1b[H\x1b[2J');
      code = await showOnce(url, json, colour, io);
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    }
  } finally {
    process.off('SIGINT', stop);
  }
  return code;
}

export function exitCodeOf(summary: Pick<StatusSummary, 'recovery'>): number {
  const state = summary.recovery.state;
  return state === 'paused' || state === 'backoff' ? STATUS_EXIT.slowed : STATUS_EXIT.normal;
}

async function fetchSummary(url: string): Promise<{ ok: true; summary: Summary } | { ok: false; error: string }> {
  try {
    const response = await fetch(`${url}/status`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) return { ok: false, error: `GET /status answered ${response.status}` };
    const summary = (await response.json()) as Summary;
    if (typeof summary?.recovery?.state !== 'string') return { ok: false, error: 'GET /status answered no recovery state (not a bridge?)' };
    return { ok: true, summary };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

const COLOURS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

function paint(text: string, colour: keyof typeof COLOURS, enabled: boolean): string {
  return enabled ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text;
}

/** The summary on one screen: state and countdown, alerts, usage, top sessions, last decisions, sources. */
export function formatStatus(summary: Summary, colour: boolean, now = Date.parse(summary.timestamp)): string {
  const { recovery } = summary;
  const stateColour = recovery.state === 'normal' ? 'green' : recovery.state === 'paused' ? 'red' : 'yellow';
  const until = recovery.state === 'paused' ? recovery.paused_until : recovery.state === 'backoff' ? recovery.backoff.until : null;
  const lines = [
    `${paint(recovery.state.toUpperCase(), stateColour, colour)}${until ? `  ${recovery.state === 'paused' ? 'resumes in' : 'backoff ends in'} ${duration(Date.parse(until) - now)} (${until})` : ''}`,
  ];
  for (const alert of recovery.active_alerts) {
    lines.push(`  alert ${alert.alert} → ${alert.action}: ${alert.origins.map((o) => o.summary ?? o.origin).join('; ')}`);
  }
  lines.push('', paint('Usage', 'bold', colour));
  const usage = summary.usage_data;
  for (const [name, label] of [['five_hour', '5-hour window'], ['seven_day', 'weekly']] as const) {
    const w = usage?.rate_limits[name];
    lines.push(`  ${label.padEnd(14)} ${w ? `${meter(w.used_ratio)} ${percent(w.used_ratio)}  (${w.source})` : paint('not known', 'dim', colour)}`);
  }
  const block = usage?.block ?? null;
  lines.push(`  ${'tokens'.padEnd(14)} ${block?.tokens_used_ratio != null ? `${meter(block.tokens_used_ratio)} ${percent(block.tokens_used_ratio)}  (${usage?.source})` : paint('not known', 'dim', colour)}`);
  const { cost_usd: threshold, cost_scope: scope } = summary.thresholds;
  const cost = scope === 'day' ? (usage?.daily_cost_usd ?? null) : (block?.cost_usd ?? null);
  lines.push(`  ${(scope === 'day' ? 'cost today' : 'cost (block)').padEnd(14)} ${cost === null ? paint('not known', 'dim', colour) : `${meter(cost / threshold)} $${cost.toFixed(2)} of $${threshold.toFixed(2)}`}`);
  const sessions = summary.sessions_data?.sessions ?? [];
  lines.push('', paint(`Sessions (${sessions.length})`, 'bold', colour));
  const byCost = [...sessions].sort((a, b) => (b.cost_usd ?? -1) - (a.cost_usd ?? -1)).slice(0, SHOWN_SESSIONS);
  for (const s of byCost) {
    const project = s.project?.split(/[\\/]/).filter(Boolean).pop() ?? s.session_id.slice(0, 8);
    lines.push(`  ${project.slice(0, 24).padEnd(24)} ${(s.model ?? '–').slice(0, 12).padEnd(12)} ${String(s.prompts).padStart(4)} prompts ${String(s.tool_calls).padStart(5)} tools ${s.cost_usd === null ? '      –' : `$${s.cost_usd.toFixed(2).padStart(6)}`}`);
  }
  const decisions = summary.sessions_data?.recent_decisions.slice(0, SHOWN_DECISIONS) ?? [];
  if (decisions.length) lines.push('', paint('Last decisions', 'bold', colour), ...decisions.map((d) => `  ${d.at} ${d.event}: ${d.decision}${d.reason ? ` (${d.reason.slice(0, 60)})` : ''}`));
  lines.push('', `${paint('Sources', 'bold', colour)}  bridge ${summary.health.status}`);
  for (const [name, source] of Object.entries(summary.health.sources)) {
    const state = !source.enabled ? paint('disabled', 'dim', colour) : source.up ? paint('up', 'green', colour) : paint('down', 'red', colour);
    lines.push(`  ${name.padEnd(14)} ${state}${source.enabled && !source.up && source.last_error ? `  ${source.last_error.slice(0, 70)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function meter(ratio: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, ratio)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;

function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
