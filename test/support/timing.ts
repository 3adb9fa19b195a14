/** Clocks and waits for tests: how long a call took, and waiting on Node's event loop. */
import assert from 'node:assert/strict';

/**
 * How much slower than a native x86_64 run this one is allowed to be (IOMUX_TEST_SLOWDOWN, default 1): .ci/arm64.sh
 * sets it under qemu-user, where starting a node child takes seconds. It stretches only the loose upper bounds
 * that guard against hangs (a child's time limit, "took under N s"), never a lower bound or an expected order.
 */
export const SLOWDOWN = Math.max(1, Number(process.env.IOMUX_TEST_SLOWDOWN ?? 1) || 1);

/** A loose upper bound of `n` (seconds or milliseconds), stretched by SLOWDOWN. */
export function loose(n: number): number {
  return n * SLOWDOWN;
}

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
