/**
 * Aborting iomux/loop's awaitable socket operations (issue 19, defect 2 and the listener warning): an
 * operation whose AbortSignal is aborted rejects with an AbortError and moves no more bytes, whatever the
 * order of events in a batch — in particular when readiness has already woken it and another callback of the
 * same batch aborts the signal before the operation's own continuation runs. One abort listener per signal,
 * however many operations share it.
 *
 * The batch order is the kernel's: epoll reports fds in the order they became ready, so making the socket
 * ready and then a sentinel pipe in one synchronous stretch puts the socket first and the sentinel's callback
 * (which aborts) second in the same batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { EVENT_READ, loopStats, sockRecv, sockSendall, watch } from 'iomux/loop';
import { AF_UNIX, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_SNDBUF, type Socket } from 'iomux/socket';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { nextTurn } from './support/timing.js';

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

type State<T> = { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown };

/** Follows a promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>): State<T> {
  const s: State<T> = { state: 'pending' };
  promise.then((value) => Object.assign(s, { state: 'resolved', value }), (error) => Object.assign(s, { state: 'rejected', error }));
  return s;
}

function nonblockingPair(t: { after(fn: () => void): void }): [Socket, Socket] {
  return socketPair(t, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
}

function isAbortErrorFor(reason: unknown): (e: unknown) => boolean {
  return (e) => e instanceof DOMException && e.name === 'AbortError' && e.cause === reason;
}

/** Everything a non-blocking socket holds right now. */
function drainSocket(sock: Socket): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = sock.tryRecvInto(buf);
    if (n <= 0) return Buffer.concat(chunks);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

/** Loop turns until `done()` (a callback of the loop ran), at most `turns` of them. */
async function turnsUntil(done: () => boolean, what: string, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await nextTurn();
  assert.ok(done(), `${what} after ${turns} loop turns`);
}

/** A pipe whose read end is watched; `fire()` makes it readable, `callback` runs once from the batch. */
function sentinel(t: { after(fn: () => void): void }, callback: () => void): { fire(): void; ran(): boolean } {
  const fds = new Fds(t);
  const [r, w] = fds.pipe();
  os.setBlocking(r, false);
  let ran = false;
  const watcher = fds.own(watch(r, EVENT_READ, () => {
    watcher.close();
    ran = true;
    callback();
  }));
  return { fire: () => void os.write(w, 'x'), ran: () => ran };
}

test('sockRecv woken by readiness, then aborted (and its data taken) by a later callback of the same batch: rejects, reads nothing more', async (t) => {
  const [a, b] = nonblockingPair(t);
  const controller = new AbortController();
  const reason = new Error('cancelled by the sentinel');
  const op = track(sockRecv(b, 100, { signal: controller.signal }));
  await nextTurn();
  assert.equal(loopStats().watches, 1, 'the operation waits');
  let stateAtAbort = '';
  let takenByApp = '';
  const s = sentinel(t, () => {
    stateAtAbort = op.state;
    controller.abort(reason);
    takenByApp = drainSocket(b).toString();
  });
  a.send('first'); // the socket is ready first in the batch…
  s.fire(); // …then the sentinel, whose callback aborts
  await turnsUntil(s.ran, 'the sentinel ran');
  await turnsUntil(() => op.state !== 'pending', 'the aborted operation settled');
  if (stateAtAbort === 'pending') {
    // The case of the defect: the operation's continuation had not run when the signal was aborted.
    assert.equal(op.state, 'rejected');
    assert.ok(isAbortErrorFor(reason)(op.error), `rejected with ${String(op.error)}`);
    assert.equal(takenByApp, 'first');
  } else {
    // Microtasks ran between the two callbacks: the operation completed before the abort, legitimately.
    assert.deepEqual([op.state, String(op.value)], ['resolved', 'first']);
  }
  a.send('second');
  await nextTurn();
  await nextTurn();
  assert.equal(drainSocket(b).toString(), 'second', 'data sent after the abort is left for the application');
  assert.equal(loopStats().watches, 0, 'nothing keeps waiting');
});

test('sockRecv aborted by an earlier callback of the same batch than its readiness rejects and reads nothing', async (t) => {
  const [a, b] = nonblockingPair(t);
  const controller = new AbortController();
  const reason = new Error('cancelled first');
  const op = track(sockRecv(b, 100, { signal: controller.signal }));
  await nextTurn();
  const s = sentinel(t, () => controller.abort(reason));
  s.fire(); // the sentinel first this time
  a.send('unread');
  await turnsUntil(s.ran, 'the sentinel ran');
  await turnsUntil(() => op.state !== 'pending', 'the aborted operation settled');
  assert.ok(isAbortErrorFor(reason)(op.error), `rejected with ${String(op.error)}`);
  assert.equal(drainSocket(b).toString(), 'unread');
  assert.equal(loopStats().watches, 0);
});

test('sockSendall woken by room, then aborted by a later callback of the same batch: the application\'s own write comes last', async (t) => {
  const [a, b] = nonblockingPair(t);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  const data = Buffer.alloc(100_000, 0x2e);
  const controller = new AbortController();
  const reason = new Error('the application writes now');
  const op = track(sockSendall(a, data, { signal: controller.signal }));
  await nextTurn();
  assert.equal(loopStats().watches, 1, 'sockSendall waits for room');
  let sentBeforeAbort = drainSocket(b).length; // room: the writer is ready first in the batch…
  let appSent = 0;
  const s = sentinel(t, () => {
    sentBeforeAbort += drainSocket(b).length; // whatever the operation sent before the abort
    controller.abort(reason);
    appSent = a.trySend(Buffer.from('APP'));
  });
  s.fire(); // …then the sentinel
  await turnsUntil(s.ran, 'the sentinel ran');
  await turnsUntil(() => op.state !== 'pending', 'the aborted operation settled');
  assert.ok(isAbortErrorFor(reason)(op.error), `rejected with ${String(op.error)}`);
  assert.equal(appSent, 3, 'the drained socket had room for the application\'s write');
  await nextTurn();
  await nextTurn();
  const rest = drainSocket(b).toString();
  assert.ok(rest === 'APP', `after the abort: ${JSON.stringify(rest.slice(0, 8))}…, ${rest.length} bytes; nothing of the aborted sendall may follow the application's 'APP'`);
  assert.ok(sentBeforeAbort < data.length);
  assert.equal(loopStats().watches, 0);
});

test('twenty operations sharing one AbortSignal: one abort listener, no MaxListenersExceededWarning, all reject on abort', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const controller = new AbortController();
  const reason = new Error('all of them');
  const ops = Array.from({ length: 20 }, () => sockRecv(nonblockingPair(t)[1], 10, { signal: controller.signal }));
  await nextTurn();
  await nextTurn(); // Node emits the warning on a later tick
  assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'one listener for the signal');
  controller.abort(reason);
  for (const op of ops) await assert.rejects(op, isAbortErrorFor(reason));
  assert.equal(loopStats().watches, 0);
});

test('the shared abort listener goes away when the last operation using the signal settles', async (t) => {
  const controller = new AbortController();
  const pairs = [nonblockingPair(t), nonblockingPair(t)];
  const ops = pairs.map(([, b]) => sockRecv(b, 10, { signal: controller.signal }));
  await nextTurn();
  pairs[0]![0].send('one');
  assert.equal((await ops[0]!).toString(), 'one');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'still used by the other');
  pairs[1]![0].send('two');
  assert.equal((await ops[1]!).toString(), 'two');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'nothing left on the signal');
});
