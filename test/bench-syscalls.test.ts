/**
 * `npm run bench:syscalls` with a tiny iteration count: it loads the library once (it used to crash with
 * koffi's "Duplicate type name" by loading both dist/ and a second copy), measures every row, and its npm
 * script is still the command that runs it. Checks the machinery only, never the figures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT, runNode } from './support/children.js';

const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));

describe('bench:syscalls', () => {
  test('the npm script builds the dev tree, then runs `bench syscalls`', () => {
    const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['bench:syscalls'], 'npm run build:dev && node build/bench/main.js syscalls');
  });

  test('one 1 ms batch per figure: every table, size and state, the message target verdict, status 0', async () => {
    const r = await runNode([MAIN, 'syscalls', '--batches', '1', '--batch-ms', '1'], { cwd: PACKAGE_ROOT, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^# iomux syscall costs\n/);
    assert.match(r.stdout, /Median of 1 batches of about 1 ms each/);
    assert.match(r.stdout, /\| getpid\(\) \(cheapest real syscall\) \| [\d.]+ (ns|µs) \|/);
    for (const state of ['idle', 'ready']) {
      for (const n of [1, 100, 1000]) {
        // The last column counts the watched fds select() could take (below FD_SETSIZE): all of them but
        // perhaps the last few at 1000, depending on how many fds node itself holds.
        const row = new RegExp(`\\n\\| ${n} ${state} (\\| [\\d.]+ (ns|µs) ){6}\\| (\\d+) \\|\\n`).exec(r.stdout);
        assert.ok(row, `${n} ${state}:\n${r.stdout}`);
        const selectable = Number(row[3]);
        assert.ok(selectable <= n && selectable >= (n === 1000 ? 900 : n), `${n} ${state}: select watched ${selectable}`);
      }
    }
    // The message pairs: the ratio with its verdict, and the C floor (or why it was not measured).
    assert.match(r.stdout, /\n\| sendmsg \+ recvmsg with one fd \(\+ close\) \| [\d.]+ (ns|µs) \| [\d.]+× \|\n/);
    assert.match(r.stdout, /\nTarget: sendmsg \+ recvmsg with one fd \(\+ close\) at most 2× send \+ recv: [\d.]+× — (met|MISS)\.\n/);
    assert.match(r.stdout, /\n(Kernel floor of the target ratio: [\d.]+× in C; iomux [\d.]+× \([+−][\d.]+\)\.|Not measured: .+\.)\n/);
  });

  test('a bad option is one line naming it, status 2', async () => {
    const r = await runNode([MAIN, 'syscalls', '--batches', '0'], { cwd: PACKAGE_ROOT });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^bench syscalls: --batches must be an integer from 1 to 1000 \(got 0\)\n/);
    assert.equal(r.stdout, '');
  });
});
