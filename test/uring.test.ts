/**
 * iomux/uring over real pipes, socket pairs and TCP connections: every operation's completion, provided
 * buffers and who owns them, copies of sent data, wait()'s timeout rules, cancel, close with operations in
 * flight, and the argument errors. (Crash-safety in child processes: uring-safety.test.ts; the fuzz:
 * uring-fuzz.test.ts.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { BlockingIOError, MemoryError, OverflowError, PermissionError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { AF_UNIX, SOCK_DGRAM, createConnection, createServer, socketpair } from 'iomux/socket';
import { POLLIN } from 'iomux/select';
import { hasUring, IoUring, uringUnavailableReason } from 'iomux/uring';
import { keptMemories } from '#internal/uring/memory.js';
import { unavailableReason } from '#internal/uring/availability.js';
import { ERRNO } from '#internal/sys/index.js';
import { expectNoFdLeaks, fdCount, Fds } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { secondsSince } from './support/timing.js';

expectNoFdLeaks();

const { ECANCELED, ETIME, ENOBUFS, EBADF } = ERRNO as Record<string, number>;

interface Completion {
  userData: number;
  result: number;
  flags: number;
  more: boolean;
  bufferId: number;
}

/** Waits until `min` completions were gathered (each wait bounded by 5 s) and returns them. */
function collect(ring: IoUring, min: number): Completion[] {
  const out: Completion[] = [];
  while (out.length < min) {
    const n = ring.wait(1, 5);
    assert.ok(n > 0, `no completion within 5 s (had ${out.length} of ${min})`);
    for (let i = 0; i < n; i++) {
      out.push({ userData: ring.userData(i), result: ring.result(i), flags: ring.flags(i), more: ring.hasMore(i), bufferId: ring.bufferId(i) });
    }
  }
  return out;
}

function newRing(t: { after(fn: () => void): void }, entries = 16, options?: ConstructorParameters<typeof IoUring>[1]): IoUring {
  const ring = new IoUring(entries, options);
  t.after(() => ring.close());
  return ring;
}

describe('availability', () => {
  test('this kernel (6.18, io_uring enabled) has it', () => {
    assert.equal(hasUring(), true);
    assert.equal(uringUnavailableReason(), null);
  });

  test('each refusal gets its own reason', () => {
    assert.match(unavailableReason(ERRNO.ENOSYS!, null), /kernel has no io_uring/);
    assert.match(unavailableReason(ERRNO.EPERM!, 2), /kernel\.io_uring_disabled = 2/);
    assert.match(unavailableReason(ERRNO.EPERM!, 1), /kernel\.io_uring_disabled = 1 .*io_uring_group/);
    assert.match(unavailableReason(ERRNO.EPERM!, 0), /seccomp filter or a container policy/);
    assert.match(unavailableReason(ERRNO.EPERM!, null), /seccomp/);
    assert.match(unavailableReason(ERRNO.EINVAL!, 0), /Linux 6\.0 or later/);
    assert.match(unavailableReason(ERRNO.ENOMEM!, 0), /io_uring_setup failed: \[Errno 12\]/);
  });
});

