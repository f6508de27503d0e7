import type { BridgeConfig } from '../../config/schema.js';
import type { RecoveryController } from '../../recovery/controller.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { HookActivity } from './activity.js';
import type { ActivityEvent } from './event.js';

/**
 * Where every counted event goes, whatever its transport: the activity exporter, and — for a
 * StopFailure caused by a rate limit — the recovery controller, as a one-shot signal that lapses.
 */
const REMEMBERED_FAILURES = 1000;

export class HookEventSink {
  private lastAssignedId = 0;
  /** Prompts whose rate-limit failure was signalled already (bounded, oldest forgotten first). */
  private readonly signalledPrompts = new Set<string>();

  constructor(
    private readonly activity: HookActivity,
    private readonly controller: RecoveryController,
    private readonly clock: Clock,
    private readonly config: BridgeConfig,
    private readonly logger: Logger,
  ) {}

  /** Ids for events the bridge stores itself (HTTP ingestion), like the hooks server's row ids. */
  assignId(): number {
    this.lastAssignedId += 1;
    return this.lastAssignedId;
  }

  ingest(event: ActivityEvent): void {
    this.activity.record(event);
    if (event.type === 'StopFailure' && event.error === 'rate_limit') this.signalRateLimit(event);
  }

  private signalRateLimit(event: ActivityEvent): void {
    const now = this.clock.now();
    const happenedAt = Math.min(event.time ?? now, now);
    const expiresAt = happenedAt + this.config.recovery.backoff.signal_ttl_s * 1000;
    if (expiresAt <= now) {
      // A replayed or late event: the rate limit it reports has lapsed already.
      this.logger.debug('ignoring a StopFailure rate_limit older than signal_ttl_s', { session_id: event.sessionId });
      return;
    }
    if (this.alreadySignalled(event)) return; // the same failure seen over a second transport
    this.controller.fire({
      type: 'rate_limit',
      origin: 'hook',
      key: event.sessionId,
      expiresAt,
      summary: `StopFailure rate_limit reported by ${event.sourceApp} (session ${event.sessionId})`,
    });
  }

  private alreadySignalled(event: ActivityEvent): boolean {
    if (!event.promptId) return false;
    const key = `${event.sessionId}:${event.promptId}`;
    if (this.signalledPrompts.has(key)) return true;
    this.signalledPrompts.add(key);
    if (this.signalledPrompts.size > REMEMBERED_FAILURES) {
      this.signalledPrompts.delete(this.signalledPrompts.values().next().value as string);
    }
    return false;
  }
}
