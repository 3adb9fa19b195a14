/**
 * sendmsg/recvmsg/recvmsgInto, CMSG_LEN/CMSG_SPACE and fd passing over real unix sockets, after the ideas of
 * CPython's Lib/test/test_socket.py (CmsgMacroTests, SendmsgTests, RecvmsgTests, RecvmsgIntoTests,
 * SCMRightsTest, SendRecvFdsTests), written anew. Every received fd is checked to be a working duplicate
 * and closed; the file as a whole must leave no fd open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import {
  AF_UNIX, CMSG_LEN, CMSG_SPACE, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, SCM_RIGHTS,
  SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_SNDBUF, Socket, recvFds, sendFds,
} from 'iomux/socket';
import { BlockingIOError, MemoryError, OSError, OverflowError, TimeoutError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks, openFdNumbers } from './support/fds.js';
import { socketPair } from './support/sockets.js';

expectNoFdLeaks();

/** SCM_RIGHTS data for `fds`: C ints in host order. */
function ints(...fds: number[]): Buffer {
  return Buffer.from(new Int32Array(fds).buffer);
}

function fdsIn(data: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 4 <= data.length; at += 4) out.push(data.readInt32LE(at));
  return out;
}

/** Asserts `received` is a working duplicate of the write end `w` whose read end is `r`, then closes it. */
function checkPipeDup(received: number, r: number, tag: string): void {
  assert.ok(!openFdNumbers().has(received) || received !== r);
  os.write(received, tag);
  assert.equal(os.read(r, 100).toString(), tag);
  os.close(received);
}

test('CMSG_LEN and CMSG_SPACE: CPython values and ranges', () => {
  const hdr = CMSG_LEN(0);
  assert.equal(hdr, 16); // sizeof(struct cmsghdr) on 64-bit Linux
  assert.equal(CMSG_SPACE(0), 16);
  for (let n = 0; n < 100; n++) {
    assert.equal(CMSG_LEN(n) - hdr, n);
    assert.ok(CMSG_SPACE(n) >= CMSG_LEN(n));
    assert.equal(CMSG_SPACE(n) % 8, 0);
    assert.ok(CMSG_SPACE(n + 1) >= CMSG_SPACE(n));
  }
  assert.equal(CMSG_SPACE(4), 24);
  assert.equal(CMSG_SPACE(1), 24);
  // The largest arguments whose result fits a socklen_t (INT_MAX), as CPython's checks.
  const limit = 0x7fffffff;
  assert.equal(CMSG_LEN(limit - hdr), limit);
  assert.throws(() => CMSG_LEN(limit - hdr + 1), (e: unknown) => e instanceof OverflowError && e.message === 'CMSG_LEN() argument out of range');
  // CMSG_SPACE leaves room for CMSG_SPACE(1) (24), padding before and after the data, as CPython's check.
  assert.equal(CMSG_SPACE(limit - 24), 2147483640);
  assert.throws(() => CMSG_SPACE(limit - 23), (e: unknown) => e instanceof OverflowError && e.message === 'CMSG_SPACE() argument out of range');
  assert.throws(() => CMSG_LEN(-1), (e: unknown) => e instanceof OverflowError && e.message === 'CMSG_LEN() argument out of range');
  assert.throws(() => CMSG_SPACE(-1), (e: unknown) => e instanceof OverflowError && e.message === 'CMSG_SPACE() argument out of range');
  assert.throws(() => CMSG_LEN(1.5), TypeError);
  assert.throws(() => CMSG_SPACE('4' as unknown as number), TypeError);
});

test('sendmsg gathers buffers of every bytes-like kind; recvmsg returns data, no ancdata, flags 0 and no address', (t) => {
  const [a, b] = socketPair(t);
  const parts = [Buffer.from('one '), new Uint8Array([116, 119, 111, 32]), new Uint16Array([0x6874, 0x6572]), 'e!'];
  assert.equal(a.sendmsg(parts), 14);
  assert.equal(a.sendmsg([]), 0);
  assert.equal(a.sendmsg((function* () { yield Buffer.from(' gen'); })()), 4);
  const [data, ancdata, flags, address] = b.recvmsg(100);
  assert.equal(data.toString(), 'one two three! gen');
  assert.deepEqual(ancdata, []);
  assert.equal(flags, 0);
  assert.equal(address, null);
});

