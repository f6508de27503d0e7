import type { FactSink, UsageSignals } from '../../component.js';
import type { BridgeConfig } from '../../config/schema.js';
import { BoundedLabel } from '../../metrics/bounded-label.js';
import type { Clock } from '../../util/clock.js';
import { modelFamily } from '../usage/model-family.js';
import { SeenEvents, SumIncrements } from './counting.js';
import { activeBlock, liveBlock, liveSignals, scopeFigures, tokenLimitOf, type LiveFigures } from './figures.js';
import { UsageLedger, type StatusClass, type TokenKind } from './ledger.js';
import type { TelemetryCounters } from './metrics.js';
import type { Attributes, LogEvent, Parsed, SumPoint } from './payload.js';

/** Long enough for today (25 hours on a DST day) and any 5-hour block in it. */
const RETENTION_MS = 30 * 3600 * 1000;
const MAX_SERIES = 10_000;
const MAX_SEEN_EVENTS = 50_000;
const RATE_LIMITED = 429;

const TOKEN_KINDS: Record<string, TokenKind> = { input: 'input', output: 'output', cacheRead: 'cache_read', cacheCreation: 'cache_creation' };
/** api_request attributes → token kinds. */
const REQUEST_TOKEN_FIELDS: [string, TokenKind][] = [
  ['input_tokens', 'input'],
  ['output_tokens', 'output'],
  ['cache_read_tokens', 'cache_read'],
  ['cache_creation_tokens', 'cache_creation'],
];

export interface IngestResult {
  duplicates: number;
}

export interface TelemetryDeps {
  usage: BridgeConfig['usage'];
  clock: Clock;
  timeZone: string;
  counters: TelemetryCounters;
  report: FactSink;
  /** The other components' signals: a usage source's block elapsed time. */
  peerSignals: () => UsageSignals;
}

/**
 * What Claude Code's telemetry says, made into the bridge's figures: counters of what it
 * reported (increases, de-duplicated), a minute ledger for the live block/day figures, and
 * rate limits reported to the fact sink the moment an `api_error` 429 arrives.
 */
export class ClaudeCodeTelemetry {
  private readonly ledger = new UsageLedger(RETENTION_MS);
  private readonly sums: SumIncrements;
  private readonly seen = new SeenEvents(MAX_SEEN_EVENTS);
  private readonly toolLabel = new BoundedLabel(20);
  private readonly decisionLabel = new BoundedLabel(10);
  private readonly activeTimeLabel = new BoundedLabel(5);
  private readonly lineTypeLabel = new BoundedLabel(5);
  /** The last block start a usage source reported: telemetry's own block rule starts there. */
  private anchor: number | null = null;
  private readonly lastExport: { metrics: number | null; logs: number | null } = { metrics: null, logs: null };
  private readonly day: CalendarDay;

  constructor(private readonly deps: TelemetryDeps) {
    this.sums = new SumIncrements(deps.clock.now(), MAX_SERIES);
    this.day = new CalendarDay(deps.timeZone);
  }

  ingestMetrics(parsed: Parsed<SumPoint>): IngestResult {
    const now = this.deps.clock.now();
    this.lastExport.metrics = now;
    let duplicates = 0;
    for (const point of parsed.items) {
      if (!point.monotonic) continue;
      const increase = this.sums.increase(point);
      if (increase.kind === 'duplicate') duplicates += 1;
      if (increase.kind === 'reset') this.deps.counters.resets.inc();
      if (increase.amount > 0) this.count(point, increase.amount, Math.min(now, Number(point.timeNs / 1_000_000n)));
    }
    this.ledger.prune(now);
    return { duplicates };
  }

  ingestLogs(parsed: Parsed<LogEvent>): IngestResult {
    const now = this.deps.clock.now();
    this.lastExport.logs = now;
    let duplicates = 0;
    for (const event of parsed.items) {
      if (!this.seen.firstTime(event)) {
        duplicates += 1;
        continue;
      }
      this.record(event, Math.min(now, event.time ?? now));
    }
    this.ledger.prune(now);
    return { duplicates };
  }

  figures(): LiveFigures {
    const now = this.deps.clock.now();
    const peer = this.deps.peerSignals().sessionSeconds;
    const bounds = activeBlock(now, peer, this.anchor, this.ledger.activeMinutes());
    if (bounds?.from === 'usage_source') this.anchor = bounds.start;
    const { date, start } = this.day.of(now);
    const today = scopeFigures(this.ledger.totals(start, now + 1));
    return {
      now,
      block: bounds ? liveBlock(this.ledger, bounds, now, tokenLimitOf(this.deps.usage)) : null,
      today: { ...today, date },
    };
  }

