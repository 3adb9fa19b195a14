/**
 * The index behind IoUring.cancel(userData) (src/uring/userdata-index.ts), against a brute-force oracle: random
 * adds and removes, with userData values crowded into few hash positions so probe runs form, wrap around the
 * table and are shortened by deletions. After every step, each key's chain is exactly its slots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserDataIndex } from '#internal/uring/userdata-index.js';
import { choosers, prng } from './support/prng.js';

function chain(index: UserDataIndex, userData: number): number[] {
  const out: number[] = [];
  for (let s = index.first(userData); s >= 0 && out.length <= 1000; s = index.next(s)) out.push(s);
  return out.sort((a, b) => a - b);
}

for (const slots of [1, 7, 64, 300]) {
  test(`UserDataIndex with ${slots} slots matches a scan of the slots through random adds and removes`, () => {
    const { int, pick } = choosers(prng(4242 + slots));
    const index = new UserDataIndex(slots);
    const owner: Array<number | undefined> = new Array(slots).fill(undefined);
    // Few distinct keys, some far apart (both hash halves), -0 beside 0, negatives and the safe extremes.
    const keys = [0, -0, 1, 2, 3, -1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
      ...Array.from({ length: slots }, (_, i) => i * 16 + 100)];
    for (let step = 0; step < 20_000; step++) {
      const slot = int(slots);
      const held = owner[slot];
      if (held === undefined) {
        const k = pick(keys)!;
        index.add(slot, k);
        owner[slot] = k;
      } else {
        index.remove(slot, held);
        owner[slot] = undefined;
      }
      const k = step % 7 === 0 ? pick(keys)! : (owner[slot] ?? held!);
      const expected = owner.flatMap((o, s) => (o !== undefined && o === k ? [s] : []));
      assert.deepEqual(chain(index, k), expected, `step ${step}: key ${k}`);
      if (step % 997 === 0) {
        for (const key of keys) assert.deepEqual(chain(index, key), owner.flatMap((o, s) => (o !== undefined && o === key ? [s] : [])), `step ${step}: key ${key}`);
      }
    }
  });
}