describe('IoUring', () => {
  test('a no-op completes with its userData, any safe integer', (t) => {
    const ring = newRing(t);
    ring.nop(Number.MAX_SAFE_INTEGER);
    ring.nop(-Number.MAX_SAFE_INTEGER);
    ring.nop(0);
    const got = collect(ring, 3);
    assert.deepEqual(got.map((c) => c.userData).sort((a, b) => a - b), [-Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER]);
    assert.ok(got.every((c) => c.result === 0 && !c.more && c.bufferId === -1));
    assert.equal(ring.inFlight, 0);
  });

  test('write and read a pipe: the data lands in a ring-owned provided buffer', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const ring = newRing(t);
    ring.provideBuffers(1, 4, 64);
    ring.read(r, 10, { bufferGroup: 1 });
    ring.write(w, 'hello, ring', 11);
    const got = collect(ring, 2).sort((a, b) => a.userData - b.userData);
    assert.equal(got[0]!.result, 11);
    assert.ok(got[0]!.bufferId >= 0 && got[0]!.bufferId < 4);
    assert.equal(got[1]!.result, 11);
    assert.equal(ring.buffer(1, got[0]!.bufferId, got[0]!.result).toString(), 'hello, ring');
    ring.recycle(1, got[0]!.bufferId);
    assert.throws(() => ring.recycle(1, got[0]!.bufferId), ValueError, 'recycled twice');
    assert.throws(() => ring.buffer(1, got[0]!.bufferId, 1), /the kernel owns it/);
  });

  test('a buffer the kernel owns can be neither read nor recycled; ids and lengths are checked', (t) => {
    const ring = newRing(t);
    ring.provideBuffers(0, 2, 16);
    assert.throws(() => ring.buffer(0, 0, 4), /the kernel owns it/);
    assert.throws(() => ring.recycle(0, 1), /the kernel owns it/);
    assert.throws(() => ring.buffer(0, 2, 4), /out of range/);
    assert.throws(() => ring.buffer(0, -1, 4), /out of range/);
    assert.throws(() => ring.buffer(7, 0, 4), /buffer group 7 is not provided/);
    assert.throws(() => ring.provideBuffers(0, 2, 16), /already provided/);
    assert.throws(() => ring.provideBuffers(1, 3, 16), /power of two/);
    assert.throws(() => ring.provideBuffers(1, 2, 0), /size must be/);
    assert.throws(() => ring.provideBuffers(65536, 2, 16), /group must be/);
    const kept = keptMemories();
    assert.throws(() => ring.provideBuffers(1, 32768, 1 << 20), (e: unknown) => e instanceof MemoryError && /more than one ring memory holds/.test(e.message));
    assert.equal(keptMemories(), kept, 'nothing kept from the failed group');
    assert.throws(() => ring.buffer(1, 0, 1), /buffer group 1 is not provided/);
  });

  test('send copies the data: the caller may change its buffer before the kernel sends', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t);
    const data = Buffer.from('original');
    ring.send(a, data, 1);
    data.write('CHANGED!');
    assert.deepEqual(collect(ring, 1).map((c) => c.result), [8]);
    assert.equal(b.recv(100).toString(), 'original');
  });

  test('sendBuffer sends straight from a received buffer, which cannot be recycled until that send completed', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t);
    ring.provideBuffers(0, 2, 64);
    b.send(Buffer.from('echo me'));
    ring.recv(a, 1, { bufferGroup: 0 });
    const [c] = collect(ring, 1);
    const id = c!.bufferId;
    ring.sendBuffer(a, 0, id, 5, 2, 2);
    assert.throws(() => ring.recycle(0, id), /a send from it is in flight/);
    assert.throws(() => ring.sendBuffer(a, 0, id, 60, 5, 3), /out of range/);
    assert.throws(() => ring.sendBuffer(a, 0, id === 0 ? 1 : 0, 0, 1, 3), /the kernel owns it/);
    assert.deepEqual(collect(ring, 1).map((x) => [x.userData, x.result]), [[2, 2]]);
    assert.equal(b.recv(10).toString(), 'me');
    ring.recycle(0, id);
    assert.equal(ring.inFlight, 0);
  });

  test('a send longer than sendBufferSize is a short send of its first sendBufferSize bytes', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t, 4, { sendBufferSize: 100 });
    ring.send(a, Buffer.alloc(1000, 7), 1);
    assert.equal(collect(ring, 1)[0]!.result, 100);
    assert.equal(b.recv(1000).length, 100);
  });

  test('multishot recv: one completion per message while armed, then 0 at EOF without more', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t);
    ring.provideBuffers(2, 8, 256);
    ring.recv(a, 5, { bufferGroup: 2, multishot: true });
    ring.submit();
    const texts: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      b.send(Buffer.from(text));
      const [c] = collect(ring, 1);
      assert.equal(c!.userData, 5);
      assert.equal(c!.more, true);
      texts.push(ring.buffer(2, c!.bufferId, c!.result).toString());
      ring.recycle(2, c!.bufferId);
    }
    assert.deepEqual(texts, ['one', 'two', 'three']);
    b.close();
    const [end] = collect(ring, 1);
    assert.equal(end!.result, 0);
    assert.equal(end!.more, false);
    assert.equal(ring.inFlight, 0);
  });

  test('a multishot recv whose group ran dry ends with -ENOBUFS', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t);
    ring.provideBuffers(3, 1, 64);
    ring.recv(a, 1, { bufferGroup: 3, multishot: true });
    ring.submit();
    b.send(Buffer.from('x'));
    const [first] = collect(ring, 1);
    assert.equal(first!.result, 1);
    b.send(Buffer.from('y'));
    const [second] = collect(ring, 1);
    assert.equal(second!.result, -ENOBUFS!);
    assert.equal(second!.more, false);
    ring.recycle(3, first!.bufferId);
  });

  test('a multishot recv fed more than its group holds: -ENOBUFS without more, then recycle and re-arm lose no byte', (t) => {
    const [a, b] = socketPair(t);
    const ring = newRing(t);
    const COUNT = 2;
    const SIZE = 64;
    ring.provideBuffers(5, COUNT, SIZE);
    // 1000 distinct bytes (not a multiple of the group's room), all waiting in the socket before the first recv.
    const sent = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    assert.equal(b.send(sent), sent.length);
    const received: Buffer[] = [];
    let total = 0;
    let rounds = 0;
    while (total < sent.length) {
      rounds++;
      ring.recv(a, 9, { bufferGroup: 5, multishot: true });
      const held: number[] = [];
      let last: Completion | undefined;
      while (total < sent.length && (last === undefined || last.more)) {
        for (const c of collect(ring, 1)) {
          assert.ok(last === undefined || last.more, 'nothing after the operation\'s last completion');
          assert.equal(c.userData, 9);
          if (c.result > 0) {
            received.push(Buffer.from(ring.buffer(5, c.bufferId, c.result))); // a copy: recycled below
            held.push(c.bufferId);
            total += c.result;
          }
          last = c;
        }
      }
      if (total < sent.length) {
        // The group ran dry with data still waiting: each buffer filled, then the recv ended.
        assert.equal(held.length, COUNT, `round ${rounds}: ${held.length} buffers before the group ran dry`);
        assert.equal(last!.result, -ENOBUFS!, `round ${rounds} ends with -ENOBUFS`);
        assert.equal(last!.more, false, 'the -ENOBUFS completion is the operation\'s last');
        assert.equal(ring.inFlight, 0);
      }
      for (const id of held) ring.recycle(5, id);
    }
    assert.equal(rounds, Math.ceil(sent.length / (COUNT * SIZE)));
    assert.deepEqual(Buffer.concat(received), sent, 'every byte, in order');
    // The last round's recv is still armed: EOF ends it.
    b.close();
    const [end] = collect(ring, 1);
    assert.deepEqual([end!.result, end!.more], [0, false]);
    assert.equal(ring.inFlight, 0);
  });

  test('multishot accept: one new fd per connection', (t) => {
    const server = createServer(['127.0.0.1', 0]);
    t.after(() => server.close());
    const ring = newRing(t);
    ring.accept(server, 9, { multishot: true });
    ring.submit();
    const clients = [createConnection(server.getsockname() as [string, number]), createConnection(server.getsockname() as [string, number])];
    t.after(() => clients.forEach((c) => c.close()));
    const got = collect(ring, 2);
    for (const c of got) {
      assert.equal(c.userData, 9);
      assert.ok(c.result >= 0, `accept failed: ${c.result}`);
      assert.equal(c.more, true);
      os.close(c.result);
    }
  });

  test('multishot pollAdd reports POLLIN each time the pipe becomes readable', (t) => {
    const fds = new Fds(t);
    const [r, w] = fds.pipe();
    const ring = newRing(t);
    ring.pollAdd(r, POLLIN, 4, { multishot: true });
    ring.submit();
    os.write(w, Buffer.from('a'));
    const [c] = collect(ring, 1);
    assert.equal(c!.result & POLLIN, POLLIN);
    assert.equal(c!.more, true);
    ring.cancel(4);
    const [end] = collect(ring, 1);
    assert.equal(end!.userData, 4);
    assert.equal(end!.result, -ECANCELED!);
    assert.equal(end!.more, false);
  });

  test('timeout completes with -ETIME after its milliseconds', (t) => {
    const ring = newRing(t);
    const t0 = performance.now();
    ring.timeout(30, 3);
    const [c] = collect(ring, 1);
    assert.equal(c!.result, -ETIME!);
    assert.ok(performance.now() - t0 >= 29, 'fired early');
    assert.throws(() => ring.timeout(-1, 1), /timeout must be non-negative/);
    assert.throws(() => ring.timeout(NaN, 1), ValueError);
  });

  test('wait(): 0 polls, a timeout bounds the wait, null blocks until a completion', (t) => {
    const ring = newRing(t);
    let t0 = performance.now();
    assert.equal(ring.wait(1, 0), 0);
    assert.ok(performance.now() - t0 < 1000);
    t0 = performance.now();
    assert.equal(ring.wait(1, 0.05), 0);
    assert.ok(secondsSince(t0) >= 0.049, 'woke early');
    ring.timeout(20, 1);
    assert.equal(ring.wait(1, null), 1);
    ring.timeout(20, 1);
    assert.equal(ring.wait(1, -1), 1, 'a negative timeout blocks, as in Epoll.wait');
    assert.throws(() => ring.wait(1, Infinity), OverflowError);
    assert.throws(() => ring.wait(1, 'x' as never), TypeError);
    assert.throws(() => ring.wait(-1), /minComplete must be between/);
  });

  test('an interrupted wait resumes with the time left (PEP 475): signals every 50 ms neither end nor stretch it', async (t) => {
    const { underSignalStorm } = await import('./support/children.js');
    const ring = newRing(t);
    const { result, seconds, signals } = await underSignalStorm(() => ring.wait(1, 1.5));
    assert.equal(result, 0);
    assert.ok(signals > 5, `only ${signals} signals landed`);
    assert.ok(seconds >= 1.49 && seconds < 3, `took ${seconds} s`);
    ring.timeout(1200, 1);
    const second = await underSignalStorm(() => ring.wait(1, null));
    assert.equal(second.result, 1);
    assert.ok(second.seconds >= 1.19 && second.seconds < 3, `took ${second.seconds} s`);
  });

  test('wait(n) gathers at least n completions', (t) => {
    const ring = newRing(t);
    ring.timeout(10, 1);
    ring.timeout(40, 2);
    ring.nop(3);
    assert.equal(ring.wait(3, 5), 3);
  });

  test('one wait(1) gathers every completion the kernel has queued, not a batch of its deferred work', (t) => {
    const fds = new Fds(t);
    const pipes = Array.from({ length: 300 }, () => fds.pipe());
    const ring = newRing(t, 512, { cqEntries: 1024 });
    ring.provideBuffers(0, 512, 16);
    pipes.forEach(([r], i) => ring.read(r, i, { bufferGroup: 0 }));
    ring.submit();
    for (const [, w] of pipes) os.write(w, 'x');
    // All 300 reads have their data; the kernel runs deferred completions 20 per io_uring_enter (Linux 6.10+).
    const started = process.hrtime.bigint();
    assert.equal(ring.wait(1, 5), 300);
    assert.ok(Number(process.hrtime.bigint() - started) < 2e9, 'the draining call does not wait');
    assert.equal(ring.inFlight, 0);
    // With nothing more queued, a full batch does not make wait() block either.
    for (let i = 0; i < 20; i++) ring.nop(1000 + i);
    assert.equal(ring.wait(1, 5), 20);
  });

  test('cancel(userData) cancels every operation with that userData', (t) => {
    const [a] = socketPair(t);
    const fds = new Fds(t);
    const [r] = fds.pipe();
    const ring = newRing(t);
    ring.provideBuffers(0, 4, 64);
    ring.recv(a, 77, { bufferGroup: 0 });
    ring.read(r, 77, { bufferGroup: 0 });
    ring.timeout(60_000, 78);
    ring.submit();
    ring.cancel(77);
    const got = collect(ring, 2);
    assert.deepEqual(got.map((c) => [c.userData, c.result]), [[77, -ECANCELED!], [77, -ECANCELED!]]);
    assert.equal(ring.inFlight, 1);
  });

  test('close(fd, userData) closes an fd; close() with no argument closes the ring', (t) => {
    const [r, w] = os.pipe();
    t.after(() => {
      try {
        os.close(w);
      } catch {
        // closed
      }
    });
    const ring = newRing(t);
    ring.close(r, 6);
    const [c] = collect(ring, 1);
    assert.deepEqual([c!.userData, c!.result], [6, 0]);
    assert.throws(() => fstatSync(r), /EBADF/);
    ring.close(r, 7);
    assert.equal(collect(ring, 1)[0]!.result, -EBADF!);
    assert.throws(() => (ring.close as (fd: number) => void)(w), /userData must be a safe integer/, 'close(fd) without userData is an error, not a ring close');
    assert.equal(ring.closed, false);
  });

  test('sendmsg and recvmsg over a datagram socket pair', (t) => {
    const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
    const ring = newRing(t);
    ring.provideBuffers(4, 4, 128);
    ring.recvmsg(b, 2, { bufferGroup: 4 });
    ring.sendmsg(a, [Buffer.from('scatter '), 'and ', new Uint8Array([103, 97, 116, 104, 101, 114])], 1);
    const got = collect(ring, 2).sort((x, y) => x.userData - y.userData);
    assert.equal(got[0]!.result, 18);
    assert.equal(got[1]!.result, 18);
    assert.equal(ring.buffer(4, got[1]!.bufferId, got[1]!.result).toString(), 'scatter and gather');
  });

  test('close() cancels and reaps everything in flight, closes accepted fds no one saw, and lets its memory go', (t) => {
    const before = keptMemories();
    const server = createServer(['127.0.0.1', 0], { backlog: 64 });
    t.after(() => server.close());
    const [a] = socketPair(t);
    const ring = new IoUring(8);
    ring.provideBuffers(0, 4, 64);
    ring.recv(a, 1, { bufferGroup: 0, multishot: true });
    ring.accept(server, 2, { multishot: true });
    ring.timeout(60_000, 3);
    ring.submit();
    // More finished connections than the ring shows in one wait (cqEntries): the multishot accept takes more
    // of them than that wait reads, so some accepted fds are left in the completion queue, seen by no one.
    const clients = Array.from({ length: ring.cqEntries + 8 }, () => createConnection(server.getsockname() as [string, number]));
    t.after(() => clients.forEach((c) => c.close()));
    const beforeWait = fdCount();
    const n = ring.wait(1, 5);
    const seen: number[] = [];
    for (let i = 0; i < n; i++) if (ring.userData(i) === 2 && ring.result(i) >= 0) seen.push(ring.result(i));
    t.after(() => seen.forEach((fd) => os.close(fd)));
    assert.equal(n, ring.cqEntries, 'the wait read as many completions as it shows');
    const unseen = fdCount() - beforeWait - seen.length;
    assert.ok(unseen >= 1, `accepted but not shown: ${unseen}`);
    assert.equal(ring.inFlight, 3);
    ring.close();
    assert.equal(ring.closed, true);
    assert.equal(ring.inFlight, 0);
    assert.equal(fdCount(), beforeWait + seen.length - 1, 'the unseen accepted fds and the ring\'s own are closed');
    assert.equal(keptMemories(), before);
    ring.close(); // again: nothing
  });

  test('close() reaps 10,000 operations in flight (the kernel posts their cancellations in one batch)', (t) => {
    const before = keptMemories();
    const fds = new Fds(t);
    const pipes = Array.from({ length: 20 }, () => fds.pipe());
    const ring = new IoUring(4096, { cqEntries: 16384, sendBuffers: 0 });
    for (let i = 0; i < 10_000; i++) ring.pollAdd(pipes[i % pipes.length]![0], POLLIN, i);
    ring.submit();
    assert.equal(ring.inFlight, 10_000);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    ring.close();
    assert.equal(ring.inFlight, 0, 'every operation reaped, none left to the kernel');
    assert.equal(keptMemories(), before);
    assert.deepEqual(warnings, []);
  });

  test('a closed ring refuses every call with ValueError', () => {
    const ring = new IoUring(4);
    ring.close();
    const closed = /I\/O operation on closed io_uring object/;
    for (const call of [
      () => ring.nop(1), () => ring.submit(), () => ring.wait(0, 0), () => ring.timeout(1, 1), () => ring.cancel(1),
      () => ring.send(0, 'x', 1), () => ring.write(0, 'x', 1), () => ring.pollAdd(0, POLLIN, 1), () => ring.accept(0, 1),
      () => ring.close(0, 1), () => ring.provideBuffers(0, 1, 1), () => ring.fileno(),
    ]) {
      assert.throws(call, closed);
    }
    ring[Symbol.dispose]();
  });

  test('argument errors name what was wrong', (t) => {
    const ring = newRing(t, 4);
    assert.throws(() => new IoUring(0), /entries must be between 1 and 32768/);
    assert.throws(() => new IoUring(40000), /entries must be between/);
    assert.throws(() => new IoUring(1.5), TypeError);
    assert.throws(() => new IoUring(4, { cqEntries: 2 }), /cqEntries must be between/);
    assert.throws(() => new IoUring(4, { bogus: 1 } as never), /unexpected option 'bogus'/);
    assert.throws(() => ring.nop(2 ** 53), /userData must be a safe integer \(got 9007199254740992\)/);
    assert.throws(() => ring.nop(1.5), TypeError);
    assert.throws(() => ring.nop('1' as never), TypeError);
    assert.throws(() => ring.send('x' as never, 'data', 1), TypeError);
    assert.throws(() => ring.send(0, 42 as never, 1), /data must be a Buffer/);
    assert.throws(() => ring.recv(0, 1, undefined as never), /needs options with a bufferGroup/);
    assert.throws(() => ring.recv(0, 1, {} as never), /needs options\.bufferGroup/);
    assert.throws(() => ring.recv(0, 1, { bufferGroup: 9 }), /buffer group 9 is not provided/);
    assert.throws(() => ring.recv(0, 1, { bufferGroup: 0, multishot: 1 } as never), /multishot must be a boolean/);
    assert.throws(() => ring.accept(0, 1, { multi: true } as never), /unexpected option 'multi'/);
    assert.throws(() => ring.sendmsg(0, 5 as never, 1), /buffers must be an iterable/);
    assert.equal(ring.inFlight, 0, 'no failed call left a slot behind');
    ring.nop(1);
    assert.equal(ring.wait(1, 5), 1);
    assert.throws(() => ring.userData(1), RangeError);
    assert.throws(() => ring.result(-1), RangeError);
  });

  test('more operations than completion entries raise BlockingIOError until completions are reaped', (t) => {
    const ring = newRing(t, 2, { cqEntries: 4 });
    for (let i = 0; i < 4; i++) ring.nop(i);
    assert.throws(() => ring.nop(4), (e: unknown) => e instanceof BlockingIOError && /too many operations in flight \(4/.test(e.message));
    assert.equal(collect(ring, 4).length, 4);
    ring.nop(5);
    assert.equal(collect(ring, 1)[0]!.userData, 5);
  });

  test('send copies in flight are bounded by sendBuffers', (t) => {
    const fds = new Fds(t);
    const [, w] = fds.pipe();
    const ring = newRing(t, 4, { sendBuffers: 1 });
    ring.write(w, 'a', 1);
    assert.throws(() => ring.write(w, 'b', 2), /all 1 send buffers are in flight/);
    collect(ring, 1);
    ring.write(w, 'b', 2);
    collect(ring, 1);
  });

  test('an options getter that closes the ring gets ValueError, and nothing is prepared', (t) => {
    const [a] = socketPair(t);
    const ring = new IoUring(4);
    ring.provideBuffers(0, 2, 16);
    const options = {
      get bufferGroup(): number {
        ring.close();
        return 0;
      },
    };
    assert.throws(() => ring.recv(a, 1, options), /closed io_uring object/);
    assert.equal(ring.inFlight, 0);
  });

  test('a full submission queue is submitted on the way', (t) => {
    const ring = newRing(t, 2, { cqEntries: 64 });
    for (let i = 0; i < 40; i++) ring.nop(i);
    assert.equal(collect(ring, 40).length, 40);
  });

  test('the hot path allocates nothing per completion: prepare → wait → read completions → recycle', async () => {
    const { runNode } = await import('./support/children.js');
    const { fileURLToPath } = await import('node:url');
    const child = fileURLToPath(new URL('./support/uring-alloc-child.js', import.meta.url));
    for (const mode of ['nop', 'pipe', 'echo']) {
      const r = await runNode(['--trace-gc', '--expose-gc', child, mode, '200000'], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      const between = r.stdout.split('MARK\n')[1]!.split('END\n')[0]!;
      const scavenges = between.split('\n').filter((l) => /Scavenge/.test(l)).length;
      // 400,000 to 800,000 completions without one young-generation collection: nothing per completion.
      assert.equal(scavenges, 0, `${mode}: ${scavenges} scavenges in 200,000 rounds\n${between}`);
    }
  });

  test('PermissionError names the reason where a seccomp filter refuses io_uring_setup', async () => {
    const { runNode } = await import('./support/children.js');
    const { fileURLToPath } = await import('node:url');
    const child = fileURLToPath(new URL('./support/uring-seccomp-child.js', import.meta.url));
    const r = await runNode([child]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hasUring false/);
    assert.match(r.stdout, /reason io_uring_setup was refused with EPERM: a seccomp filter/);
    assert.match(r.stdout, /PermissionError \[Errno 1\] io_uring_setup was refused/);
  });
});

void PermissionError;
void socketpair;
