import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BridgeConfig } from '../../config/schema.js';
import { BoundedLabel } from '../../metrics/bounded-label.js';
import { HOOK_DECISIONS_METRIC, METRIC_PREFIX } from '../../metrics/registry.js';
import { iso } from '../../util/time.js';
import type { HooksData } from './data.js';
import type { Clock } from '../../util/clock.js';
import type { ActivityEvent } from './event.js';
import { toolFamily } from './labels.js';
import { SessionTracker } from './sessions.js';
import { ToolTimer } from './tool-timer.js';

export type Transport = 'websocket' | 'http';
export type ActivitySummary = Omit<HooksData, 'websocket'>;

const TOOL_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const MAX_EVENT_TYPE_LABELS = 50;
const MAX_SMALL_ENUM_LABELS = 20;
const MAX_TRACKED_SESSIONS = 10_000;

/**
 * The hook-activity exporter (docs/METRICS.md "Hook activity"): every event counted here has
 * already been de-duplicated by its transport. Label values are bounded; ids never become labels.
 * The JSON summary is read back from the same prom-client metrics, so both always agree.
 */
export class HookActivity {
  private readonly labels;
  private readonly metrics;
  private readonly sessions: SessionTracker;
  private readonly toolTimer: ToolTimer;
  private readonly lastEventBySource = new Map<string, number>();

  constructor(
    private readonly registry: Registry,
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
    this.noteLastEvent(sourceApp, seenAt);
    this.trackSession(event, seenAt);
    this.countByType(event, happenedAt);
  }

  recordDuplicate(): void {
    this.metrics.duplicates.inc();
  }

  recordMalformed(transport: Transport): void {
    this.metrics.malformed.inc({ transport });
  }

  /** The JSON summary, read from the metrics themselves (decisions from the decision routes' counter). */
  async summary(): Promise<ActivitySummary> {
    const m = this.metrics;
    const events = await samples(m.events);
    const durations = await samples(m.toolDuration);
    const lastEvents = await samples(m.lastEvent);
    const decisions = this.registry.getSingleMetric(HOOK_DECISIONS_METRIC);
    const newestEvent = Math.max(0, ...lastEvents.map((s) => s.value));
    return {
      events_total: total(events),
      events_by_type: byLabel(events, 'event'),
      events_by_source_app: byLabel(events, 'source_app'),
      duplicates_dropped_total: total(await samples(m.duplicates)),
      malformed_total: total(await samples(m.malformed)),
      tool_calls_by_tool: byLabel(await samples(m.toolCalls), 'tool'),
      tool_failures_by_tool: byLabel(await samples(m.toolFailures), 'tool'),
      tool_duration_seconds: {
        count: total(durations.filter((s) => s.metricName?.endsWith('_count'))),
        sum: total(durations.filter((s) => s.metricName?.endsWith('_sum'))),
      },
      sessions: {
        started_total: total(await samples(m.sessionsStarted)),
        ended_total: total(await samples(m.sessionsEnded)),
        active: total(await samples(m.sessionsActive)),
      },
      subagents: { started_total: total(await samples(m.subagentsStarted)), stopped_total: total(await samples(m.subagentsStopped)) },
      prompts_total: total(await samples(m.prompts)),
      notifications_by_type: byLabel(await samples(m.notifications), 'notification_type'),
      compactions_total: total(await samples(m.compactions)),
      stop_failures_by_error: byLabel(await samples(m.stopFailures), 'error'),
      decisions_by_kind: decisions ? byLabel(await samples(decisions), 'decision') : {},
      last_event_at: newestEvent > 0 ? iso(Math.round(newestEvent * 1000)) : null,
    };
  }

  private noteLastEvent(sourceApp: string, at: number): void {
    const previous = this.lastEventBySource.get(sourceApp);
    if (previous === undefined || at > previous) {
      this.lastEventBySource.set(sourceApp, at);
      this.metrics.lastEvent.set({ source_app: sourceApp }, at / 1000);
    }
  }

  private trackSession(event: ActivityEvent, at: number): void {
    if (event.type === 'SessionStart') this.sessions.started(event.sessionId, at);
    else if (event.type === 'SessionEnd') this.sessions.ended(event.sessionId, at);
    else this.sessions.seen(event.sessionId, at);
  }

  private countByType(event: ActivityEvent, happenedAt: number): void {
    const m = this.metrics;
    switch (event.type) {
      case 'PreToolUse': {
        const tool = this.labels.tool.value(toolFamily(event.toolName));
        m.toolCalls.inc({ tool });
        if (event.toolUseId) this.toolTimer.start(toolKey(event), happenedAt);
        break;
      }
      case 'PostToolUse':
        this.finishTool(event, happenedAt);
        break;
      case 'PostToolUseFailure': {
        const tool = this.finishTool(event, happenedAt);
        m.toolFailures.inc({ tool });
        break;
      }
      case 'SessionStart':
        m.sessionsStarted.inc();
        break;
      case 'SessionEnd':
        m.sessionsEnded.inc();
        break;
      case 'SubagentStart':
        m.subagentsStarted.inc();
        break;
      case 'SubagentStop':
        m.subagentsStopped.inc();
        break;
      case 'UserPromptSubmit':
        m.prompts.inc();
        break;
      case 'Notification': {
        const notificationType = this.labels.notificationType.value(event.notificationType);
        m.notifications.inc({ notification_type: notificationType });
        break;
      }
      case 'PreCompact': {
        const trigger = this.labels.trigger.value(event.trigger);
        m.compactions.inc({ trigger });
        break;
      }
      case 'StopFailure': {
        const error = this.labels.error.value(event.error);
        m.stopFailures.inc({ error });
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
    lastEvent: new Gauge<'source_app'>({
      name: name('last_event_timestamp_seconds'),
      help: 'Time of the newest hook event per source app, Unix seconds.',
      labelNames: ['source_app'],
      registers: [registry],
    }),
  };
}

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

async function samples(metric: { get(): Promise<{ values: unknown[] }> | { values: unknown[] } }): Promise<Sample[]> {
  return (await metric.get()).values as Sample[];
}

function total(values: Sample[]): number {
  return values.reduce((sum, s) => sum + s.value, 0);
}

/** Counts summed per value of one label; zero counts (pre-created children) left out. */
function byLabel(values: Sample[], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { labels, value } of values) {
    if (value === 0) continue;
    const key = String(labels[label]);
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}
