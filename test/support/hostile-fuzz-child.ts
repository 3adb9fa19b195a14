/**
 * One sequence of the hostile-arguments fuzz (test/hostile-args-fuzz.test.ts), run in its own process:
 * `node build/test/support/hostile-fuzz-child.js SEED OPS`. Random calls across the socket, os and select
 * APIs whose arguments run caller code while they are converted — generators, iterators, index getters,
 * fileno() — and that code shrinks, grows, detaches or rewrites buffers already passed, throws, or re-enters
 * iomux (a nested sendmsg, send, os.write, recvmsg, select, register, kqueue.control on other objects).
 * Buffers also lie about their length through their own members.
 *
 * The oracle: every datagram a peer receives is exactly what one call passed — its bytes as they were when
 * the call copied them, its fds (compared by inode) and nothing else — in the order the calls returned; a
 * call that raised sent nothing; every error is a documented class; nothing crashes, hangs or leaks an fd.
 * Prints `ok SEED` last; on failure, the seed and the last operations.
 */
import { fstatSync, readdirSync } from 'node:fs';
import './kqueue.js';
import { BlockingIOError, BufferError, OSError, OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { epoll, hasKqueue, kevent, kqueue, poll, select, KQ_EV_ADD, KQ_EV_DELETE, KQ_FILTER_READ, POLLIN } from 'iomux/select';
import {
  AF_UNIX, CMSG_SPACE, MSG_DONTWAIT, SCM_RIGHTS, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, socketpair, type Socket,
} from 'iomux/socket';
import { choosers, operationLog, prng } from './prng.js';

const seed = Number(process.argv[2] ?? 1);
const OPS = Number(process.argv[3] ?? 200);

const random = prng(seed);
const { int } = choosers(random);
const chance = (p: number): boolean => random() < p;

const fuzzLog = operationLog('hostile fuzz', seed);
const note = fuzzLog.note;
// An explicit type: TypeScript narrows after a never-returning call only through one.
const fail: (why: string) => never = fuzzLog.fail;

/** A datagram for a failure message: its start, readable. */
function show(data: Buffer): string {
  const text = JSON.stringify(data.subarray(0, 60).toString('latin1'));
  return data.length > 60 ? `${text}… (${data.length} bytes)` : text;
}

/** Thrown by trap code on purpose: it must come out of the call unchanged. */
class TrapError extends Error {}

/** The documented classes a hostile call may raise. */
function expected(err: unknown): boolean {
  return err instanceof TrapError || err instanceof BufferError || err instanceof ValueError || err instanceof TypeError
    || err instanceof OverflowError || err instanceof RangeError || (err instanceof OSError && !(err instanceof BlockingIOError));
}

// After support/kqueue.js's import: libkqueue's monitoring thread and its fds exist from the first kqueue on.
const fdsAtStart = readdirSync('/proc/self/fd').length;

// ─── Peers and what they must receive ────────────────────────────────────────────────────────────────────

interface Expected {
  data: Buffer;
  /** Inodes of the fds passed, in order. */
  inodes: number[];
}

interface Pair {
  a: Socket;
  b: Socket;
  queue: Expected[];
}

const pairs: Pair[] = [];
for (let i = 0; i < 3; i++) {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  a.setblocking(false);
  b.setblocking(false);
  b.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20);
  pairs.push({ a, b, queue: [] });
}
const pipes: Array<[number, number]> = [];
for (let i = 0; i < 4; i++) pipes.push(os.pipe());
const inodeOf = (fd: number): number => fstatSync(fd).ino;

