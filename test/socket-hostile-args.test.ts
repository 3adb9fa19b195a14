/**
 * Hostile arguments (issue 19, defects 1, 4 and 8): caller code that runs while a call converts its arguments
 * (generators, iterators, index getters, overridden typed-array members) and shrinks, detaches or re-enters.
 * Whatever it does, a peer receives only bytes and fds the caller passed in this call, the kernel never reads
 * or writes past a caller's buffer, and a buffer changed under a call gives CPython's error for that case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AF_UNIX, CMSG_SPACE, MSG_DONTWAIT, SCM_RIGHTS, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_LINGER, Socket as SocketClass,
  type Socket,
} from 'iomux/socket';
import { BlockingIOError, BufferError, OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { Kevent, kevent, kqueue, KQ_EV_ADD, KQ_EV_DELETE, KQ_FILTER_READ } from 'iomux/select';
import { expectNoFdLeaks } from './support/fds.js';
import { requireKqueue } from './support/kqueue.js';
import { socketPair } from './support/sockets.js';

expectNoFdLeaks();

const SECRET = 'SECRET-PASSWORD-1234';

/** Leaves SECRET's bytes (and, with `fd`, that fd in SCM_RIGHTS) in iomux's reused message block. */
function sendSecret(t: { after(fn: () => void): void }, fd?: number): void {
  const [x, y] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const anc = fd === undefined ? [] : [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([fd]).buffer)] as const];
  x.sendmsg([Buffer.from(SECRET)], anc);
  const [, items] = y.recvmsg(100, CMSG_SPACE(4));
  for (const [, , data] of items) for (let at = 0; at + 4 <= data.length; at += 4) os.close(data.readInt32LE(at));
}

/** Nothing is waiting on `sock`. */
function assertNothingArrived(sock: Socket): void {
  assert.throws(() => sock.recv(100, MSG_DONTWAIT), BlockingIOError);
}

/** A resizable ArrayBuffer (ES2024; the project's TypeScript lib predates it). */
interface Resizable extends ArrayBuffer {
  resize(n: number): void;
}
function resizable(n: number): Resizable {
  return new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(n, { maxByteLength: n });
}

function isBufferError(err: unknown): boolean {
  return err instanceof BufferError && /sendmsg\(\)/.test(err.message);
}

test('sendmsg: a data buffer shrunk by an ancdata generator is a BufferError, never an earlier message', (t) => {
  sendSecret(t);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const rab = resizable(SECRET.length);
  const data = new Uint8Array(rab).fill(0x41);
  function* shrink(): Generator<never> {
    rab.resize(0);
  }
  assert.throws(() => a.sendmsg([data], shrink()), isBufferError);
  assertNothingArrived(b);
});

test('sendmsg: a data buffer detached by a buffers-array index getter is a BufferError', (t) => {
  sendSecret(t);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const data = new Uint8Array(SECRET.length).fill(0x42);
  const buffers: Uint8Array[] = [data];
  Object.defineProperty(buffers, 1, {
    enumerable: true,
    get() {
      structuredClone(data, { transfer: [data.buffer] });
      return Buffer.from('tail');
    },
  });
  assert.throws(() => a.sendmsg(buffers), isBufferError);
  assertNothingArrived(b);
});

test('sendmsg: an SCM_RIGHTS buffer shrunk afterwards never sends the fd of an earlier sendmsg', (t) => {
  const secretFd = openSync('/proc/self/exe', 'r');
  t.after(() => os.close(secretFd));
  sendSecret(t, secretFd);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const [r, w] = os.pipe();
  t.after(() => (os.close(r), os.close(w)));
  const rab = resizable(4);
  new Int32Array(rab)[0] = w;
  // The second item's level getter runs after the first item's fds were taken.
  const later: unknown[] = [];
  Object.defineProperty(later, 0, { get: () => (rab.resize(0), SOL_SOCKET) });
  later[1] = SCM_RIGHTS;
  later[2] = Buffer.alloc(0);
  const items = [[SOL_SOCKET, SCM_RIGHTS, new Uint8Array(rab)], later] as unknown as Array<[number, number, Uint8Array]>;
  assert.throws(() => a.sendmsg([Buffer.from('x')], items), isBufferError);
  assertNothingArrived(b);
});

test('sendmsg: an SCM_RIGHTS buffer detached by the address getter is a BufferError', (t) => {
  const secretFd = openSync('/proc/self/exe', 'r');
  t.after(() => os.close(secretFd));
  sendSecret(t, secretFd);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const fds = new Int32Array([a.fileno()]);
  const item = [SOL_SOCKET, SCM_RIGHTS, fds] as const;
  const anc = [item, item];
  Object.defineProperty(anc, 1, {
    get() {
      structuredClone(fds, { transfer: [fds.buffer] });
      return [SOL_SOCKET, SCM_RIGHTS, new Int32Array([a.fileno()])];
    },
  });
  assert.throws(() => a.sendmsg([Buffer.from('x')], anc), isBufferError);
  assertNothingArrived(b);
});

