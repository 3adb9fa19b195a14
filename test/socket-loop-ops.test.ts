/**
 * iomux/loop's awaitable socket operations (asyncio's loop.sock_*): waits driven by Node's event loop over
 * real sockets, asyncio's rules (non-blocking sockets only, one pending reader/writer, partial sends
 * continued), cancellation with an AbortSignal, a socket closed while waiting, and fds passed while waiting
 * for room. Every test ends with no watch left open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sockAccept, sockConnect, sockRecv, sockRecvInto, sockRecvfrom, sockRecvmsg, sockSendall, sockSendmsg, sockSendto, loopStats,
} from 'iomux/loop';
import {
  AF_INET, AF_UNIX, CMSG_SPACE, SCM_RIGHTS, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_SNDBUF, Socket, createServer,
} from 'iomux/socket';
import { ConnectionRefusedError, OSError, RuntimeError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { nextTurn } from './support/timing.js';

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

function nonblockingPair(t: { after(fn: () => void): void }, type = SOCK_STREAM): [Socket, Socket] {
  return socketPair(t, AF_UNIX, type | SOCK_NONBLOCK);
}

/** Awaits `sockRecv` until `total` bytes (or the end of input) arrived: what a sender's test checks against. */
async function receiveAll(sock: Socket, total: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  while (n < total) {
    const chunk = await sockRecv(sock, 65536);
    if (chunk.length === 0) break;
    chunks.push(chunk);
    n += chunk.length;
  }
  return Buffer.concat(chunks);
}

function isAbortError(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

test('a blocking socket is refused with asyncio\'s ValueError', async (t) => {
  const [a] = socketPair(t);
  await assert.rejects(sockRecv(a, 10), (e: unknown) => e instanceof ValueError && e.message === 'the socket must be non-blocking');
  a.settimeout(1);
  await assert.rejects(sockSendall(a, 'x'), ValueError);
  await assert.rejects(sockRecv(a, 10, { bogus: 1 } as never), TypeError);
});

test('sockRecv waits on the event loop for data sent later; sockRecvInto reads into a buffer', async (t) => {
  const [a, b] = nonblockingPair(t);
  const pending = sockRecv(b, 100);
  let settled = false;
  void pending.then(() => (settled = true));
  await nextTurn();
  assert.equal(settled, false, 'nothing to read yet');
  assert.equal(loopStats().watches, 1);
  a.send('later');
  assert.equal((await pending).toString(), 'later');
  assert.equal(loopStats().watches, 0, 'the watch is gone once nobody waits');
  const buf = Buffer.alloc(10);
  setImmediate(() => a.send('into'));
  assert.equal(await sockRecvInto(b, buf), 4);
  assert.equal(buf.subarray(0, 4).toString(), 'into');
  a.close();
  assert.equal((await sockRecv(b, 10)).length, 0, 'end of stream');
});

test('one pending reader per socket: a second raises RuntimeError, a reader and a writer coexist', async (t) => {
  const [a, b] = nonblockingPair(t);
  const first = sockRecv(b, 10);
  await assert.rejects(sockRecv(b, 10), (e: unknown) => e instanceof RuntimeError && /already waiting to read/.test(e.message));
  await sockSendall(b, 'both directions');
  assert.equal((await sockRecv(a, 100)).toString(), 'both directions');
  a.send('first');
  assert.equal((await first).toString(), 'first');
});

test('abort: a pending wait rejects with AbortError, the socket stays usable; an aborted signal rejects at once', async (t) => {
  const [a, b] = nonblockingPair(t);
  const controller = new AbortController();
  const pending = sockRecv(b, 10, { signal: controller.signal });
  await nextTurn();
  controller.abort(new Error('changed my mind'));
  await assert.rejects(pending, isAbortError);
  assert.equal(loopStats().watches, 0);
  await assert.rejects(sockRecv(b, 10, { signal: controller.signal }), isAbortError);
  a.send('after abort');
  assert.equal((await sockRecv(b, 100)).toString(), 'after abort');
});

test('closing the socket while an operation waits rejects it with OSError EBADF', async (t) => {
  const [, b] = nonblockingPair(t);
  const pending = sockRecv(b, 10);
  await nextTurn();
  b.close();
  await assert.rejects(pending, (e: unknown) => e instanceof OSError && e.errno === 9);
  assert.equal(loopStats().watches, 0);
});

test('sockSendall continues partial sends until 4 MiB arrive, while the reader awaits too', async (t) => {
  const [a, b] = nonblockingPair(t);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 8192);
  const data = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  const reading = receiveAll(b, data.length);
  await sockSendall(a, data);
  assert.ok((await reading).equals(data));
});

