/**
 * The callback/microtask contract of iomux/loop (docs/loop.md): nextTicks and promise reactions queued by an
 * iomux callback run right after it returns — before the batch's next callback, before an immediate queued
 * in it, and without waiting for some unrelated Node callback. Node ≥ 26.4.0 stopped running them after
 * calls that come from libuv through an FFI (nodejs/node#62969); these tests fail there without iomux's drain.
 * Each scenario runs in a fresh node with nothing else on its loop, so no other callback can drain for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runNode, runModule, PACKAGE_ROOT } from './support/children.js';
import { SLOWDOWN } from './support/timing.js';

/** Runs `source` as an ES module in a fresh node (extra node flags first) and returns its JSON result line. */
async function resultOf(body: string, nodeFlags: string[] = []): Promise<{ result: unknown; stderr: string }> {
  const source = `const SLOWDOWN = ${SLOWDOWN};\n${body}`; // the scripts' timers are loose bounds too
  const { code, stdout, stderr } = nodeFlags.length === 0
    ? await runModule(source, 20_000)
    : await runNode([...nodeFlags, '--input-type=module', '-e', source], { cwd: PACKAGE_ROOT, timeoutMs: 20_000 });
  assert.equal(code, 0, `the child failed (${code}): ${stderr}`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return { result: JSON.parse(line), stderr };
}

// Two pipes made readable before the loop turns, so both callbacks come in one batch.
const WATCH_ORDER = `
import { watch, EVENT_READ } from 'iomux/loop';
import * as os from 'iomux/os';
const order = [];
const pipes = [os.pipe(), os.pipe()];
const watchers = pipes.map(([r], i) => watch(r, EVENT_READ, () => {
  os.read(r, 16);
  order.push('cb' + i);
  setImmediate(() => order.push('immediate' + i));
  process.nextTick(() => order.push('tick' + i));
  queueMicrotask(() => order.push('microtask' + i));
  Promise.resolve().then(() => order.push('then' + i));
  watchers[i].close();
  if (i === 1) setImmediate(() => { for (const [r, w] of pipes) { os.close(r); os.close(w); } console.log(JSON.stringify(order)); });
}));
for (const [, w] of pipes) os.write(w, 'x');
`;

test('a callback\'s nextTicks and microtasks run before the batch\'s next callback and before its immediates', async () => {
  const { result } = await resultOf(WATCH_ORDER);
  assert.deepEqual(result, [
    'cb0', 'tick0', 'microtask0', 'then0',
    'cb1', 'tick1', 'microtask1', 'then1',
    'immediate0', 'immediate1',
  ]);
});

// One callback, no immediates of its own: what it queues must run before the 300 ms timer, the loop's only
// other callback (which would otherwise be what finally drains the queues).
const BEFORE_TIMER = `
import { watch, EVENT_READ } from 'iomux/loop';
import * as os from 'iomux/os';
const order = [];
const [r, w] = os.pipe();
// Closing the watcher inside its callback would arm an immediate of iomux's own (which drains): it is
// closed by the timer instead.
const watcher = watch(r, EVENT_READ, () => {
  os.read(r, 16);
  order.push('cb');
  process.nextTick(() => order.push('tick'));
  Promise.resolve().then(() => order.push('then'));
});
setTimeout(() => {
  order.push('timer');
  watcher.close();
  os.close(r);
  os.close(w);
}, 300 * SLOWDOWN);
os.write(w, 'x');
process.on('exit', () => console.log(JSON.stringify(order)));
`;

test('a callback\'s tasks run before the loop\'s next callback (a timer), also when Node wraps its function (--pending-deprecation)', async () => {
  for (const flags of [[], ['--pending-deprecation']]) {
    const { result, stderr } = await resultOf(BEFORE_TIMER, flags);
    assert.deepEqual(result, ['cb', 'tick', 'then', 'timer'], `node ${flags.join(' ')}`);
    assert.doesNotMatch(stderr, /DEP0134|DeprecationWarning/, `node ${flags.join(' ')}`);
  }
});

test('await selectAsync() woken by another thread\'s write continues before a 5 s timer set before it fires', async () => {
  // A worker thread writes 200 ms after it came online and then blocks: no other event reaches this loop, so
  // only the drain can run the continuation before the timer (a child process would take seconds to start
  // on a loaded machine).
  const { result } = await resultOf(`
    import { once } from 'node:events';
    import { Worker } from 'node:worker_threads';
    import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
    import * as os from 'iomux/os';
    const [r, w] = os.pipe();
    const sel = new DefaultSelector();
    sel.register(r, EVENT_READ);
    const pause = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ';
    const source = "import { workerData } from 'node:worker_threads'; import { writeSync } from 'node:fs';" +
      pause + "200); writeSync(workerData, 'x');" + pause + "60000);";
    const worker = new Worker(new URL('data:text/javascript,' + encodeURIComponent(source)), { workerData: w });
    await once(worker, 'online');
    let timerFired = false;
    const timer = setTimeout(() => { timerFired = true; }, 5000 * SLOWDOWN);
    const t0 = performance.now();
    const ready = await sel.selectAsync();
    const continuedAfterMs = performance.now() - t0;
    const firedBefore = timerFired;
    clearTimeout(timer);
    await worker.terminate();
    sel.close();
    os.close(r);
    os.close(w);
    console.log(JSON.stringify({ ready: ready.length, firedBefore, continuedAfterMs }));
  `);
  const { ready, firedBefore, continuedAfterMs } = result as { ready: number; firedBefore: boolean; continuedAfterMs: number };
  assert.equal(ready, 1);
  assert.equal(firedBefore, false, `selectAsync continued only after ${continuedAfterMs.toFixed(0)} ms, after the timer`);
});

test('sockSendall of 1 MiB to a reader awaiting sockRecv in the same process finishes before a 5 s timer', async () => {
  const { result } = await resultOf(`
    import { socketpair, SOL_SOCKET, SO_SNDBUF } from 'iomux/socket';
    import { sockRecv, sockSendall } from 'iomux/loop';
    let timerFired = false;
    const timer = setTimeout(() => { timerFired = true; }, 5000 * SLOWDOWN);
    const [a, b] = socketpair();
    a.setblocking(false); b.setblocking(false);
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 8192);
    const data = Buffer.alloc(1 << 20, 7);
    let received = 0;
    const reading = (async () => { while (received < data.length) { const c = await sockRecv(b, 65536); if (!c.length) break; received += c.length; } })();
    await sockSendall(a, data);
    await reading;
    const firedBefore = timerFired;
    clearTimeout(timer);
    a.close(); b.close();
    console.log(JSON.stringify({ received, firedBefore }));
  `);
  assert.deepEqual(result, { received: 1 << 20, firedBefore: false });
});
