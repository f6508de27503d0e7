import type { FactSink, RateLimitHit } from '../component.js';
import type { BridgeConfig } from '../config/schema.js';
import type { RecoveryController } from '../recovery/controller.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** Failures remembered to recognise a second report of the same one (oldest forgotten first). */
const REMEMBERED_FAILURES = 1000;

/**
 * Turns a rate limit a source saw (StopFailure `rate_limit`) into a one-shot `rate_limit` alert
 * that lapses after `recovery.backoff.signal_ttl_s`. The same failure reported over a second
 * transport (the hooks server and an HTTP hook; later telemetry) escalates the backoff once.
 */
export class RateLimitHits implements FactSink {
  private readonly signalled = new Set<string>();

  constructor(
    private readonly controller: RecoveryController,
    private readonly clock: Clock,
    private readonly config: BridgeConfig,
    private readonly logger: Logger,
  ) {}

  rateLimitHit(hit: RateLimitHit): void {
    const now = this.clock.now();
    const happenedAt = Math.min(hit.at, now);
    const expiresAt = happenedAt + this.config.recovery.backoff.signal_ttl_s * 1000;
    if (expiresAt <= now) {
      // A replayed or late report: the rate limit it tells of has lapsed already.
      this.logger.debug('ignoring a rate limit older than signal_ttl_s', { session_id: hit.sessionId });
      return;
    }
    if (this.alreadySignalled(hit)) return;
    // Anyone who can reach the open hook endpoints can report one: a report during the hold it
    // caused joins it (coalesce) instead of escalating, and the origins kept per alert are bounded.
    this.controller.fire({ type: 'rate_limit', origin: 'hook', key: hit.sessionId, expiresAt, summary: hit.summary, coalesce: true });
  }

  private alreadySignalled(hit: RateLimitHit): boolean {
    if (!hit.promptId) return false;
    const key = `${hit.sessionId}:${hit.promptId}`;
    if (this.signalled.has(key)) return true;
    this.signalled.add(key);
    if (this.signalled.size > REMEMBERED_FAILURES) this.signalled.delete(this.signalled.values().next().value as string);
    return false;
  }
}