test('recvmsg with explicit defaults, a shorter bufsize, MSG_PEEK; recvmsg after the peer closed', (t) => {
  const [a, b] = socketPair(t);
  a.sendmsg([Buffer.from('abcdef')]);
  assert.equal(b.recvmsg(3, 0, MSG_PEEK)[0].toString(), 'abc');
  assert.equal(b.recvmsg(4, 0, 0)[0].toString(), 'abcd');
  assert.equal(b.recvmsg(100)[0].toString(), 'ef');
  a.close();
  const [data, anc, flags] = b.recvmsg(100, CMSG_SPACE(4));
  assert.equal(data.length, 0);
  assert.deepEqual(anc, []);
  assert.equal(flags, 0);
});

test('datagrams: recvmsg of a longer datagram sets MSG_TRUNC; recvmsgInto scatters one datagram', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  a.sendmsg([Buffer.from('0123456789')]);
  const [data, , flags] = b.recvmsg(4);
  assert.equal(data.toString(), '0123');
  assert.equal(flags & MSG_TRUNC, MSG_TRUNC);
  a.sendmsg([Buffer.from('abc'), Buffer.from('defgh')]);
  const x = Buffer.alloc(2);
  const y = new Uint8Array(3);
  const z = Buffer.alloc(10, 0x2e);
  const [n, anc, f2, addr] = b.recvmsgInto([x, y, z]);
  assert.equal(n, 8);
  assert.deepEqual(anc, []);
  assert.equal(f2, 0);
  assert.equal(addr, null);
  assert.equal(x.toString(), 'ab');
  assert.equal(Buffer.from(y).toString(), 'cde');
  assert.equal(z.toString(), 'fgh.......');
});

test('sendmsg and recvmsgInto argument errors, as CPython', (t) => {
  const [a, b] = socketPair(t);
  b.setblocking(false);
  assert.throws(() => a.sendmsg(5 as never), TypeError);
  assert.throws(() => a.sendmsg('abc' as never), TypeError);
  assert.throws(() => a.sendmsg([1] as never), (e: unknown) => e instanceof TypeError && /bytes-like object is required/.test(e.message));
  assert.throws(() => a.sendmsg([Buffer.from('a')], [[1, 2]] as never), (e: unknown) =>
    e instanceof TypeError && e.message === '[sendmsg() ancillary data items]() argument must be sequence of length 3, not length 2');
  assert.throws(() => a.sendmsg([Buffer.from('a')], [[1, 2, Buffer.alloc(0), 4]] as never), TypeError);
  assert.throws(() => a.sendmsg([Buffer.from('a')], [[1, 2, 3]] as never), /bytes-like object is required/);
  assert.throws(() => a.sendmsg([Buffer.from('a')], [[2 ** 31, 1, Buffer.alloc(0)]]), OverflowError);
  assert.throws(() => a.sendmsg([Buffer.from('a')], 5 as never), TypeError);
  // A connected stream socket refuses an address: the kernel's EISCONN, as in CPython.
  assert.throws(() => a.sendmsg([Buffer.from('a')], [], 0, 'x'), (e: unknown) => e instanceof OSError && e.code === 'EISCONN');
  // Nothing was sent by the failed calls.
  assert.throws(() => b.recv(1), BlockingIOError);
  assert.throws(() => b.recvmsg(-1), (e: unknown) => e instanceof ValueError && e.message === 'negative buffer size in recvmsg()');
  assert.throws(() => b.recvmsg(1, -1), (e: unknown) => e instanceof ValueError && e.message === 'invalid ancillary data buffer length');
  assert.throws(() => b.recvmsg(1, 2 ** 31), (e: unknown) => e instanceof ValueError && e.message === 'invalid ancillary data buffer length');
  assert.throws(() => b.recvmsgInto([Buffer.alloc(1)], -1), ValueError);
  assert.throws(() => b.recvmsgInto(['x'] as never), TypeError);
  assert.throws(() => b.recvmsgInto([Buffer.alloc(1)]), BlockingIOError);
  assert.throws(() => b.recvmsg(1, 0, MSG_DONTWAIT), BlockingIOError);
});