test('sendmsg: a nested sendmsg on another socket from inside the conversion does not clobber the outer call', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const [c, d] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const [r, w] = os.pipe();
  t.after(() => (os.close(r), os.close(w)));
  function* outerAnc(): Generator<readonly [number, number, Uint8Array]> {
    yield [SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([r]).buffer)];
    // Re-enter with a different message, a different fd and more data than the outer one.
    c.sendmsg([Buffer.from('INNER-MESSAGE-WHICH-IS-LONGER')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([w]).buffer)]]);
  }
  const buffers = [Buffer.from('OUTER-'), Buffer.from('MESSAGE')];
  assert.equal(a.sendmsg(buffers, outerAnc()), 13);
  const [outer, outerItems] = b.recvmsg(100, CMSG_SPACE(8));
  const [inner, innerItems] = d.recvmsg(100, CMSG_SPACE(8));
  assert.equal(outer.toString(), 'OUTER-MESSAGE');
  assert.equal(inner.toString(), 'INNER-MESSAGE-WHICH-IS-LONGER');
  const outerFd = outerItems[0]![2].readInt32LE(0);
  const innerFd = innerItems[0]![2].readInt32LE(0);
  assert.equal(outerItems.length, 1);
  assert.equal(innerItems.length, 1);
  assert.equal(fstatSync(outerFd).ino, fstatSync(r).ino);
  assert.equal(fstatSync(innerFd).ino, fstatSync(w).ino);
  // The outer peer's fd is the read end, the inner one's the write end.
  os.write(innerFd, 'z');
  assert.equal(os.read(outerFd, 1).toString(), 'z');
  os.close(outerFd);
  os.close(innerFd);
});

test('sendmsg, send, sendall, os.write: an already detached buffer is ValueError, as a released memoryview in CPython', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const detached = new Uint8Array(8);
  structuredClone(detached, { transfer: [detached.buffer] });
  const released = (err: unknown): boolean => err instanceof ValueError && /detached/.test(err.message);
  assert.throws(() => a.sendmsg([detached]), released);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, detached]]), released);
  assert.throws(() => a.send(detached), released);
  assert.throws(() => a.sendall(detached), released);
  assert.throws(() => a.trySend(detached), released);
  assert.throws(() => b.recvInto(detached), released);
  assert.throws(() => a.setsockopt(SOL_SOCKET, SO_LINGER, detached), released);
  const [r, w] = os.pipe();
  t.after(() => (os.close(r), os.close(w)));
  assert.throws(() => os.write(w, detached), released);
  assertNothingArrived(b);
});

/** A Uint8Array of `real` bytes that claims, through its own members, to be much longer. */
function lyingView(real: number, claimed: number): Uint8Array {
  const view = new Uint8Array(real).fill(0x61);
  for (const name of ['length', 'byteLength']) Object.defineProperty(view, name, { get: () => claimed });
  Object.defineProperty(view, 'subarray', { value: () => new Uint8Array(claimed) });
  return view;
}

class LyingBuffer extends Uint8Array {
  override get length(): number {
    return 1 << 20;
  }
  override get byteLength(): number {
    return 1 << 20;
  }
}

test('the kernel reads and writes only a caller buffer\'s real bytes, whatever its own members say', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_STREAM);
  // Receiving into an 8-byte buffer that claims 1 MiB must not write past it (it corrupted the heap).
  a.sendall(Buffer.alloc(64 * 1024, 0x43));
  for (const into of [lyingView(8, 1 << 20), new LyingBuffer(8)]) {
    assert.equal(b.recvInto(into), 8);
    assert.equal(b.tryRecvInto(into as Buffer), 8);
    assert.equal(b.recvfromInto(into)[0], 8);
    assert.equal(b.recvmsgInto([into])[0], 8);
  }
  b.recv(64 * 1024);
  // Sending from an 8-byte buffer that claims 1 MiB must send 8 bytes, not the heap behind it.
  for (const from of [lyingView(8, 1 << 20), new LyingBuffer(8).fill(0x61)]) {
    assert.equal(a.send(from), 8);
    assert.equal(a.trySend(from as Buffer), 8);
    a.sendall(from);
    assert.equal(a.sendmsg([from]), 8);
    assert.equal(b.recv(100).toString(), 'a'.repeat(32));
  }
  const [r, w] = os.pipe();
  t.after(() => (os.close(r), os.close(w)));
  assert.equal(os.write(w, lyingView(8, 1 << 20)), 8);
  assert.equal(os.read(r, 100).toString(), 'a'.repeat(8));
});