/** Every datagram waiting on `pair` must be the next expected one; afterwards nothing may be expected. */
function drain(pair: Pair, why: string): void {
  for (;;) {
    let got: ReturnType<Socket['recvmsg']>;
    try {
      got = pair.b.recvmsg(1 << 16, CMSG_SPACE(4 * 64), MSG_DONTWAIT);
    } catch (err) {
      if (err instanceof BlockingIOError) break;
      throw err;
    }
    const [data, items] = got;
    const inodes: number[] = [];
    for (const [level, type, bytes] of items) {
      if (level !== SOL_SOCKET || type !== SCM_RIGHTS) fail(`${why}: unexpected ancillary item ${level}/${type}`);
      for (let at = 0; at + 4 <= bytes.length; at += 4) {
        const fd = bytes.readInt32LE(at);
        inodes.push(inodeOf(fd));
        os.close(fd);
      }
    }
    const want = pair.queue.shift();
    if (want === undefined) fail(`${why}: the peer received ${show(data)} that no call sent`);
    if (!data.equals(want.data)) {
      fail(`${why}: the peer received ${show(data)}, the call passed ${show(want.data)}`);
    }
    if (inodes.join() !== want.inodes.join()) fail(`${why}: the peer received fds of inodes [${inodes}], the call passed [${want.inodes}]`);
  }
  if (pair.queue.length !== 0) fail(`${why}: ${pair.queue.length} message(s) passed never arrived`);
}

// ─── Hostile buffers ─────────────────────────────────────────────────────────────────────────────────────

let counter = 0;
/** A fresh payload, recognisable in a failure message. */
function payload(): Buffer {
  const n = int(4) === 0 ? 0 : 1 + int(40);
  const text = `m${++counter}:`.padEnd(n, String.fromCharCode(97 + int(26)));
  return Buffer.from(text.slice(0, Math.max(n, 0)));
}

interface Resizable extends ArrayBuffer {
  resize(n: number): void;
}

/** One buffer passed to a call, the view the caller passes, and how trap code can change it. */
interface Arg {
  value: unknown;
  /** The bytes the peer must get if the call goes through: read after the call. */
  bytes(): Buffer;
  /** Changes the buffer's length or detaches it: a call that has taken it must raise BufferError. */
  break?(): void;
  /** Rewrites its content in place (length unchanged): allowed, the peer gets the new content. */
  rewrite(): void;
}

function hostileBuffer(content: Buffer): Arg {
  const n = content.length;
  switch (int(6)) {
    case 0: {
      // Buffer.alloc: never a slice of the shared pool, which a transfer would detach for everyone.
      const buf = Buffer.alloc(n);
      content.copy(buf);
      return { value: buf, bytes: () => Buffer.from(buf), break: () => structuredClone(buf.buffer, { transfer: [buf.buffer] }), rewrite: () => buf.fill(0x5a) };
    }
    case 1: {
      // Length-tracking view of a resizable buffer: resize() changes its length.
      const rab = new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(n, { maxByteLength: n + 16 });
      const view = new Uint8Array(rab);
      view.set(content);
      return { value: view, bytes: () => Buffer.from(view), break: () => rab.resize(chance(0.5) ? 0 : n + 8), rewrite: () => view.fill(0x59) };
    }
    case 2: {
      // Own members lie: 1 MiB long, a subarray of someone else's memory.
      const view = Uint8Array.from(content);
      const real = new Uint8Array(view.buffer);
      for (const name of ['length', 'byteLength']) Object.defineProperty(view, name, { get: () => 1 << 20 });
      Object.defineProperty(view, 'subarray', { value: () => new Uint8Array(1 << 20) });
      Object.defineProperty(view, 'buffer', { get: () => new ArrayBuffer(1 << 20) });
      return { value: view, bytes: () => Buffer.from(real), rewrite: () => real.fill(0x58) };
    }
    case 3: {
      const dv = new DataView(Uint8Array.from(content).buffer);
      return {
        value: dv,
        bytes: () => Buffer.from(dv.buffer, dv.byteOffset, dv.byteLength),
        break: () => structuredClone(dv.buffer, { transfer: [dv.buffer] }),
        rewrite: () => new Uint8Array(dv.buffer).fill(0x57),
      };
    }
    case 4: {
      const ab = Uint8Array.from(content).buffer;
      return { value: ab, bytes: () => Buffer.from(ab.slice(0)), break: () => structuredClone(ab, { transfer: [ab] }), rewrite: () => new Uint8Array(ab).fill(0x56) };
    }
    default: {
      class Sub extends Uint8Array {
        override get length(): number {
          return 4096;
        }
      }
      const view = new Sub(n);
      view.set(content);
      const real = new Uint8Array(view.buffer);
      return { value: view, bytes: () => Buffer.from(real), rewrite: () => real.fill(0x55) };
    }
  }
}

