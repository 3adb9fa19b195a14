/**
 * A seeded, bounded fuzz of hostile arguments across the socket, os and select APIs (issue 19): each
 * sequence (test/support/hostile-fuzz-child.ts) runs in its own process and must end by itself — no signal,
 * no hang, no fd leak, no unexpected error class, and no peer ever receiving bytes or fds a call did not pass.
 * Replay one sequence with `node build/test/support/hostile-fuzz-child.js SEED OPS`; IOMUX_FUZZ_SEED=n picks
 * another first seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import './support/kqueue.js';
import { runNode } from './support/children.js';

const SEQUENCES = 12;
const OPS = 300;
const PARALLEL = 2;
const FIRST_SEED = Number(process.env.IOMUX_FUZZ_SEED ?? 20261207);
const CHILD = fileURLToPath(new URL('./support/hostile-fuzz-child.js', import.meta.url));

test(`${SEQUENCES} random sequences of ${OPS} calls with hostile arguments, each in a child process`, async () => {
  const failures: string[] = [];
  const seeds = Array.from({ length: SEQUENCES }, (_, i) => FIRST_SEED + i);
  for (let i = 0; i < seeds.length; i += PARALLEL) {
    await Promise.all(seeds.slice(i, i + PARALLEL).map(async (seed) => {
      const result = await runNode([CHILD, String(seed), String(OPS)], { timeoutMs: 30_000 });
      const replay = `replay: node build/test/support/hostile-fuzz-child.js ${seed} ${OPS}`;
      if (result.signal !== null) failures.push(`seed ${seed}: killed by ${result.signal} (a hang if SIGKILL) — ${replay}\n${result.stderr.slice(-3000)}`);
      else if (result.code !== 0 || !result.stdout.endsWith(`ok ${seed}\n`)) failures.push(`seed ${seed}: exit ${result.code} — ${replay}\n${result.stderr.slice(-3000)}`);
    }));
  }
  assert.deepEqual(failures, []);
});