test('a Proxy of a Uint8Array is not bytes-like (its traps would run during the copy)', (t) => {
  const [a] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const proxy = new Proxy(new Uint8Array(4), {});
  assert.throws(() => a.send(proxy), TypeError);
  assert.throws(() => a.sendmsg([proxy]), TypeError);
  assert.throws(() => a.recvInto(proxy), TypeError);
});

test('recvmsgInto never calls a caller buffer\'s own methods (a nested recvmsg there would reuse the block)', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  let called = 0;
  class Nosy extends Uint8Array {}
  for (const name of ['set', 'subarray', 'fill', 'copyWithin']) {
    Object.defineProperty(Nosy.prototype, name, { value: () => (called++, new Uint8Array(0)) });
  }
  a.sendmsg([Buffer.from('hello')]);
  const into = new Nosy(5);
  assert.equal(b.recvmsgInto([into])[0], 5);
  assert.equal(Buffer.from(into).toString(), 'hello');
  assert.equal(called, 0);
});

test('recvmsg argument classes as CPython: a boolean is an int, 2**63 is OverflowError', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  a.send(Buffer.from('hi'));
  assert.equal(b.recvmsg(true as unknown as number)[0].toString(), 'h');
  a.send(Buffer.from('hi'));
  assert.equal(b.recvmsg(10, true as unknown as number)[0].toString(), 'hi');
  const tooLarge = (err: unknown): boolean => err instanceof OverflowError && /Python int too large to convert to C ssize_t/.test(err.message);
  assert.throws(() => b.recvmsg(2 ** 63), tooLarge);
  assert.throws(() => b.recvmsg(10, 2 ** 63), tooLarge);
  assert.throws(() => b.recvmsg(-1), (e: unknown) => e instanceof ValueError && e.message === 'negative buffer size in recvmsg()');
  assert.throws(() => b.recvmsg(10, 2 ** 31), (e: unknown) => e instanceof ValueError && e.message === 'invalid ancillary data buffer length');
  assert.throws(() => b.recvmsg(1.5), TypeError);
});

test('recvmsg: a huge ancbufsize costs nothing when no control data arrives; INT_MAX works as in CPython', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  for (const anc of [256 * 1024 * 1024, 2 ** 31 - 4096, 2 ** 31 - 1]) {
    a.send(Buffer.from('hi'));
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    const [data, items, flags, address] = b.recvmsg(10, anc);
    const ms = performance.now() - t0;
    assert.equal(data.toString(), 'hi');
    assert.deepEqual([items, flags, address], [[], 0, null]);
    // Before: 170-760 ms and the whole size in RSS (CPython: 0.02 ms, RSS flat). Loose bounds.
    assert.ok(ms < 100, `recvmsg(10, ${anc}) took ${ms.toFixed(1)} ms`);
    assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, `recvmsg(10, ${anc}) grew RSS`);
  }
});

test('sendall of nothing on a datagram socket sends one empty datagram, as CPython', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  a.sendall(Buffer.alloc(0));
  assert.equal(b.recv(10, MSG_DONTWAIT).length, 0);
  assertNothingArrived(b);
});

test('kqueue.control: a Proxy of a kevent in the changelist is a TypeError (its traps would run while encoding)', (t) => {
  requireKqueue();
  const kq = kqueue();
  const [r, w] = os.pipe();
  t.after(() => (kq.close(), os.close(r), os.close(w)));
  let trapped = 0;
  const real = kevent(r, KQ_FILTER_READ, KQ_EV_ADD);
  const proxy = new Proxy(real, { get: (target, key) => (trapped++, Reflect.get(target, key)) });
  assert.throws(() => kq.control([real, proxy], 0, 0), TypeError);
  assert.equal(trapped, 0);
  // A real Kevent (subclasses included) still works.
  class Mine extends Kevent {}
  kq.control([new Mine(r, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0);
  kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_DELETE)], 0, 0);
});

test('sendto: an AF_UNIX address whose own length getter re-enters sendto never redirects the outer datagram', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iomux-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const make = (name: string): [Socket, Buffer] => {
    const sock = new SocketClass(AF_UNIX, SOCK_DGRAM);
    t.after(() => sock.close());
    const path = Buffer.from(join(dir, name));
    sock.bind(path);
    return [sock, path];
  };
  const [r1, p1] = make('one');
  const [r2, p2] = make('two');
  const [s] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const sender = new SocketClass(AF_UNIX, SOCK_DGRAM);
  t.after(() => sender.close());
  let calls = 0;
  class LyingPath extends Uint8Array {
    override get length(): number {
      calls++;
      sender.sendto(Buffer.from('inner'), p2); // a nested sendto writes the shared sockaddr
      return p1.length;
    }
  }
  const path = new LyingPath(p1.length);
  path.set(p1);
  s.sendto(Buffer.from('outer'), path);
  assert.equal(r1.recv(100, MSG_DONTWAIT).toString(), 'outer');
  assertNothingArrived(r2);
  assert.equal(calls, 0);
});