/** SCM_RIGHTS data for `fds`, hostile like the data buffers. */
function hostileFds(fds: number[]): Arg {
  return hostileBuffer(Buffer.from(new Int32Array(fds).buffer));
}

// ─── Traps: caller code run in the middle of a conversion ───────────────────────────────────────────────

/** What a trap did to the call's own arguments. */
interface TrapLog {
  broke: Set<Arg>;
  threw: boolean;
}

/**
 * Caller code run at some point of a call's conversion: it may break or rewrite an argument already created
 * (`args`), throw, or re-enter iomux on another pair (whose message is then expected there).
 */
function trap(args: Arg[], outer: Pair | null, log: TrapLog): void {
  switch (int(7)) {
    case 0: {
      const arg = args[int(args.length)];
      if (arg?.break) {
        try {
          arg.break();
          log.broke.add(arg);
        } catch (err) {
          // Node marks some buffers untransferable (an empty Buffer's shared ArrayBuffer on some lines).
          if (!(err instanceof DOMException && err.name === 'DataCloneError')) throw err;
        }
      }
      return;
    }
    case 1: {
      args[int(args.length)]?.rewrite();
      return;
    }
    case 2:
      if (chance(0.3)) {
        log.threw = true;
        throw new TrapError('trap');
      }
      return;
    case 3: {
      // A nested sendmsg on another pair, with its own fds.
      const other = pairs[int(pairs.length)]!;
      if (other === outer) return;
      const data = payload();
      const pipe = pipes[int(pipes.length)]!;
      note(`    nested sendmsg on pair ${pairs.indexOf(other)}`);
      try {
        other.a.sendmsg([data], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([pipe[0]]).buffer)]]);
        other.queue.push({ data, inodes: [inodeOf(pipe[0])] });
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
      }
      return;
    }
    case 4: {
      const other = pairs[int(pairs.length)]!;
      if (other === outer) return;
      const data = payload();
      note(`    nested send on pair ${pairs.indexOf(other)}`);
      try {
        other.a.send(data);
        other.queue.push({ data, inodes: [] });
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
      }
      return;
    }
    case 5: {
      note('    nested select/poll/os.write');
      select([pipes[0]![0]], [pipes[1]![1]], [], 0);
      const p = poll();
      p.register(pipes[2]![0], POLLIN);
      p.poll(0);
      os.write(pipes[3]![1], Buffer.from('n'));
      os.read(pipes[3]![0], 16);
      return;
    }
    default: {
      // A nested recvmsg on another pair (it reuses iomux's message block) checks what arrived there.
      const other = pairs[int(pairs.length)]!;
      if (other === outer) return;
      note(`    nested drain of pair ${pairs.indexOf(other)}`);
      drain(other, 'nested drain');
    }
  }
}

/** An iterable over `items` that runs traps between them, as an array with index getters or a generator. */
function hostileIterable<T>(items: T[], args: Arg[], outer: Pair | null, log: TrapLog): Iterable<T> {
  if (chance(0.5)) {
    const list: T[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (chance(0.4)) Object.defineProperty(list, i, { enumerable: true, configurable: true, get: () => (trap(args, outer, log), item) });
      else list[i] = item;
    }
    return list;
  }
  return (function* gen(): Generator<T> {
    for (const item of items) {
      if (chance(0.4)) trap(args, outer, log);
      yield item;
    }
    if (chance(0.4)) trap(args, outer, log);
  })();
}

// ─── Operations ──────────────────────────────────────────────────────────────────────────────────────────

