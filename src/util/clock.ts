/** Time source and timers, injected so time-based logic is tested without sleeping. */
export type TimerHandle = { readonly id: unknown };

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    // Node caps timers at 2^31-1 ms; longer waits are re-armed by the callers' own reschedule logic.
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    timer.unref();
    return { id: timer };
  },
  clearTimeout(handle) {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};

/** Promise-based sleep on an injected clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
