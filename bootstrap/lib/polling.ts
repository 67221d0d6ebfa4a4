/** Polling with a deadline, with the clock and the pause injectable so tests need not wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly waitedMs: number,
    readonly lastState: string,
  ) {
    super(`gave up waiting for ${what} after ${Math.round(waitedMs / 1000)} s; last state: ${lastState}`);
    this.name = 'WaitTimeout';
  }
}

/**
 * Calls `check` until it returns a result (not undefined) or `timeoutMs` has
 * passed. `check` also reports the state it saw, for the timeout message.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<{ done: T | undefined; state: string }>,
  options: { timeoutMs: number; intervalMs: number; clock?: Clock },
): Promise<T> {
  const clock = options.clock ?? realClock;
  const started = clock.now();
  for (;;) {
    const { done, state } = await check();
    if (done !== undefined) return done;
    const waited = clock.now() - started;
    if (waited >= options.timeoutMs) throw new WaitTimeout(what, waited, state);
    await clock.sleep(Math.min(options.intervalMs, options.timeoutMs - waited));
  }
}
