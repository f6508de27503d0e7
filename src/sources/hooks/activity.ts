import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BridgeConfig } from '../../config/schema.js';
import { METRIC_PREFIX } from '../../metrics/registry.js';
import type { HooksData } from '../../metrics/summary.js';
import type { Clock } from '../../util/clock.js';
import type { ActivityEvent } from './event.js';
import { BoundedLabel, toolFamily } from './labels.js';
import { SessionTracker } from './sessions.js';
import { ToolTimer } from './tool-timer.js';

export type Transport = 'websocket' | 'http';
export type DecisionLabel = 'allow' | 'delay' | 'deny' | 'block';
export type ActivitySummary = Omit<HooksData, 'websocket'>;

const TOOL_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const MAX_EVENT_TYPE_LABELS = 50;
const MAX_SMALL_ENUM_LABELS = 20;
const MAX_TRACKED_SESSIONS = 10_000;

/** A count per label value, kept beside its Prometheus counter for the JSON summary. */
class Tally {
  private readonly counts = new Map<string, number>();
  total = 0;

  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    this.total += 1;
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/**
 * The hook-activity exporter (docs/METRICS.md "Hook activity"): every event counted here has
 * already been de-duplicated by its transport. Label values are bounded; ids never become labels.
 */
export class HookActivity {
  private readonly labels;
  private readonly metrics;
  private readonly tallies = {
    type: new Tally(),
    sourceApp: new Tally(),
    toolCalls: new Tally(),
    toolFailures: new Tally(),
    notifications: new Tally(),
    compactions: new Tally(),
    stopFailures: new Tally(),
    decisions: new Tally(),
  };
  private readonly counts = {
    duplicates: 0,
    malformed: 0,
    sessionsStarted: 0,
    sessionsEnded: 0,
    subagentsStarted: 0,
    subagentsStopped: 0,
    prompts: 0,
    durationCount: 0,
    durationSum: 0,
  };
  private readonly sessions: SessionTracker;
  private readonly toolTimer: ToolTimer;
  private readonly lastEventBySource = new Map<string, number>();
  private lastEventAt: number | null = null;

  constructor(
    registry: Registry,
    private readonly clock: Clock,
    config: BridgeConfig['hooks'],
  ) {
    this.labels = {
      eventType: new BoundedLabel(MAX_EVENT_TYPE_LABELS),
      sourceApp: new BoundedLabel(config.max_source_labels),
      tool: new BoundedLabel(config.max_tool_labels),
      notificationType: new BoundedLabel(MAX_SMALL_ENUM_LABELS),
      trigger: new BoundedLabel(MAX_SMALL_ENUM_LABELS),
      error: new BoundedLabel(MAX_SMALL_ENUM_LABELS),
    };
    this.sessions = new SessionTracker(config.session_ttl_s * 1000, MAX_TRACKED_SESSIONS);
    this.toolTimer = new ToolTimer(config.max_pending_tools);
    this.metrics = registerActivityMetrics(registry, () => this.sessions.activeCount(this.clock.now()));
  }

  record(event: ActivityEvent): void {
    const now = this.clock.now();
    const happenedAt = event.time ?? now;
    // A sender's clock may run ahead; "seen" times never lie in the future.
    const seenAt = Math.min(happenedAt, now);
    const type = this.labels.eventType.value(event.type);
    const sourceApp = this.labels.sourceApp.value(event.sourceApp);
    this.metrics.events.inc({ event: type, source_app: sourceApp });
    this.tallies.type.add(type);
    this.tallies.sourceApp.add(sourceApp);
    this.noteLastEvent(sourceApp, seenAt);
    this.trackSession(event, seenAt);
    this.countByType(event, happenedAt);
  }

  recordDuplicate(): void {
    this.counts.duplicates += 1;
    this.metrics.duplicates.inc();
  }

  recordMalformed(transport: Transport): void {
    this.counts.malformed += 1;
    this.metrics.malformed.inc({ transport });
  }

