/**
 * Pairs PreToolUse with its PostToolUse/PostToolUseFailure by tool_use_id. A call that never
 * completes (denied, interrupted, lost) must not pin memory, so at most `maxPending` starts are
 * kept and the oldest is dropped first.
 */
export class ToolTimer {
  private readonly pending = new Map<string, number>();

  constructor(private readonly maxPending: number) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  start(key: string, at: number): void {
    this.pending.set(key, at);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
  }

  /** Elapsed ms since the matching start, or undefined when there was none (or time ran backwards). */
  finish(key: string, at: number): number | undefined {
    const startedAt = this.pending.get(key);
    if (startedAt === undefined) return undefined;
    this.pending.delete(key);
    const elapsed = at - startedAt;
    return elapsed >= 0 ? elapsed : undefined;
  }

  /** Forgets a start without measuring (the completion carried its own duration). */
  discard(key: string): void {
    this.pending.delete(key);
  }
}