test('a bufsize beyond what can be allocated raises MemoryError; the socket keeps working', (t) => {
  const [a, b] = socketPair(t);
  for (const n of [2 ** 40, 2 ** 50]) assert.throws(() => b.recvmsg(n), MemoryError);
  // 2 GiB can be allocated (not touched: malloc), as in CPython, which then reports the empty socket.
  b.setblocking(false);
  assert.throws(() => b.recvmsg(2 ** 31), BlockingIOError);
  b.setblocking(true);
  a.sendmsg([Buffer.from('fine')]);
  assert.equal(b.recvmsg(10)[0].toString(), 'fine');
});

test('a closed socket: sendmsg and recvmsg raise EBADF', () => {
  const s = new Socket(AF_UNIX, SOCK_STREAM);
  s.close();
  assert.throws(() => s.sendmsg([Buffer.from('x')]), (e: unknown) => e instanceof OSError && e.errno === 9);
  assert.throws(() => s.recvmsg(1), (e: unknown) => e instanceof OSError && e.errno === 9);
  assert.throws(() => s.recvmsgInto([Buffer.alloc(1)]), (e: unknown) => e instanceof OSError && e.errno === 9);
});

test('timeout mode: recvmsg raises TimeoutError when nothing comes', (t) => {
  const [, b] = socketPair(t);
  b.settimeout(0.05);
  assert.throws(() => b.recvmsg(10, CMSG_SPACE(4)), TimeoutError);
});

test('SCM_RIGHTS: one fd, then several; each received fd is a working duplicate', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const pipes = [fds.pipe(), fds.pipe(), fds.pipe()];
  a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, ints(pipes[0]![1])]]);
  const [data, anc, flags] = b.recvmsg(10, CMSG_SPACE(4));
  assert.equal(data.toString(), 'x');
  assert.equal(flags, 0);
  assert.equal(anc.length, 1);
  const [level, type, item] = anc[0]!;
  assert.equal(level, SOL_SOCKET);
  assert.equal(type, SCM_RIGHTS);
  assert.equal(item.length, 4);
  checkPipeDup(fdsIn(item)[0]!, pipes[0]![0], 'one');

  a.sendmsg([Buffer.from('y')], [[SOL_SOCKET, SCM_RIGHTS, ints(...pipes.map((p) => p[1]))]]);
  const [, anc2, flags2] = b.recvmsg(10, CMSG_SPACE(12));
  assert.equal(flags2, 0);
  const got = fdsIn(anc2[0]![2]);
  assert.equal(got.length, 3);
  got.forEach((fd, i) => checkPipeDup(fd, pipes[i]![0], `fd${i}`));
});

test('SCM_RIGHTS: two items in one message arrive (Linux merges them); CMSG_LEN-sized buffer is enough', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const [r1, w1] = fds.pipe();
  const [r2, w2] = fds.pipe();
  a.sendmsg([Buffer.from('z')], [[SOL_SOCKET, SCM_RIGHTS, ints(w1)], [SOL_SOCKET, SCM_RIGHTS, ints(w2)]]);
  const [, anc, flags] = b.recvmsg(10, CMSG_LEN(8));
  assert.equal(flags & MSG_CTRUNC, 0);
  const got = anc.flatMap(([, , d]) => fdsIn(d));
  assert.equal(got.length, 2);
  checkPipeDup(got[0]!, r1, 'first');
  checkPipeDup(got[1]!, r2, 'second');
});

test('SCM_RIGHTS with no fds is accepted and arrives as no fds', (t) => {
  const [a, b] = socketPair(t);
  a.sendmsg([Buffer.from('e')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.alloc(0)]]);
  const [data, anc] = b.recvmsg(10, CMSG_SPACE(4));
  assert.equal(data.toString(), 'e');
  assert.deepEqual(anc.flatMap(([, , d]) => fdsIn(d)), []);
});