  recordDecision(event: string, decision: DecisionLabel): void {
    this.metrics.decisions.inc({ event: this.labels.eventType.value(event), decision });
    this.tallies.decisions.add(decision);
  }

  summary(): ActivitySummary {
    const t = this.tallies;
    const c = this.counts;
    return {
      events_total: t.type.total,
      events_by_type: t.type.toRecord(),
      events_by_source_app: t.sourceApp.toRecord(),
      duplicates_dropped_total: c.duplicates,
      malformed_total: c.malformed,
      tool_calls_by_tool: t.toolCalls.toRecord(),
      tool_failures_by_tool: t.toolFailures.toRecord(),
      tool_duration_seconds: { count: c.durationCount, sum: c.durationSum },
      sessions: { started_total: c.sessionsStarted, ended_total: c.sessionsEnded, active: this.sessions.activeCount(this.clock.now()) },
      subagents: { started_total: c.subagentsStarted, stopped_total: c.subagentsStopped },
      prompts_total: c.prompts,
      notifications_by_type: t.notifications.toRecord(),
      compactions_total: t.compactions.total,
      stop_failures_by_error: t.stopFailures.toRecord(),
      decisions_by_kind: t.decisions.toRecord(),
      last_event_at: this.lastEventAt === null ? null : new Date(this.lastEventAt).toISOString(),
    };
  }

  private noteLastEvent(sourceApp: string, at: number): void {
    const previous = this.lastEventBySource.get(sourceApp);
    if (previous === undefined || at > previous) {
      this.lastEventBySource.set(sourceApp, at);
      this.metrics.lastEvent.set({ source_app: sourceApp }, at / 1000);
    }
    if (this.lastEventAt === null || at > this.lastEventAt) this.lastEventAt = at;
  }

  private trackSession(event: ActivityEvent, at: number): void {
    if (event.type === 'SessionStart') this.sessions.started(event.sessionId, at);
    else if (event.type === 'SessionEnd') this.sessions.ended(event.sessionId, at);
    else this.sessions.seen(event.sessionId, at);
  }

  private countByType(event: ActivityEvent, happenedAt: number): void {
    const m = this.metrics;
    const c = this.counts;
    switch (event.type) {
      case 'PreToolUse': {
        const tool = this.labels.tool.value(toolFamily(event.toolName));
        m.toolCalls.inc({ tool });
        this.tallies.toolCalls.add(tool);
        if (event.toolUseId) this.toolTimer.start(toolKey(event), happenedAt);
        break;
      }
      case 'PostToolUse':
        this.finishTool(event, happenedAt);
        break;
      case 'PostToolUseFailure': {
        const tool = this.finishTool(event, happenedAt);
        m.toolFailures.inc({ tool });
        this.tallies.toolFailures.add(tool);
        break;
      }
      case 'SessionStart':
        c.sessionsStarted += 1;
        m.sessionsStarted.inc();
        break;
      case 'SessionEnd':
        c.sessionsEnded += 1;
        m.sessionsEnded.inc();
        break;
      case 'SubagentStart':
        c.subagentsStarted += 1;
        m.subagentsStarted.inc();
        break;
      case 'SubagentStop':
        c.subagentsStopped += 1;
        m.subagentsStopped.inc();
        break;
      case 'UserPromptSubmit':
        c.prompts += 1;
        m.prompts.inc();
        break;
      case 'Notification': {
        const notificationType = this.labels.notificationType.value(event.notificationType);
        m.notifications.inc({ notification_type: notificationType });
        this.tallies.notifications.add(notificationType);
        break;
      }
      case 'PreCompact': {
        const trigger = this.labels.trigger.value(event.trigger);
        m.compactions.inc({ trigger });
        this.tallies.compactions.add(trigger);
        break;
      }
      case 'StopFailure': {
        const error = this.labels.error.value(event.error);
        m.stopFailures.inc({ error });
        this.tallies.stopFailures.add(error);
        break;
      }
    }
  }

