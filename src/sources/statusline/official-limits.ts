import type { RateLimitFigure, RateLimitWindowName } from '../usage/types.js';
import { officialWindows, type OfficialWindow, type StatuslineInput } from './input.js';

interface Received {
  usedRatio: number;
  resetsAt: number | null;
  receivedAt: number;
}

/**
 * The official rate-limit figures from Claude Code's status line. A window counts while it is
 * fresh: received within the TTL and not past its own reset time (after a reset the old
 * percentage says nothing about the new window).
 */
export class OfficialRateLimits {
  private readonly windows = new Map<RateLimitWindowName, Received>();
  private lastUpdate: number | null = null;

  constructor(private readonly ttlMs: number) {}

  record(input: StatuslineInput, now: number): void {
    this.lastUpdate = now;
    for (const [name, window] of Object.entries(officialWindows(input)) as [RateLimitWindowName, OfficialWindow][]) {
      this.windows.set(name, { usedRatio: window.usedRatio, resetsAt: window.resetsAt, receivedAt: now });
    }
  }

  fresh(now: number): Partial<Record<RateLimitWindowName, RateLimitFigure>> {
    const out: Partial<Record<RateLimitWindowName, RateLimitFigure>> = {};
    for (const [name, window] of this.windows) {
      const withinTtl = now - window.receivedAt <= this.ttlMs;
      const beforeReset = window.resetsAt === null || now < window.resetsAt;
      if (withinTtl && beforeReset) out[name] = { usedRatio: window.usedRatio, resetsAt: window.resetsAt, source: 'official' };
    }
    return out;
  }

  lastUpdateAt(): number | null {
    return this.lastUpdate;
  }
}
