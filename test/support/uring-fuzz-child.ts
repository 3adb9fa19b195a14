/**
 * One sequence of the io_uring fuzz (test/uring-fuzz.test.ts), in its own process:
 * `node --expose-gc build/test/support/uring-fuzz-child.js SEED OPS`. Random prepare/submit/wait/cancel/
 * recycle/close orders over pipes and socket pairs whose peers write, shut down and close at random, with rings
 * closed and recreated mid-flight and garbage collections between. Every error must be a documented class; every
 * completion must name an operation of its ring, and a named buffer must be readable. At the end every ring is
 * closed: no ring memory may be left for the kernel and the process must hold the fds it started with.
 * Prints `ok SEED` last; on failure, the seed and the last operations.
 */
import { readdirSync } from 'node:fs';
import { OSError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { AF_UNIX, SOCK_DGRAM, SOCK_STREAM, socketpair, type Socket } from 'iomux/socket';
import { POLLIN, POLLOUT } from 'iomux/select';
import { IoUring } from 'iomux/uring';
import { keptMemories } from '#internal/uring/memory.js';
import { auditCancelTargets } from '#internal/uring/ring.js';
import { choosers, operationLog, prng } from './prng.js';

const seed = Number(process.argv[2] ?? 1);
const OPS = Number(process.argv[3] ?? 300);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

const random = prng(seed);
const { int, pick } = choosers(random);

const fuzzLog = operationLog('uring fuzz', seed);
const note = fuzzLog.note;
// An explicit type: TypeScript narrows after a never-returning call only through one.
const fail: (why: string) => never = fuzzLog.fail;
function attempt(what: string, fn: () => void): void {
  note(what);
  try {
    fn();
  } catch (err) {
    if (!(err instanceof OSError || err instanceof ValueError || err instanceof TypeError)) {
      fail(`${what} raised ${String(err)}\n${(err as Error).stack ?? ''}`);
    }
    stats.errors++;
  }
}

/** What the sequence saw (printed with URING_FUZZ_STATS=1), to check that it exercises the ring. */
const stats = { completions: 0, buffers: 0, errors: 0, rings: 0 };

const fdsAtStart = readdirSync('/proc/self/fd').length;

/** fds this sequence owns: ours to read, write and close; `peer` is written to and closed from outside the ring. */
interface End {
  fd: number;
  sock?: Socket;
  peer: number;
  peerSock?: Socket;
}
const ends: End[] = [];
/** An fd number that is never open (above every fd this process opens). */
const BAD_FD = 1_000_000;

let ring: IoUring | null = null;
let nextUd = 1;
/**
 * The operations of the current ring by userData: their buffer group (-1 for none) and how many are not finished.
 * Several operations may share a userData (as a server's per-connection tags do), which cancel() must all reach.
 */
let ops = new Map<number, { group: number; n: number }>();
let groups = new Map<number, { count: number; size: number }>();
/** Received buffers not recycled yet: [group, id, length]. */
let kept: Array<[number, number, number]> = [];

function newRing(): void {
  const entries = pick([1, 4, 8, 32, 64])!;
  const cq = pick([undefined, entries * 2, entries * 4])!;
  ring = new IoUring(entries, { cqEntries: cq, sendBuffers: int(8) + 1, sendBufferSize: pick([1, 16, 512, 4096])! });
  ops = new Map();
  groups = new Map();
  kept = [];
  const g = int(4);
  ring.provideBuffers(g, 8, 256);
  groups.set(g, { count: 8, size: 256 });
  stats.rings++;
}

function fdChoice(): number {
  return int(10) === 0 ? BAD_FD : (pick(ends)?.fd ?? BAD_FD);
}
/** A buffer group: mostly one this ring provides, sometimes any (perhaps not provided: ValueError). */
function groupChoice(): number {
  return int(8) === 0 ? int(5) : (pick([...groups.keys()]) ?? int(5));
}
function data(): Buffer {
  return Buffer.alloc(pick([0, 1, 7, 100, 3000])!, 0x41 + int(26));
}
function ud(group = -1): number {
  if (int(4) === 0) {
    const shared = pick([...ops].filter(([, o]) => o.group === group));
    if (shared) {
      shared[1].n++;
      return shared[0];
    }
  }
  // Now and then a large or negative userData, so both halves of the index's hash vary.
  const base = nextUd++;
  const u = int(8) === 0 ? (int(2) === 0 ? -base : base) * 2 ** 32 + int(3) : base;
  ops.set(u, { group, n: 1 });
  return u;
}

/** The oracle of cancel(userData)'s index: the slots it reaches are exactly those a scan of every slot finds. */
function audit(u: number): void {
  const { indexed, scanned } = auditCancelTargets(ring!, u);
  if (indexed.join() !== scanned.join()) fail(`userData ${u}: the index gives slots [${indexed.join()}], a scan [${scanned.join()}]`);
}

function reap(n: number): void {
  const r = ring!;
  for (let i = 0; i < n; i++) {
    const u = r.userData(i);
    stats.completions++;
    if (!ops.has(u)) fail(`completion for unknown userData ${u}`);
    const id = r.bufferId(i);
    const op = ops.get(u)!;
    const group = op.group;
    if (!r.hasMore(i) && --op.n === 0) ops.delete(u);
    if (id >= 0) {
      if (group < 0) fail(`userData ${u} named buffer ${id} without a group`);
      const view = r.buffer(group, id, r.result(i));
      if (view.length !== r.result(i)) fail('buffer view length');
      stats.buffers++;
      if (int(4) !== 0) r.recycle(group, id);
      else kept.push([group, id, r.result(i)]);
    }
  }
}

const operations: Array<[number, () => void]> = [
  [3, () => attempt('pair', () => {
    if (ends.length > 12) return;
    const kind = int(3);
    if (kind === 0) {
      const [r, w] = os.pipe();
      ends.push({ fd: r, peer: w });
    } else {
      const [a, b] = socketpair(AF_UNIX, kind === 1 ? SOCK_STREAM : SOCK_DGRAM);
      ends.push({ fd: a.fileno(), sock: a, peer: b.fileno(), peerSock: b });
    }
  })],
  [6, () => attempt('peer write', () => {
    const e = pick(ends);
    if (e && e.peer >= 0) {
      if (e.peerSock) e.peerSock.setblocking(false);
      try {
        if (e.peerSock) e.peerSock.send(data());
        else os.setBlocking(e.peer, false), os.write(e.peer, data());
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
      }
    }
  })],
  [1, () => attempt('peer close', () => {
    const e = pick(ends);
    if (e && e.peer >= 0) {
      if (e.peerSock) e.peerSock.close();
      else os.close(e.peer);
      e.peer = -1;
    }
  })],
  [1, () => attempt('close end', () => {
    const e = pick(ends);
    if (!e) return;
    ends.splice(ends.indexOf(e), 1);
    if (e.sock) e.sock.close();
    else os.close(e.fd);
    if (e.peer >= 0) (e.peerSock ? e.peerSock.close() : os.close(e.peer));
  })],
  [1, () => attempt('ring.close(fd) op', () => {
    const e = pick(ends);
    if (!e || !ring) return;
    ring.close(e.fd, ud());
    // the fd is the ring's to close now: forget it (a Socket object is detached so it never closes the number again)
    ends.splice(ends.indexOf(e), 1);
    e.sock?.detach();
    if (e.peer >= 0) (e.peerSock ? e.peerSock.close() : os.close(e.peer));
  })],
  [2, () => attempt('provideBuffers', () => {
    const g = int(4);
    if (groups.has(g) && int(4) !== 0) return;
    const count = 1 << int(5);
    const size = pick([1, 64, 512, 4096])!;
    ring!.provideBuffers(g, count, size);
    groups.set(g, { count, size });
  })],
  [4, () => attempt('recv', () => {
    const g = groupChoice();
    ring!.recv(fdChoice(), ud(g), { bufferGroup: g, multishot: random() < 0.5 });
  })],
  [3, () => attempt('read', () => {
    const g = groupChoice();
    ring!.read(fdChoice(), ud(g), { bufferGroup: g, multishot: random() < 0.3 });
  })],
  [1, () => attempt('recvmsg', () => {
    const g = groupChoice();
    ring!.recvmsg(fdChoice(), ud(g), { bufferGroup: g });
  })],
  [3, () => attempt('send', () => ring!.send(fdChoice(), data(), ud()))],
  [3, () => attempt('sendBuffer', () => {
    const k = pick(kept);
    if (k) ring!.sendBuffer(fdChoice(), k[0], k[1], int(k[2] + 1), int(4) === 0 ? k[2] + 1 : int(k[2] + 1) >> 1, ud());
  })],
  [2, () => attempt('recycle kept', () => {
    const k = pick(kept);
    if (!k) return;
    ring!.recycle(k[0], k[1]);
    kept.splice(kept.indexOf(k), 1);
  })],
  [2, () => attempt('write', () => ring!.write(fdChoice(), data(), ud()))],
  [1, () => attempt('sendmsg', () => ring!.sendmsg(fdChoice(), [data(), data()], ud()))],
  [2, () => attempt('pollAdd', () => ring!.pollAdd(fdChoice(), pick([POLLIN, POLLOUT, POLLIN | POLLOUT])!, ud(), { multishot: random() < 0.5 }))],
  [2, () => attempt('timeout', () => ring!.timeout(int(30), ud()))],
  [2, () => attempt('nop', () => ring!.nop(ud()))],
  [3, () => attempt('cancel', () => {
    const u = pick([...ops.keys()]) ?? nextUd + 5;
    audit(u);
    ring!.cancel(u);
  })],
  [2, () => attempt('recycle (maybe invalid)', () => {
    const g = int(5);
    ring!.recycle(g, int(20) - 2);
  })],
  [1, () => attempt('buffer (maybe invalid)', () => {
    const g = int(5);
    ring!.buffer(g, int(20) - 2, int(100));
  })],
  [3, () => attempt('submit', () => void ring!.submit())],
  [6, () => attempt('wait', () => {
    reap(ring!.wait(int(3), pick([0, 0, 0.005, 0.02])!));
    for (const u of ops.keys()) audit(u);
  })],
  [1, () => attempt('ring close + new', () => {
    ring!.close();
    if (ring!.inFlight !== 0) fail(`closed with ${ring!.inFlight} in flight`);
    for (const u of ops.keys()) audit(u);
    newRing();
  })],
  [1, () => attempt('gc', () => gc())],
];
const total = operations.reduce((s, [w]) => s + w, 0);

newRing();
for (let i = 0; i < OPS; i++) {
  let r = int(total);
  for (const [w, run] of operations) {
    if (r < w) {
      run();
      break;
    }
    r -= w;
  }
}
note('final close');
ring!.close();
if (ring!.inFlight !== 0) fail(`final close left ${ring!.inFlight} in flight`);
for (const e of ends) {
  if (e.sock) e.sock.close();
  else os.close(e.fd);
  if (e.peer >= 0) (e.peerSock ? e.peerSock.close() : os.close(e.peer));
}
ring = null;
gc();
if (keptMemories() !== 0) fail(`${keptMemories()} ring memories still kept for the kernel after every ring closed`);
const fdsAtEnd = readdirSync('/proc/self/fd').length;
if (fdsAtEnd !== fdsAtStart) fail(`fds: ${fdsAtStart} at start, ${fdsAtEnd} at the end`);
if (process.env.URING_FUZZ_STATS) console.error(stats);
console.log(`ok ${seed}`);