  /** Observes the call's duration when it can be known; returns the tool label. */
  private finishTool(event: ActivityEvent, happenedAt: number): string {
    const tool = this.labels.tool.value(toolFamily(event.toolName));
    if (!event.toolUseId && event.durationMs === undefined) return tool;
    let elapsedMs: number | undefined;
    if (event.durationMs !== undefined) {
      elapsedMs = event.durationMs;
      if (event.toolUseId) this.toolTimer.discard(toolKey(event));
    } else {
      elapsedMs = this.toolTimer.finish(toolKey(event), happenedAt);
    }
    if (elapsedMs !== undefined) {
      const seconds = elapsedMs / 1000;
      this.metrics.toolDuration.observe({ tool }, seconds);
      this.counts.durationCount += 1;
      this.counts.durationSum += seconds;
    }
    return tool;
  }
}

/** The API's tool_use ids are unique on their own; a composite key would cost a string per call. */
function toolKey(event: ActivityEvent): string {
  return event.toolUseId ?? '';
}

function registerActivityMetrics(registry: Registry, activeSessions: () => number) {
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;
  const counter = <L extends string>(suffix: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: name(suffix), help, labelNames, registers: [registry] });
  const malformed = counter('hook_events_malformed_total', 'Hook event frames or bodies that could not be used, by transport.', [
    'transport',
  ]);
  for (const transport of ['websocket', 'http'] as const) malformed.inc({ transport }, 0);
  return {
    events: counter('hook_events_total', 'Hook events, each counted once (de-duplicated by id), by event type and source app.', [
      'event',
      'source_app',
    ]),
    duplicates: counter('hook_events_duplicate_total', 'Hook events dropped because their id had been counted already.'),
    malformed,
    toolCalls: counter('tool_calls_total', 'Tool calls (PreToolUse) by tool; MCP tools by server, rare tools as "other".', ['tool']),
    toolFailures: counter('tool_failures_total', 'Failed tool calls (PostToolUseFailure) by tool.', ['tool']),
    toolDuration: new Histogram<'tool'>({
      name: name('tool_duration_seconds'),
      help: 'Tool call duration from PreToolUse to PostToolUse/PostToolUseFailure (or Claude Code duration_ms), seconds.',
      labelNames: ['tool'],
      buckets: TOOL_DURATION_BUCKETS,
      registers: [registry],
    }),
    sessionsStarted: counter('sessions_started_total', 'Claude Code sessions started (SessionStart).'),
    sessionsEnded: counter('sessions_ended_total', 'Claude Code sessions ended (SessionEnd).'),
    sessionsActive: new Gauge({
      name: name('sessions_active'),
      help: 'Sessions with an event within hooks.session_ttl_s that have not ended.',
      registers: [registry],
      collect() {
        this.set(activeSessions());
      },
    }),
    subagentsStarted: counter('subagents_started_total', 'Subagents started (SubagentStart).'),
    subagentsStopped: counter('subagents_stopped_total', 'Subagents stopped (SubagentStop).'),
    prompts: counter('prompts_total', 'Prompts submitted (UserPromptSubmit).'),
    notifications: counter('notifications_total', 'Notifications by notification_type.', ['notification_type']),
    compactions: counter('compactions_total', 'Context compactions (PreCompact) by trigger.', ['trigger']),
    stopFailures: counter('stop_failures_total', 'Turns that ended on an API error (StopFailure), by error.', ['error']),
    decisions: counter('hook_decisions_total', "Answers to Claude Code's HTTP hooks, by event and decision.", ['event', 'decision']),
    lastEvent: new Gauge<'source_app'>({
      name: name('last_event_timestamp_seconds'),
      help: 'Time of the newest hook event per source app, Unix seconds.',
      labelNames: ['source_app'],
      registers: [registry],
    }),
  };
}