test('sending a closed fd number fails with EBADF and sends nothing', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const [r, w] = fds.pipe();
  fds.close(r);
  fds.close(w);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, ints(w)]]), (e: unknown) => e instanceof OSError && e.errno === 9);
  b.setblocking(false);
  assert.throws(() => b.recvmsg(1), BlockingIOError);
});

test('truncated control data: MSG_CTRUNC, the fds that fit are returned and work, the rest never arrive', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const pipes = [fds.pipe(), fds.pipe(), fds.pipe()];
  const before = openFdNumbers().size;
  for (const [ancbufsize, expected] of [[0, 0], [CMSG_LEN(0), 0], [CMSG_LEN(4), 1], [CMSG_LEN(4) + 3, 1], [CMSG_LEN(8), 2], [CMSG_LEN(12) - 1, 2]] as const) {
    a.sendmsg([Buffer.from('m')], [[SOL_SOCKET, SCM_RIGHTS, ints(...pipes.map((p) => p[1]))]]);
    const [data, anc, flags] = b.recvmsg(10, ancbufsize);
    assert.equal(data.toString(), 'm');
    assert.equal(flags & MSG_CTRUNC, MSG_CTRUNC, `ancbufsize ${ancbufsize}`);
    const got = anc.flatMap(([level, type, d]) => (level === SOL_SOCKET && type === SCM_RIGHTS ? fdsIn(d) : []));
    assert.equal(got.length, expected, `ancbufsize ${ancbufsize}`);
    got.forEach((fd, i) => checkPipeDup(fd, pipes[i]![0], `t${i}`));
    assert.equal(openFdNumbers().size, before, `nothing left behind with ancbufsize ${ancbufsize}`);
  }
});

test('recvmsg with MSG_CMSG_CLOEXEC gives close-on-exec fds; without it, inheritable ones (as CPython)', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const [r, w] = fds.pipe();
  a.sendmsg([Buffer.from('1')], [[SOL_SOCKET, SCM_RIGHTS, ints(w)]]);
  const [, anc1] = b.recvmsg(1, CMSG_SPACE(4), MSG_CMSG_CLOEXEC);
  const fd1 = fdsIn(anc1[0]![2])[0]!;
  assert.equal(os.getInheritable(fd1), false);
  checkPipeDup(fd1, r, 'cloexec');
  a.sendmsg([Buffer.from('2')], [[SOL_SOCKET, SCM_RIGHTS, ints(w)]]);
  const [, anc2] = b.recvmsg(1, CMSG_SPACE(4));
  const fd2 = fdsIn(anc2[0]![2])[0]!;
  assert.equal(os.getInheritable(fd2), true);
  checkPipeDup(fd2, r, 'inherit');
});

test('recvmsgInto with fds: data scattered, fds returned', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_SEQPACKET);
  const [r, w] = fds.pipe();
  a.sendmsg([Buffer.from('hello'), Buffer.from('world')], [[SOL_SOCKET, SCM_RIGHTS, ints(w)]]);
  const x = Buffer.alloc(4);
  const y = Buffer.alloc(20);
  const [n, anc, flags] = b.recvmsgInto([x, y], CMSG_SPACE(4));
  assert.equal(n, 10);
  assert.equal(flags, 0);
  assert.equal(x.toString() + y.subarray(0, 6).toString(), 'helloworld');
  checkPipeDup(fdsIn(anc[0]![2])[0]!, r, 'into');
});

