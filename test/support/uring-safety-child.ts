/**
 * Crash-safety scenarios of iomux/uring, one per process (`node --expose-gc uring-safety-child.js NAME`), run by
 * uring-safety.test.ts: each drives the kernel to write into ring memory while JavaScript drops, collects,
 * closes or tries to detach it. A scenario prints `ok NAME` last; a SIGSEGV/SIGABRT or any other output is a
 * failure.
 */
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as os from 'iomux/os';
import { socketpair, type Socket } from 'iomux/socket';
import { IoUring } from 'iomux/uring';
import { keptMemories } from '#internal/uring/memory.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const name = process.argv[2];

function churn(): void {
  // Allocate and collect, so freed memory would be reused (and a kernel write into it would show).
  for (let i = 0; i < 20; i++) {
    const junk: Uint8Array[] = [];
    for (let j = 0; j < 200; j++) junk.push(new Uint8Array(64 * 1024).fill(j));
    gc!();
  }
}

function pairs(n: number): Array<[Socket, Socket]> {
  return Array.from({ length: n }, () => socketpair());
}

/** Armed multishot recvs over `n` socket pairs, with each peer's send buffer filled while the ring is being let go. */
function armed(n: number): { ring: IoUring; peers: Array<[Socket, Socket]> } {
  const ring = new IoUring(64);
  ring.provideBuffers(0, 64, 4096);
  const peers = pairs(n);
  peers.forEach(([a], i) => ring.recv(a, i, { bufferGroup: 0, multishot: true }));
  ring.read(peers[0]![0].fileno(), 1000, { bufferGroup: 0 });
  ring.submit();
  return { ring, peers };
}

function flood(peers: Array<[Socket, Socket]>): void {
  const data = Buffer.alloc(4096, 0x5a);
  for (let round = 0; round < 8; round++) for (const [, b] of peers) b.send(data);
}

const scenarios: Record<string, () => Promise<void> | void> = {
  // The ring object is dropped without close(): its memory must stay (the kernel still writes into it).
  dropped() {
    let { ring, peers } = armed(16);
    void ring;
    ring = undefined as never;
    churn();
    flood(peers);
    churn();
    flood(peers);
    assert.ok(keptMemories() >= 2, 'the dropped ring\'s memory is kept for the kernel');
    for (const [a, b] of peers) (a.close(), b.close());
  },
  // close() while the kernel is writing; views taken before close stay readable afterwards.
  closedWhileWriting() {
    const { ring, peers } = armed(16);
    flood(peers);
    let n = ring.wait(1, 5);
    const views: Buffer[] = [];
    for (let i = 0; i < n; i++) if (ring.bufferId(i) >= 0) views.push(ring.buffer(0, ring.bufferId(i), ring.result(i)));
    flood(peers);
    ring.close();
    assert.equal(keptMemories(), 0);
    churn();
    flood(peers);
    churn();
    let sum = 0;
    for (const v of views) for (const byte of v) sum += byte;
    assert.ok(views.length > 0 && sum > 0);
    for (const [a, b] of peers) (a.close(), b.close());
    void n;
    n = 0;
  },
  // No caller can detach the memory under the kernel: transfer refuses (Node ≥ 22) or copies (Node 20).
  detach() {
    const { ring, peers } = armed(4);
    flood(peers);
    const n = ring.wait(1, 5);
    let id = -1;
    for (let i = 0; i < n && id < 0; i++) id = ring.bufferId(i);
    assert.ok(id >= 0);
    const view = ring.buffer(0, id, 16);
    const ab = view.buffer as ArrayBuffer & { transfer?: () => ArrayBuffer };
    try {
      structuredClone(ab, { transfer: [ab] });
    } catch {
      // refused
    }
    try {
      ab.transfer?.();
    } catch {
      // refused
    }
    assert.equal(view.length, 16, 'the view is still attached');
    assert.ok(ab.byteLength > 0);
    ring.recycle(0, id);
    flood(peers);
    churn();
    ring.close();
    for (const [a, b] of peers) (a.close(), b.close());
  },
  // Another thread cannot use this thread's ring: the object does not cross, and the kernel refuses its fd
  // (IORING_SETUP_SINGLE_ISSUER: io_uring_enter from another thread fails with EEXIST).
  async otherThread() {
    const ring = new IoUring(4);
    ring.nop(1);
    ring.submit();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const koffi = require('koffi');
       const libc = koffi.load('libc.so.6');
       const enter = libc.func('long syscall(long, int, unsigned int, unsigned int, unsigned int, intptr_t, size_t)');
       const r = enter(426, workerData.fd, 0, 1, 1, 0, 0);
       parentPort.postMessage({ r, errno: koffi.errno(), ring: typeof workerData.ring, keys: Object.keys(workerData.ring ?? {}) });`,
      { eval: true, workerData: { fd: ring.fileno(), ring: { copy: 'no ring here' } } },
    );
    const msg = await new Promise<{ r: number; errno: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(msg.r, -1);
    assert.equal(msg.errno, 17, 'EEXIST: the ring belongs to its creating thread');
    // A structured clone (postMessage, workerData) of a ring is an empty object: its private state stays here.
    const clone = structuredClone(ring) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(clone), []);
    assert.equal(typeof clone.wait, 'undefined');
    assert.equal(ring.wait(1, 5), 1);
    ring.close();
  },
  // A view's whole ArrayBuffer is written over: only buffers are in it, never the ring of addresses the
  // kernel reads, so later receives still land in the buffers with the right bytes.
  scribble() {
    const [a, b] = socketpair();
    const ring = new IoUring(8);
    ring.provideBuffers(0, 4, 64);
    ring.recv(a, 1, { bufferGroup: 0, multishot: true });
    b.send(Buffer.from('first'));
    assert.equal(ring.wait(1, 5), 1);
    const id = ring.bufferId(0);
    new Uint8Array(ring.buffer(0, id, 5).buffer).fill(0xff);
    ring.recycle(0, id);
    for (const text of ['second', 'third', 'fourth', 'fifth', 'sixth']) {
      b.send(Buffer.from(text));
      assert.equal(ring.wait(1, 5), 1);
      assert.equal(ring.result(0), text.length, `recv of ${text}: ${ring.result(0)}`);
      assert.equal(ring.buffer(0, ring.bufferId(0), text.length).toString(), text);
      ring.recycle(0, ring.bufferId(0));
    }
    ring.close();
    a.close();
    b.close();
  },
  // The ring fd is close-on-exec: a child process never inherits it.
  cloexec() {
    const ring = new IoUring(4);
    assert.equal(os.getInheritable(ring.fileno()), false);
    ring.close();
  },
};

const run = scenarios[name ?? ''];
if (run === undefined) throw new Error(`unknown scenario ${name}`);
await run();
console.log(`ok ${name}`);
