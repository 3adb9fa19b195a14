/**
 * The loop validates as the synchronous API does (issue 9 item 6): watch() masks of any size, and
 * selectAsync()/events() timeouts by exactly select()'s rules; and async waits take an AbortSignal (issue 12
 * item 5).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_READ, watch } from 'iomux/loop';
import * as os from 'iomux/os';
import { expectNoFdLeaks, Fds } from './support/fds.js';
import { SELECTOR_CLASSES } from './support/selector-classes.js';
import { secondsSince } from './support/timing.js';

expectNoFdLeaks();

/** What `fn()` throws, synchronously or as a rejection. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function assertAbortError(err: unknown, reason: unknown): void {
  assert.ok(err instanceof DOMException, `not a DOMException: ${String(err)}`);
  assert.equal(err.name, 'AbortError');
  assert.equal((err as { cause?: unknown }).cause, reason);
}

describe('watch() masks', () => {
  for (const events of [2 ** 32, 2 ** 32 + 1, 2 ** 33 + 3, 2 ** 53 - 1, 4, -1, -(2 ** 32) + 1]) {
    test(`watch(fd, ${events}) and modify(${events}) raise ValueError`, (t) => {
      const fds = new Fds(t);
      const [r] = fds.pipe();
      assert.throws(() => watch(r, events, () => {}), { name: 'ValueError', message: `Invalid events: ${events}` });
      const watcher = fds.own(watch(r, EVENT_READ, () => {}));
      assert.throws(() => watcher.modify(events), { name: 'ValueError', message: `Invalid events: ${events}` });
      assert.equal(watcher.events, EVENT_READ);
    });
  }
});

for (const [name, Cls] of SELECTOR_CLASSES) {
  describe(`${name}: selectAsync() and events() take select()'s timeouts`, () => {
    for (const timeout of [1e300, -1e300, Infinity, -Infinity, NaN, 2 ** 31, -0, '1', 1n, {}] as unknown[]) {
      test(`selectAsync(${typeof timeout === 'bigint' ? `${timeout}n` : String(timeout)}) does what select() does`, async (t) => {
        const fds = new Fds(t);
        const sel = new Cls();
        t.after(() => sel.close());
        const [r, w] = fds.pipe();
        sel.register(r, EVENT_READ);
        let expected: unknown;
        let expectedError: unknown;
        // A ready selector, so a select() that accepts the timeout returns at once.
        os.write(w, 'x');
        try {
          expected = sel.select(timeout as number).map(([key, events]) => [key.fd, events]);
        } catch (err) {
          expectedError = err;
        }
        const asyncError = await caught(() => sel.selectAsync(timeout as number));
        const iterError = await caught(async () => {
          for await (const ready of sel.events(timeout as number)) {
            assert.deepEqual(ready.map(([key, events]) => [key.fd, events]), expected);
            break;
          }
        });
        if (expectedError === undefined) {
          assert.equal(asyncError, undefined);
          assert.equal(iterError, undefined);
          assert.deepEqual((await sel.selectAsync(timeout as number)).map(([key, events]) => [key.fd, events]), expected);
        } else {
          for (const err of [asyncError, iterError]) {
            assert.ok(err instanceof Error, `expected ${String(expectedError)}, got ${String(err)}`);
            assert.equal(err.constructor, (expectedError as Error).constructor);
            assert.equal(err.message, (expectedError as Error).message);
          }
        }
      });
    }

    test('selectAsync(-Infinity) on a selector with nothing ready polls: resolves [] at once', async (t) => {
      const fds = new Fds(t);
      const sel = new Cls();
      t.after(() => sel.close());
      const [r] = fds.pipe();
      sel.register(r, EVENT_READ);
      assert.deepEqual(sel.select(-Infinity), []);
      assert.deepEqual(await sel.selectAsync(-Infinity), []);
    });
  });

  describe(`${name}: AbortSignal`, () => {
    test('an already aborted signal rejects at once with an AbortError carrying the reason; the selector stays usable', async (t) => {
      const fds = new Fds(t);
      const sel = new Cls();
      t.after(() => sel.close());
      const [r, w] = fds.pipe();
      sel.register(r, EVENT_READ);
      os.write(w, 'x'); // even a ready selector: the signal comes first
      const reason = new Error('stop');
      assertAbortError(await caught(() => sel.selectAsync(5, { signal: AbortSignal.abort(reason) })), reason);
      const err = await caught(async () => {
        for await (const _ of sel.events(5, { signal: AbortSignal.abort(reason) })) assert.fail('yielded');
      });
      assertAbortError(err, reason);
      assert.deepEqual((await sel.selectAsync(5)).map(([key]) => key.fd), [r]);
    });

    test('aborting while waiting rejects promptly; the selector waits again afterwards', async (t) => {
      const fds = new Fds(t);
      const sel = new Cls();
      t.after(() => sel.close());
      const [r, w] = fds.pipe();
      sel.register(r, EVENT_READ, 'data');
      const controller = new AbortController();
      const start = performance.now();
      const pending = sel.selectAsync(30, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const err = await caught(() => pending);
      assertAbortError(err, controller.signal.reason);
      assert.ok(secondsSince(start) < 10, 'the abort did not end the wait');
      // Usable: a new waiter (no "already waiting" error), woken by readiness.
      const next = sel.selectAsync(30, { signal: new AbortController().signal });
      os.write(w, 'x');
      assert.deepEqual((await next).map(([key, events]) => [key.data, events]), [['data', EVENT_READ]]);
    });

    test('events(timeout, { signal }) ends with the AbortError when the signal aborts mid-iteration', async (t) => {
      const fds = new Fds(t);
      const sel = new Cls();
      t.after(() => sel.close());
      const [r, w] = fds.pipe();
      sel.register(r, EVENT_READ);
      const controller = new AbortController();
      os.write(w, 'x');
      let batches = 0;
      const err = await caught(async () => {
        for await (const ready of sel.events(null, { signal: controller.signal })) {
          assert.equal(ready.length, 1);
          batches++;
          os.read(r, 1);
          controller.abort('enough');
        }
      });
      assert.equal(batches, 1);
      assertAbortError(err, 'enough');
    });

    test('options are checked: unknown keys, non-objects and a non-signal are TypeErrors, never ignored', async (t) => {
      const sel = new Cls();
      t.after(() => sel.close());
      for (const options of [{ sginal: AbortSignal.abort() }, 5, 'x', null, { signal: 'no' }, { signal: {} }]) {
        const err = await caught(() => sel.selectAsync(0, options as never));
        assert.ok(err instanceof TypeError, `selectAsync(0, ${JSON.stringify(options)}) gave ${String(err)}`);
        assert.throws(() => sel.events(0, options as never), TypeError);
      }
      assert.deepEqual(await sel.selectAsync(0, {}), []);
      assert.deepEqual(await sel.selectAsync(0, { signal: undefined }), []);
    });
  });
}