test('sendFds/recvFds (CPython send_fds/recv_fds): fds arrive close-on-exec; flags are honoured', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const [r1, w1] = fds.pipe();
  const [r2, w2] = fds.pipe();
  assert.equal(sendFds(a, [Buffer.from('fds')], [w1, w2]), 3);
  // MSG_PEEK is honoured (CPython's recv_fds ignores flags): the fds of a peek are real fds too.
  const [peeked, peekFds, peekFlags] = recvFds(b, 10, 2, MSG_PEEK);
  assert.equal(peeked.toString(), 'fds');
  assert.equal(peekFlags, 0);
  for (const fd of peekFds) os.close(fd);
  const [data, got, flags, address] = recvFds(b, 10, 2);
  assert.equal(data.toString(), 'fds');
  assert.equal(flags, 0);
  assert.equal(address, null);
  assert.equal(got.length, 2);
  for (const fd of got) assert.equal(os.getInheritable(fd), false);
  checkPipeDup(got[0]!, r1, 'a');
  checkPipeDup(got[1]!, r2, 'b');
  // More fds than maxfds: the kernel closes the rest and says MSG_CTRUNC.
  sendFds(a, [Buffer.from('!')], [w1, w2]);
  const [, one, truncFlags] = recvFds(b, 10, 1);
  assert.equal(one.length, 1);
  assert.equal(truncFlags & MSG_CTRUNC, MSG_CTRUNC);
  checkPipeDup(one[0]!, r1, 'c');
  assert.throws(() => recvFds(b, 10, -1), ValueError);
});

test('sendFds to an address on an unconnected datagram socket (CPython ignores the address)', (t) => {
  const fds = new Fds(t);
  const name = `\0iomux-test-${process.pid}-sendfds-${Math.random().toString(36).slice(2)}`;
  const receiver = fds.own(new Socket(AF_UNIX, SOCK_DGRAM));
  receiver.bind(name);
  const sender = fds.own(new Socket(AF_UNIX, SOCK_DGRAM));
  const [r, w] = fds.pipe();
  assert.equal(sendFds(sender, [Buffer.from('to you')], [w], 0, name), 6);
  const [data, got] = recvFds(receiver, 100, 1);
  assert.equal(data.toString(), 'to you');
  checkPipeDup(got[0]!, r, 'dgram');
});

test('non-blocking, full socket: sendmsg with fds raises BlockingIOError, the fds are neither sent nor lost', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  const [r, w] = fds.pipe();
  const chunk = Buffer.alloc(4096, 0x61);
  let queued = 0;
  for (;;) {
    try {
      queued += a.send(chunk);
    } catch (err) {
      assert.ok(err instanceof BlockingIOError);
      break;
    }
  }
  const openBefore = openFdNumbers();
  assert.throws(() => a.sendmsg([Buffer.from('X')], [[SOL_SOCKET, SCM_RIGHTS, ints(w)]]), BlockingIOError);
  assert.throws(() => sendFds(a, [Buffer.from('X')], [w]), BlockingIOError);
  assert.deepEqual(openFdNumbers(), openBefore, 'no fd opened or closed');
  assert.ok(fstatSync(w).isFIFO(), 'the caller\'s fd is still open');
  // Drain everything: only the plain bytes were queued, no fd and no 'X'.
  let drained = 0;
  for (;;) {
    let got;
    try {
      got = b.recvmsg(65536, CMSG_SPACE(4));
    } catch (err) {
      assert.ok(err instanceof BlockingIOError);
      break;
    }
    assert.deepEqual(got[1], []);
    assert.ok(!got[0].includes('X'));
    drained += got[0].length;
  }
  assert.equal(drained, queued);
  os.write(w, 'still mine');
  assert.equal(os.read(r, 20).toString(), 'still mine');
});

test('large messages grow the native block and give it back; data survives intact', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_SEQPACKET);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4 * 1024 * 1024);
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  assert.equal(a.sendmsg([big.subarray(0, 1000), big.subarray(1000)]), big.length);
  const [data, , flags] = b.recvmsg(big.length + 10);
  assert.equal(flags, 0);
  assert.ok(data.equals(big));
  a.sendmsg([Buffer.from('small again')]);
  assert.equal(b.recvmsg(100)[0].toString(), 'small again');
});

test('many rounds of fd passing leave no fd behind', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const [r, w] = fds.pipe();
  const before = openFdNumbers().size;
  for (let i = 0; i < 500; i++) {
    sendFds(a, [Buffer.from('r')], [r, w]);
    const [, got] = recvFds(b, 1, 2);
    assert.equal(got.length, 2);
    for (const fd of got) os.close(fd);
  }
  assert.equal(openFdNumbers().size, before);
});