  signals(): UsageSignals {
    return liveSignals(this.figures(), this.deps.usage.cost_scope, this.lastExport.metrics !== null || this.lastExport.logs !== null);
  }

  lastExports(): { metrics: number | null; logs: number | null } {
    return { ...this.lastExport };
  }

  private count(point: SumPoint, amount: number, at: number): void {
    const { counters } = this.deps;
    const a = point.attributes;
    const family = modelFamily(text(a.model));
    switch (point.metric) {
      case 'claude_code.token.usage': {
        const kind = TOKEN_KINDS[text(a.type)];
        if (!kind) return;
        counters.tokens.inc({ family, kind }, amount);
        this.ledger.addTokens('metrics', at, family, kind, amount);
        return;
      }
      case 'claude_code.cost.usage':
        counters.cost.inc({ family }, amount);
        this.ledger.addCost('metrics', at, family, amount);
        return;
      case 'claude_code.session.count':
        counters.sessions.inc(amount);
        return;
      case 'claude_code.active_time.total':
        counters.activeTime.inc({ type: this.activeTimeLabel.value(text(a.type)) }, amount);
        return;
      case 'claude_code.lines_of_code.count':
        counters.linesOfCode.inc({ type: this.lineTypeLabel.value(text(a.type)) }, amount);
        return;
      case 'claude_code.commit.count':
        counters.commits.inc(amount);
        return;
      case 'claude_code.pull_request.count':
        counters.pullRequests.inc(amount);
        return;
      case 'claude_code.code_edit_tool.decision':
        counters.editDecisions.inc({ tool: this.toolLabel.value(text(a.tool_name)), decision: this.decisionLabel.value(text(a.decision)) }, amount);
        return;
      default:
    }
  }

  private record(event: LogEvent, at: number): void {
    const a = event.attributes;
    switch (event.name) {
      case 'api_request':
        this.apiRequest(a, at);
        return;
      case 'api_error': {
        const status = numeric(a.status_code);
        this.deps.counters.apiErrors.inc({ status_class: statusClass(status) });
        this.ledger.addError(at, statusClass(status), status === RATE_LIMITED);
        if (status === RATE_LIMITED) this.rateLimited(event, at, `attempt ${numeric(a.attempt) ?? '?'}`);
        return;
      }
      case 'api_retries_exhausted':
        if (numeric(a.status_code) === RATE_LIMITED) this.rateLimited(event, at, `${numeric(a.total_attempts) ?? '?'} attempts`);
        return;
      default:
    }
  }

  private apiRequest(a: Attributes, at: number): void {
    const family = modelFamily(text(a.model));
    this.deps.counters.apiRequests.inc({ family });
    this.ledger.addRequest(at);
    for (const [field, kind] of REQUEST_TOKEN_FIELDS) {
      const tokens = numeric(a[field]);
      if (tokens !== null && tokens > 0) this.ledger.addTokens('logs', at, family, kind, tokens);
    }
    const cost = numeric(a.cost_usd);
    if (cost !== null && cost > 0) this.ledger.addCost('logs', at, family, cost);
  }

  /** The same failure as a StopFailure `rate_limit`: same session and prompt id, so it counts once. */
  private rateLimited(event: LogEvent, at: number, detail: string): void {
    this.deps.counters.rateLimitEvents.inc({ event: event.name });
    const sessionId = text(event.attributes['session.id']);
    if (!sessionId) return;
    const promptId = text(event.attributes['prompt.id']);
    this.deps.report.rateLimitHit({
      sessionId,
      ...(promptId ? { promptId } : {}),
      at,
      summary: `${event.name} 429 reported by Claude Code telemetry (${detail}, session ${sessionId})`,
    });
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Claude Code sends counts as ints, a few (durations, sizes) as strings; both are read. */
function numeric(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

function statusClass(status: number | null): StatusClass {
  if (status !== null && status >= 400 && status < 500) return '4xx';
  if (status !== null && status >= 500 && status < 600) return '5xx';
  return 'other';
}

/** Today's date in a zone and the instant it began (searched once per day: zones and DST make it no fixed offset). */
class CalendarDay {
  private readonly format: Intl.DateTimeFormat;
  private cached: { date: string; start: number } | null = null;

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  of(now: number): { date: string; start: number } {
    const date = this.format.format(now);
    if (this.cached?.date !== date || this.cached.start > now) {
      let low = now - 26 * 3600 * 1000;
      let high = now;
      while (high - low > 1) {
        const mid = low + Math.floor((high - low) / 2);
        if (this.format.format(mid) === date) high = mid;
        else low = mid;
      }
      this.cached = { date, start: high };
    }
    return this.cached;
  }
}
