/**
 * Crash-safety of iomux/uring, each scenario in its own process (test/support/uring-safety-child.ts): the
 * kernel keeps writing into ring memory while JavaScript drops the ring, collects garbage, closes it, tries to
 * detach its buffers or reaches it from another thread. A SIGSEGV, SIGABRT or non-zero exit is a failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runNode } from './support/children.js';

const CHILD = fileURLToPath(new URL('./support/uring-safety-child.js', import.meta.url));

describe('iomux/uring never lets the kernel write into memory JavaScript let go', () => {
  for (const [name, what] of [
    ['dropped', 'a ring dropped without close() keeps its memory while the kernel writes (GC forced)'],
    ['closedWhileWriting', 'close() while peers stream data cancels and reaps; views taken before stay readable'],
    ['detach', 'a provided buffer\'s memory cannot be detached by transfer or structuredClone'],
    ['otherThread', 'a worker cannot use the ring: the object does not clone and the kernel refuses its fd (EEXIST)'],
    ['cloexec', 'the ring fd is close-on-exec'],
    ['scribble', 'writing over a buffer view\'s whole ArrayBuffer cannot reach the addresses the kernel writes to'],
  ] as const) {
    test(what, async () => {
      const r = await runNode(['--expose-gc', CHILD, name], { timeoutMs: 60_000 });
      assert.equal(r.signal, null, `${name} died of ${r.signal}: ${r.stderr}`);
      assert.equal(r.code, 0, `${name} exited ${r.code}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`ok ${name}\\n$`));
    });
  }
});