test('sockSendall and sockSendmsg go by the bytes a view really has, not by a length or subarray the caller redefined', async (t) => {
  // A subclass whose `length` lies and whose `subarray` returns empty views: before, sockSendall looped forever
  // on empty sends (blocking the thread) once the real bytes were out.
  class Liar extends Uint8Array {
    override get length(): number { return 1 << 30; }
    override subarray(): Uint8Array<ArrayBuffer> { return new Uint8Array(0); }
  }
  const [a, b] = nonblockingPair(t);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 8192);
  const data = new Liar(256 * 1024);
  for (let i = 0; i < data.byteLength; i++) data[i] = i % 253;
  const reading = receiveAll(b, data.byteLength + 3);
  await sockSendall(a, data);
  const short = new Liar(3);
  short.set([1, 2, 3]);
  assert.equal(await sockSendmsg(a, [short]), 3);
  const got = await reading;
  assert.equal(got.length, data.byteLength + 3);
  assert.ok(got.subarray(0, data.byteLength).equals(Buffer.from(data.buffer)));
  assert.deepEqual([...got.subarray(data.byteLength)], [1, 2, 3]);
});

test('sockConnect + sockAccept over TCP; the accepted socket is non-blocking; a refused connect names the address', async (t) => {
  const fds = new Fds(t);
  const listener = fds.own(createServer(['127.0.0.1', 0]));
  listener.setblocking(false);
  const address = listener.getsockname() as [string, number];
  const client = fds.own(new Socket(AF_INET, SOCK_STREAM));
  client.setblocking(false);
  const [[conn, peer]] = await Promise.all([sockAccept(listener), sockConnect(client, address)]);
  fds.own(conn);
  assert.equal(conn.gettimeout(), 0);
  assert.deepEqual(peer, client.getsockname());
  await sockSendall(client, 'over tcp');
  assert.equal((await sockRecv(conn, 100)).toString(), 'over tcp');

  listener.close();
  const refused = fds.own(new Socket(AF_INET, SOCK_STREAM));
  refused.setblocking(false);
  await assert.rejects(sockConnect(refused, address), (e: unknown) =>
    e instanceof ConnectionRefusedError && e.message === `[Errno 111] Connect call failed ('127.0.0.1', ${address[1]})`);
});

test('sockSendto/sockRecvfrom over UDP', async (t) => {
  const fds = new Fds(t);
  const rx = fds.own(new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
  rx.bind(['127.0.0.1', 0]);
  const tx = fds.own(new Socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
  const receiving = sockRecvfrom(rx, 100);
  assert.equal(await sockSendto(tx, 'datagram', rx.getsockname() as [string, number]), 8);
  const [data, from] = await receiving;
  assert.equal(data.toString(), 'datagram');
  assert.deepEqual(from, ['127.0.0.1', (tx.getsockname() as [string, number])[1]]);
});

test('sockSendmsg with an fd on a full socket waits for room, then the fd arrives through sockRecvmsg', async (t) => {
  const fds = new Fds(t);
  const [a, b] = nonblockingPair(t);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  const [r, w] = fds.pipe();
  const filler = Buffer.alloc(4096, 0x2e);
  let queued = 0;
  for (;;) {
    const n = a.trySend(filler);
    if (n < 0) break;
    queued += n;
  }
  const sending = sockSendmsg(a, [Buffer.from('FD')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([w]).buffer)]]);
  let received = Buffer.alloc(0);
  let fd = -1;
  while (fd < 0) {
    const [data, anc] = await sockRecvmsg(b, 65536, CMSG_SPACE(4));
    received = Buffer.concat([received, data]);
    for (const [, , item] of anc) fd = item.readInt32LE(0);
  }
  assert.equal(await sending, 2);
  while (received.length < queued + 2) received = Buffer.concat([received, await sockRecv(b, 65536)]);
  assert.equal(received.subarray(queued).toString(), 'FD');
  os.write(fd, 'passed while waiting');
  os.close(fd);
  assert.equal(os.read(r, 100).toString(), 'passed while waiting');
});
