/**
 * sockSendto on an unconnected unix datagram socket whose receiver's queue is full (issue 19, defect 5):
 * the kernel keeps reporting the sender writable (an unconnected sender has no peer to wait on) while every
 * sendto says EAGAIN. The operation must back off instead of retrying on every loop turn (asyncio spins
 * there), still send as soon as the receiver drains, and stay abortable while it backs off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loopStats, sockSendto } from 'iomux/loop';
import { AF_UNIX, SOCK_DGRAM, SOCK_NONBLOCK, Socket } from 'iomux/socket';
import { BlockingIOError, OSError } from 'iomux/errors';
import { Fds, expectNoFdLeaks, tempDir } from './support/fds.js';
import { nextTurn, sleep, until } from './support/timing.js';

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

type After = { after(fn: () => void): void };

/** A bound receiver whose queue is full, and an unconnected sender whose `sendto` calls are counted. */
function fullReceiver(t: After): { rx: Socket; tx: Socket; path: string; queued: number; attempts(): number } {
  const fds = new Fds(t);
  const path = join(tempDir(t, 'iomux-backoff-'), 'rx');
  const rx = fds.own(new Socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  rx.bind(path);
  const tx = fds.own(new Socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  let queued = 0;
  for (;;) {
    try {
      tx.sendto(Buffer.from(`filler ${queued}`), path);
      queued++;
    } catch (err) {
      if (err instanceof BlockingIOError) break;
      throw err;
    }
  }
  let attempts = 0;
  const sendto = tx.sendto.bind(tx) as (data: Buffer, address: string) => number;
  Object.defineProperty(tx, 'sendto', { value: (data: Buffer, address: string) => (attempts++, sendto(data, address)) });
  return { rx, tx, path, queued, attempts: () => attempts };
}

test('sockSendto to a full unix datagram receiver backs off (no busy loop) and sends once the receiver reads', async (t) => {
  const { rx, tx, path, queued, attempts } = fullReceiver(t);
  let settled = false;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sending = sockSendto(tx, 'last', path).finally(() => (settled = true));
  // A CPU measurement needs a stretch of time: 500 ms, during which nothing makes room.
  await sleep(500);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - t0;
  const share = (cpu.user + cpu.system) / 1000 / elapsed;
  const tries = attempts();
  console.log(`# ${tries} sendto attempts and ${(share * 100).toFixed(1)} % CPU over ${elapsed.toFixed(0)} ms while the receiver was full`);
  assert.equal(settled, false, 'still waiting for room');
  assert.ok(tries < 40, `${tries} sendto attempts in ${elapsed.toFixed(0)} ms: a busy loop`);
  assert.ok(share < 0.3, `${(share * 100).toFixed(1)} % CPU while waiting`);
  const tDrain = performance.now();
  assert.equal(rx.recv(100).toString(), 'filler 0', 'room for one datagram');
  assert.equal(await sending, 4);
  console.log(`# sent ${(performance.now() - tDrain).toFixed(1)} ms after the receiver made room`);
  const rest: string[] = [];
  for (let i = 0; i < queued; i++) rest.push(rx.recv(100).toString());
  assert.equal(rest.at(-1), 'last');
  assert.equal(loopStats().watches, 0);
});

test('aborting a sockSendto that backs off rejects it at once with the AbortError, and it never sends', async (t) => {
  const { rx, tx, path, queued, attempts } = fullReceiver(t);
  const controller = new AbortController();
  const reason = new Error('give up');
  const sending = sockSendto(tx, 'never', path, { signal: controller.signal });
  let settled = false;
  sending.catch(() => {}).finally(() => (settled = true));
  // From the eighth attempt the back-off sleeps 32-64 ms: a rejection within the abort's loop turn is not a timer's.
  await until(() => attempts() >= 8, 'an eighth sendto attempt');
  controller.abort(reason);
  await nextTurn();
  assert.equal(settled, true, 'rejected within the loop turn of the abort, not when the back-off timer ends');
  await assert.rejects(sending, (e: unknown) => e instanceof DOMException && e.name === 'AbortError' && e.cause === reason);
  const received: string[] = [];
  for (let i = 0; i < queued; i++) received.push(rx.recv(100).toString());
  assert.ok(!received.includes('never'));
  assert.throws(() => rx.recv(100), BlockingIOError, 'nothing more arrived');
  assert.equal(loopStats().watches, 0);
});

test('closing the socket while sockSendto backs off rejects it with OSError EBADF', async (t) => {
  const { tx, path, attempts } = fullReceiver(t);
  const sending = sockSendto(tx, 'never', path);
  await until(() => attempts() >= 2, 'a second sendto attempt'); // backing off between attempts
  tx.close();
  await assert.rejects(sending, (e: unknown) => e instanceof OSError && e.errno === 9);
  assert.equal(loopStats().watches, 0);
});
