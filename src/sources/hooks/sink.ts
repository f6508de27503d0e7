import type { FactSink } from '../../component.js';
import type { Clock } from '../../util/clock.js';
import type { HookActivity } from './activity.js';
import type { ActivityEvent } from './event.js';

/**
 * Where every counted event goes, whatever its transport: the activity exporter, and — for a
 * StopFailure caused by a rate limit — the bridge's fact sink, which decides what it means.
 */
export class HookEventSink {
  private lastAssignedId = 0;

  constructor(
    private readonly activity: HookActivity,
    private readonly report: FactSink,
    private readonly clock: Clock,
  ) {}

  /** Ids for events the bridge stores itself (HTTP ingestion), like the hooks server's row ids. */
  assignId(): number {
    this.lastAssignedId += 1;
    return this.lastAssignedId;
  }

  ingest(event: ActivityEvent): void {
    this.activity.record(event);
    if (event.type !== 'StopFailure' || event.error !== 'rate_limit') return;
    this.report.rateLimitHit({
      sessionId: event.sessionId,
      ...(event.promptId ? { promptId: event.promptId } : {}),
      at: event.time ?? this.clock.now(),
      summary: `StopFailure rate_limit reported by ${event.sourceApp} (session ${event.sessionId})`,
    });
  }
}
