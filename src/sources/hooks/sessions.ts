interface SessionEntry {
  lastSeen: number;
  ended: boolean;
}

/**
 * Which sessions are active: seen within the TTL and not ended. SessionEnd may never come (a
 * killed terminal), hence the TTL; an ended session is remembered until its TTL passes so that
 * stragglers after SessionEnd do not bring it back (only a new SessionStart does).
 * Entries are updated in place: one object per session, not one per event.
 */
export class SessionTracker {
  private readonly sessions = new Map<string, SessionEntry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
  ) {}

  started(sessionId: string, at: number): void {
    const entry = this.entry(sessionId, at);
    entry.lastSeen = Math.max(entry.lastSeen, at);
    entry.ended = false;
  }

  ended(sessionId: string, at: number): void {
    const entry = this.entry(sessionId, at);
    entry.lastSeen = Math.max(entry.lastSeen, at);
    entry.ended = true;
  }

  seen(sessionId: string, at: number): void {
    const entry = this.entry(sessionId, at);
    entry.lastSeen = Math.max(entry.lastSeen, at);
  }

  activeCount(now: number): number {
    let active = 0;
    for (const [sessionId, entry] of this.sessions) {
      if (entry.lastSeen <= now - this.ttlMs) this.sessions.delete(sessionId);
      else if (!entry.ended) active += 1;
    }
    return active;
  }

  private entry(sessionId: string, at: number): SessionEntry {
    let entry = this.sessions.get(sessionId);
    if (entry) return entry;
    entry = { lastSeen: at, ended: false };
    this.sessions.set(sessionId, entry);
    // Beyond the bound the earliest-seen session goes; with a sane bound only a flood of ids gets here.
    if (this.sessions.size > this.maxSessions) {
      const earliest = this.sessions.keys().next().value;
      if (earliest !== undefined) this.sessions.delete(earliest);
    }
    return entry;
  }
}