/** A call that gets hostile arguments; `expect` is what the peer gets when it returns. */
function hostileCall(what: string, pair: Pair | null, args: Arg[], log: TrapLog, call: () => unknown, expect: () => Expected | null): void {
  note(what);
  let threw: unknown = null;
  try {
    call();
  } catch (err) {
    threw = err;
    if (err instanceof BlockingIOError) return; // a full queue: nothing was sent
    if (!expected(err)) fail(`${what} raised ${String(err)}\n${(err as Error).stack ?? ''}`);
    if (err instanceof TrapError && !log.threw) fail(`${what}: a TrapError no trap threw`);
  }
  if (threw === null) {
    if (log.threw) fail(`${what}: a trap threw, the call returned`);
    const broken = args.filter((a) => log.broke.has(a));
    // Breaking an argument the call had not taken yet is allowed (it then takes it as it is), so a call may
    // succeed after a break; the oracle is what the peer receives.
    void broken;
    const e = expect();
    if (pair !== null && e !== null) pair.queue.push(e);
  }
  if (pair !== null) drain(pair, what);
}

const operations: Array<[weight: number, run: () => void]> = [
  [10, () => {
    const pair = pairs[int(pairs.length)]!;
    const log: TrapLog = { broke: new Set(), threw: false };
    const contents = Array.from({ length: int(4) }, () => payload());
    const dataArgs = contents.map(hostileBuffer);
    const fdCount = int(3);
    const passed = Array.from({ length: fdCount }, () => pipes[int(pipes.length)]![int(2)]);
    const ancArgs = fdCount === 0 && chance(0.5) ? [] : [hostileFds(passed)];
    const all = [...dataArgs, ...ancArgs];
    const buffers = hostileIterable(dataArgs.map((a) => a.value), all, pair, log);
    const items = ancArgs.map((a) => {
      const item: unknown[] = [SOL_SOCKET, SCM_RIGHTS, a.value];
      if (chance(0.3)) Object.defineProperty(item, 0, { get: () => (trap(all, pair, log), SOL_SOCKET) });
      return item;
    });
    const ancdata = hostileIterable(items, all, pair, log);
    hostileCall(`sendmsg on pair ${pairs.indexOf(pair)} (${contents.length} buffers, ${fdCount} fds)`, pair, all, log,
      () => pair.a.sendmsg(buffers as Iterable<Uint8Array>, ancdata as Iterable<[number, number, Uint8Array]>),
      () => ({
        data: Buffer.concat(dataArgs.map((a) => a.bytes())),
        inodes: ancArgs.length === 0 ? [] : fdsOf(ancArgs[0]!.bytes()).map(inodeOf),
      }));
  }],
  [4, () => {
    const pair = pairs[int(pairs.length)]!;
    const log: TrapLog = { broke: new Set(), threw: false };
    const arg = hostileBuffer(payload());
    const how = int(3);
    hostileCall(`${['send', 'sendall', 'trySend'][how]} on pair ${pairs.indexOf(pair)}`, pair, [arg], log, () => {
      if (how === 0) return pair.a.send(arg.value as Uint8Array);
      if (how === 1) return pair.a.sendall(arg.value as Uint8Array);
      if (pair.a.trySend(arg.value as Uint8Array) < 0) throw new BlockingIOError(11, 'full');
      return 0;
    }, () => ({ data: arg.bytes(), inodes: [] }));
  }],
  [3, () => {
    // recvInto / recvmsgInto into lying or resizable buffers: never more than their real bytes.
    const pair = pairs[int(pairs.length)]!;
    drain(pair, 'before recvInto');
    const data = payload();
    pair.a.send(data);
    const log: TrapLog = { broke: new Set(), threw: false };
    const into = hostileBuffer(Buffer.alloc(int(3) === 0 ? 0 : int(48)));
    const how = int(2);
    note(`${how === 0 ? 'recvInto' : 'recvmsgInto'} on pair ${pairs.indexOf(pair)}`);
    let n = -1;
    try {
      if (how === 0) n = pair.b.recvInto(into.value as Uint8Array);
      else n = pair.b.recvmsgInto(hostileIterable([into.value as Uint8Array], [into], pair, log))[0];
    } catch (err) {
      if (!expected(err)) fail(`recvInto raised ${String(err)}`);
      try {
        pair.b.recv(1 << 16, MSG_DONTWAIT); // the datagram, if the call raised before reading it
      } catch (e) {
        if (!(e instanceof BlockingIOError) && !expected(e)) fail(String(e));
      }
      return;
    }
    const real = into.bytes();
    if (n > Math.max(real.length, data.length)) fail(`recvInto returned ${n} for a ${real.length}-byte buffer`);
    if (how === 0 && !real.subarray(0, Math.min(n, real.length)).equals(data.subarray(0, Math.min(n, real.length)))) {
      fail('recvInto wrote other bytes than the datagram\'s');
    }
  }],
  [3, () => {
    const [r, w] = pipes[int(pipes.length)]!;
    const arg = hostileBuffer(payload());
    note('os.write');
    let n = -1;
    try {
      n = os.write(w, arg.value as Uint8Array);
    } catch (err) {
      if (!expected(err)) fail(`os.write raised ${String(err)}`);
      return;
    }
    const got = n > 0 ? os.read(r, 1 << 16) : Buffer.alloc(0);
    if (!got.equals(arg.bytes().subarray(0, n))) fail(`os.write: the pipe got ${show(got)}`);
  }],
  [3, () => {
    // select/poll/epoll/kqueue with fileno() objects that re-enter or throw.
    const log: TrapLog = { broke: new Set(), threw: false };
    const files = pipes.map(([r]) => ({ fileno: (): number => (chance(0.3) ? trap([], null, log) : undefined, r) }));
    const how = int(4);
    note(`${['select', 'poll.register', 'epoll.register', 'kqueue.control'][how]} with hostile fileno()`);
    try {
      if (how === 0) select(hostileIterable(files, [], null, log), [], [], 0);
      else if (how === 1) {
        const p = poll();
        for (const f of files) p.register(f, POLLIN);
        p.poll(0);
      } else if (how === 2) {
        const ep = epoll();
        try {
          for (const f of files) ep.register(f);
          ep.poll(0);
        } finally {
          ep.close();
        }
      } else if (hasKqueue()) {
        const kq = kqueue();
        try {
          const changes = files.map((f) => kevent(f, KQ_FILTER_READ, KQ_EV_ADD));
          kq.control(hostileIterable(changes, [], null, log), 0, 0);
          kq.control(changes.map((k) => kevent(k.ident, KQ_FILTER_READ, KQ_EV_DELETE)), 0, 0);
        } finally {
          kq.close();
        }
      }
    } catch (err) {
      if (!expected(err)) fail(`raised ${String(err)}\n${(err as Error).stack ?? ''}`);
    }
  }],
];
const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);

function fdsOf(data: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 4 <= data.length; at += 4) out.push(data.readInt32LE(at));
  return out;
}

for (let i = 0; i < OPS; i++) {
  let r = random() * totalWeight;
  for (const [weight, run] of operations) {
    r -= weight;
    if (r < 0) {
      run();
      break;
    }
  }
}

for (const pair of pairs) {
  drain(pair, 'final drain');
  pair.a.close();
  pair.b.close();
}
for (const [r, w] of pipes) {
  os.close(r);
  os.close(w);
}
// libkqueue's monitoring thread releases a closed kqueue's internal fds a moment after close().
const fdCount = (): number => readdirSync('/proc/self/fd').length;
for (const deadline = Date.now() + 3000; fdCount() > fdsAtStart && Date.now() < deadline;) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
if (fdCount() !== fdsAtStart) fail(`fd leak: ${fdsAtStart} fds at start, ${fdCount()} at the end`);
console.log(`ok ${seed}`);
