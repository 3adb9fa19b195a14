/** Clocks and waits for tests: how long a call took, and waiting on Node's event loop. */
import assert from 'node:assert/strict';

/** Runs `fn` and returns its result with the seconds it took. */
export function timed<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return [result, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** Seconds elapsed since `t0`, a reading of `performance.now()`. */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves on the next turn of the event loop, after the I/O callbacks of this one. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `condition()` holds (checked every few ms), failing after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
