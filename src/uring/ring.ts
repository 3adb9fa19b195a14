/**
 * IoUring: a completion-based ring over io_uring's raw kernel interface. Operations are prepared into the
 * shared submission queue, submitted in one io_uring_enter per batch, and their completions copied out of the
 * shared completion queue into this object's own arrays, where `userData(i)`, `result(i)`… read them.
 *
 * Safety (docs/uring.md): every byte the kernel may write or read after a call returned is the ring's own
 * NativeMemory — provided buffers, send copies, msghdrs, timespecs — kept until the operation's last
 * completion, or until close() has cancelled and reaped everything in flight. The kernel's user_data is the
 * index of an operation slot (never the caller's value), so each completion is matched to what it may touch.
 */
import { intArg } from '../args.js';
import { BlockingIOError, OSError, raiseErrno, ValueError } from '../errors.js';
import { describe, asFileDescriptor, type FileLike } from '../fileobj.js';
import { bytesArg, checkOptionNames } from '../socket/args.js';
import * as sys from '../sys/index.js';
import { epollTimeoutMs, monotonicMs } from '../timeout.js';
import { probe } from './availability.js';
import { BufferGroup } from './buffers.js';
import { NativeMemory } from './memory.js';
import { UserDataIndex } from './userdata-index.js';

const U = sys.URING;
const E = sys.ERRNO as Record<string, number>;
const { EINTR, ETIME, EBUSY, EAGAIN } = E as Record<'EINTR' | 'ETIME' | 'EBUSY' | 'EAGAIN', number>;
const CQE_F_BUFFER = U?.cqeFlags.BUFFER ?? 1;
const CQE_F_MORE = U?.cqeFlags.MORE ?? 2;
const BUFFER_SHIFT = U?.cqeFlags.BUFFER_SHIFT ?? 16;
const { CQE_USER_DATA_LOW, CQE_USER_DATA_HIGH, CQE_RES, CQE_FLAGS } = sys;

/** user_data's high word for the ring's own requests (the cancels of cancel() and close()): never shown. */
const INTERNAL = 0xffffffff;

// What a slot holds (iomux's bookkeeping, not kernel values).
const FREE = 0;
const ACCEPT = 1;
const RECV = 2;
const SEND = 3;
const SENDMSG = 4;
const RECVMSG = 5;
const READ = 6;
const WRITE = 7;
const POLL = 8;
const TIMEOUT = 9;
const CLOSE = 10;
const NOP = 11;
const SEND_BUFFER = 12;

/** Per-slot scratch the kernel may read or write: msghdr at 0, iovec at 64, timespec at 80, address at 128. */
const SCRATCH = 256;
const IOVEC_AT = 64;
const TIMESPEC_AT = 80;
const NAME_AT = 128;
const NAME_BYTES = 128;
/** The arena's head: io_uring_enter's getevents argument at 0 and its timespec at 32. */
const HEAD = 256;
const ARG_TS_AT = 32;

const MAX_ENTRIES = U?.limits.MAX_ENTRIES ?? 32768;
const MAX_CQ_ENTRIES = U?.limits.MAX_CQ_ENTRIES ?? 65536;
const MAX_BUF_RING = U?.limits.MAX_BUF_RING_ENTRIES ?? 32768;
/**
 * With DEFER_TASKRUN the kernel runs at most max(20, min_complete) deferred completions per io_uring_enter
 * (IO_LOCAL_TW_DEFAULT_MAX, Linux 6.10+): a wait that reaped this many may have left more queued.
 */
const LOCAL_TASK_WORK_BATCH = 20;
/** How long close() keeps cancelling and reaping before it gives up on an operation the kernel still holds. */
const CLOSE_PATIENCE_MS = 10_000;

export interface IoUringOptions {
  /** Completion queue entries (default: the kernel's, twice the submission queue); also the most operations in flight. */
  cqEntries?: number;
  /** How many send/write/sendmsg copies may be in flight at once (default: `entries`). */
  sendBuffers?: number;
  /** Bytes of each send copy (default 16384): a larger send sends its first this-many bytes, as a short send(2). */
  sendBufferSize?: number;
}
const OPTIONS = new Set(['cqEntries', 'sendBuffers', 'sendBufferSize']);

export interface UringRecvOptions {
  /** The provided-buffer group the kernel picks the buffer from (`provideBuffers`). Required. */
  bufferGroup: number;
  /** Keep receiving: one completion per message, with `hasMore(i)` while the operation stays armed. */
  multishot?: boolean;
  /** recv(2)/recvmsg(2) flags. */
  flags?: number;
}

/**
 * For the fuzz (test/support/uring-fuzz-child.ts), not part of `iomux/uring`: the slots cancel(userData) would
 * target through the index, next to a scan of every slot, both sorted — an index that lost or kept a slot differs.
 */
export let auditCancelTargets!: (ring: IoUring, userData: number) => { indexed: number[]; scanned: number[] };

export class IoUring implements Disposable {
  #fd: number;
  #map: sys.RingMap;
  #arena: NativeMemory;
  /** io_uring_enter's getevents argument, in the arena (its timespec pointer points next to it). */
  #argBytes: Uint8Array;
  #sqTail = 0;
  #published = 0;

  // Operation slots: what each in-flight operation is, its caller's userData and what it holds.
  readonly #slots: number;
  readonly #kind: Uint8Array;
  readonly #slotUserData: Float64Array;
  readonly #slotGroup: Int32Array;
  readonly #slotSend: Int32Array;
  /** The provided buffer a sendBuffer reads (-1): lent until the send's completion. */
  readonly #slotBuffer: Int32Array;
  /** A slot's generation, user_data's high word: a cancel aimed at a slot never reaches its next operation. */
  readonly #gen: Uint32Array;
  readonly #free: Int32Array;
  #freeTop: number;
  /** The slots in flight by userData: cancel(userData) visits only those. */
  readonly #byUserData: UserDataIndex;
  #inFlight = 0;

  // Send copies: a free stack of fixed-size chunks of the arena.
  readonly #sendSize: number;
  readonly #sendBase: number;
  readonly #sendFree: Int32Array;
  #sendTop: number;

  // The last wait's completions.
  readonly #userData: Float64Array;
  readonly #result: Int32Array;
  readonly #flags: Uint32Array;
  #count = 0;

  readonly #groups = new Map<number, BufferGroup>();
  #closing = false;
  /** Where #copyIn put the copy: its byte offset in the arena and its length. */
  #copyAt = 0;
  #copyLen = 0;

  /**
   * A ring of `entries` submission entries (rounded up to a power of two by the kernel, 1…32768). Raises
   * OSError (ENOSYS, PermissionError for EPERM…) with the reason `uringUnavailableReason()` gives where the
   * kernel cannot make one.
   */
  constructor(entries: number, options: IoUringOptions = {}) {
    const n = intArg(entries, 'entries');
    checkOptionNames('IoUring', options, OPTIONS);
    const cqOpt = options.cqEntries === undefined ? 0 : intArg(options.cqEntries, 'cqEntries');
    const sendOpt = options.sendBuffers === undefined ? undefined : intArg(options.sendBuffers, 'sendBuffers');
    const sendSize = options.sendBufferSize === undefined ? 16384 : intArg(options.sendBufferSize, 'sendBufferSize');
    if (n < 1 || n > MAX_ENTRIES) throw new ValueError(`entries must be between 1 and ${MAX_ENTRIES} (got ${n})`);
    if (options.cqEntries !== undefined && (cqOpt < n || cqOpt > MAX_CQ_ENTRIES)) {
      throw new ValueError(`cqEntries must be between entries (${n}) and ${MAX_CQ_ENTRIES} (got ${cqOpt})`);
    }
    if (sendOpt !== undefined && (sendOpt < 0 || sendOpt > MAX_CQ_ENTRIES)) throw new ValueError(`sendBuffers must be between 0 and ${MAX_CQ_ENTRIES} (got ${sendOpt})`);
    if (sendSize < 1 || sendSize > 1 << 24) throw new ValueError(`sendBufferSize must be between 1 and ${1 << 24} (got ${sendSize})`);

    const unavailable = probe();
    if (unavailable !== null) throw osError(unavailable.errno, unavailable.reason);
    const T = U!;
    const params = new Uint8Array(sys.URING_PARAMS_BYTES);
    // DEFER_TASKRUN (6.1): completions are produced only when this thread asks for them, in io_uring_enter —
    // one batch per call. SINGLE_ISSUER: the kernel refuses submissions from any other thread (EEXIST).
    let fd = sys.uringSetup(n, cqOpt, T.setup.SINGLE_ISSUER | T.setup.DEFER_TASKRUN | T.setup.SUBMIT_ALL, params);
    if (fd === -E.EINVAL!) fd = sys.uringSetup(n, cqOpt, T.setup.SINGLE_ISSUER | T.setup.COOP_TASKRUN | T.setup.SUBMIT_ALL, params);
    if (fd < 0) raiseErrno(fd);
    const map = sys.uringMapRings(fd, params);
    if (typeof map === 'number') {
      sys.close(fd);
      raiseErrno(map);
    }
    for (let i = 0; i < map.sqEntries; i++) map.sq[map.sqArray + i] = i; // SQ index i is SQE i, once and for all
    this.#fd = fd;
    this.#map = map;

    const slots = map.cqEntries;
    const sends = sendOpt ?? map.sqEntries;
    this.#slots = slots;
    this.#kind = new Uint8Array(slots);
    this.#slotUserData = new Float64Array(slots);
    this.#slotGroup = new Int32Array(slots).fill(-1);
    this.#slotSend = new Int32Array(slots).fill(-1);
    this.#slotBuffer = new Int32Array(slots).fill(-1);
    this.#gen = new Uint32Array(slots);
    this.#free = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.#free[i] = slots - 1 - i;
    this.#freeTop = slots;
    this.#byUserData = new UserDataIndex(slots);
    this.#sendSize = sendSize;
    this.#sendBase = HEAD + slots * SCRATCH;
    this.#sendFree = new Int32Array(sends);
    for (let i = 0; i < sends; i++) this.#sendFree[i] = sends - 1 - i;
    this.#sendTop = sends;
    this.#userData = new Float64Array(slots);
    this.#result = new Int32Array(slots);
    this.#flags = new Uint32Array(slots);
    try {
      this.#arena = new NativeMemory(this.#sendBase + sends * sendSize, 'the ring\'s scratch and send copies');
    } catch (err) {
      map.unmap();
      sys.close(fd);
      throw err;
    }
    sys.writeGeteventsArg(this.#arena.words, 0, this.#arena.address + ARG_TS_AT);
    this.#argBytes = this.#arena.bytes.subarray(0, sys.GETEVENTS_ARG_BYTES);
  }

  /** True once the ring is closed. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The ring fd (for diagnostics; iomux does not support sharing it). */
  fileno(): number {
    return this.#checkOpen();
  }

  /** Submission queue entries, as the kernel sized the ring. */
  get entries(): number {
    return this.#map.sqEntries;
  }

  /** Completion queue entries: also the most operations in flight at once. */
  get cqEntries(): number {
    return this.#map.cqEntries;
  }

  /** Operations prepared or in flight whose last completion has not been reaped. */
  get inFlight(): number {
    return this.#inFlight;
  }

  // --- provided buffers

  /**
   * Registers buffer group `group` (0…65535): `count` buffers (a power of two, ≤ 32768) of `size` bytes,
   * owned by the ring, which recv/read/recvmsg with `{ bufferGroup: group }` fill.
   */
  provideBuffers(group: number, count: number, size: number): void {
    const g = intArg(group, 'group');
    const c = intArg(count, 'count');
    const s = intArg(size, 'size');
    const fd = this.#checkOpen();
    if (g < 0 || g > 0xffff) throw new ValueError(`group must be between 0 and 65535 (got ${g})`);
    if (c < 1 || c > MAX_BUF_RING || (c & (c - 1)) !== 0) throw new ValueError(`count must be a power of two between 1 and ${MAX_BUF_RING} (got ${c})`);
    if (s < 1 || s > 0x7fffffff) throw new ValueError(`size must be between 1 and ${0x7fffffff} (got ${s})`);
    if (this.#groups.has(g)) throw new ValueError(`buffer group ${g} is already provided`);
    const bg = new BufferGroup(g, c, s);
    const r = sys.registerBufRing(fd, bg.ringAddress, c, g);
    if (r < 0) {
      bg.release();
      raiseErrno(r);
    }
    bg.provideAll();
    this.#groups.set(g, bg);
  }

  /** The first `length` bytes of buffer `id` of `group`, which a completion named and which is not recycled yet. */
  buffer(group: number, id: number, length: number): Buffer {
    return this.#group(group).view(id, length);
  }

  /** Gives buffer `id` of `group` back to the kernel; views of it may then change under the caller. */
  recycle(group: number, id: number): void {
    this.#checkOpen();
    this.#group(group).recycle(id);
  }

  #group(group: number): BufferGroup {
    const bg = this.#groups.get(group);
    if (bg === undefined) throw new ValueError(`buffer group ${describe(group)} is not provided`);
    return bg;
  }

  // --- operations: each converts its arguments, then takes a slot and an SQE, and allocates nothing.

  /** A no-op: completes with result 0 (iomux's addition, for tests and for waking a wait). */
  nop(userData: number): void {
    const ud = userDataArg(userData);
    this.#checkOpen();
    const slot = this.#take(NOP, ud);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = 0;
    this.#push(U!.op.NOP, 0, 0, -1, 0, 0, slot, 0);
  }

  /** accept(2) on listening socket `fd`: each completion's result is a new fd (close-on-exec) or -errno. */
  accept(fd: FileLike, userData: number, options?: { multishot?: boolean }): void {
    const n = asFileDescriptor(fd);
    const ud = userDataArg(userData);
    const multishot = flagOption(options, 'accept', 'multishot');
    this.#checkOpen();
    const slot = this.#take(ACCEPT, ud);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = 0;
    this.#push(U!.op.ACCEPT, 0, multishot ? U!.accept.MULTISHOT : 0, n, 0, sys.SOCK_CLOEXEC, slot, 0);
  }

  /** recv(2) into a buffer the kernel picks from `bufferGroup`: result bytes (0 at EOF) and bufferId(i). */
  recv(fd: FileLike, userData: number, options: UringRecvOptions): void {
    const n = asFileDescriptor(fd);
    const ud = userDataArg(userData);
    recvOptions('recv', options);
    const group = optGroup;
    const multishot = optMultishot;
    const flags = optFlags;
    this.#checkOpen();
    const bg = this.#group(group);
    const slot = this.#take(RECV, ud);
    this.#slotGroup[slot] = bg.group;
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = 0;
    this.#push(U!.op.RECV, U!.sqeFlags.BUFFER_SELECT, multishot ? U!.recv.MULTISHOT : 0, n, 0, flags, slot, bg.group);
  }

  /** read(2) at the current position (pipes, sockets, files) into a buffer from `bufferGroup`. */
  read(fd: FileLike, userData: number, options: UringRecvOptions): void {
    const n = asFileDescriptor(fd);
    const ud = userDataArg(userData);
    recvOptions('read', options);
    const group = optGroup;
    const multishot = optMultishot;
    this.#checkOpen();
    const bg = this.#group(group);
    const slot = this.#take(READ, ud);
    this.#slotGroup[slot] = bg.group;
    const op = multishot ? U!.op.READ_MULTISHOT : U!.op.READ;
    sys.sqeWide[0] = -1;
    sys.sqeWide[1] = 0;
    this.#push(op, U!.sqeFlags.BUFFER_SELECT, 0, n, 0, 0, slot, bg.group);
  }

  /**
   * recvmsg(2) into a buffer from `bufferGroup` (datagrams: one message per completion). The msghdr and the
   * address area are the ring's until the completion. Ancillary data is not received.
   */
  recvmsg(fd: FileLike, userData: number, options: UringRecvOptions): void {
    const n = asFileDescriptor(fd);
    const ud = userDataArg(userData);
    recvOptions('recvmsg', options);
    const group = optGroup;
    const flags = optFlags;
    this.#checkOpen();
    const bg = this.#group(group);
    const slot = this.#take(RECVMSG, ud);
    this.#slotGroup[slot] = bg.group;
    const at = HEAD + slot * SCRATCH;
    const base = this.#arena.address;
    sys.writeIovec(this.#arena.words, at + IOVEC_AT, 0, 0); // with a provided buffer the kernel fills in the iovec
    sys.writeMsghdr(this.#arena.words, at, base + at + NAME_AT, NAME_BYTES, base + at + IOVEC_AT, 0, 0);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = base + at;
    this.#push(U!.op.RECVMSG, U!.sqeFlags.BUFFER_SELECT, 0, n, 1, flags, slot, bg.group);
  }

  /**
   * send(2) of `data` (copied into the ring's memory first, so the caller may reuse or drop it at once): the
   * result is the bytes sent. At most `sendBufferSize` bytes go per call, as with a short send(2).
   */
  send(fd: FileLike, data: Uint8Array | ArrayBufferView | ArrayBuffer | string, userData: number, flags: number = 0): void {
    const n = asFileDescriptor(fd);
    const bytes = bytesArg(data);
    const ud = userDataArg(userData);
    const f = intArg(flags, 'flags');
    this.#checkOpen();
    const slot = this.#copyIn(SEND, ud, bytes);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = this.#arena.address + this.#copyAt;
    this.#push(U!.op.SEND, 0, 0, n, this.#copyLen, f | sys.SEND_NOSIGNAL, slot, 0);
  }

  /**
   * send(2) straight from `length` bytes at `offset` of provided buffer `id` of `group` — the caller's, named by a
   * completion — without a copy and without making a view (iomux's addition, for echo-like servers: the
   * allocation-free way to send what was received). The buffer cannot be recycled until this send's completion.
   */
  sendBuffer(fd: FileLike, group: number, id: number, offset: number, length: number, userData: number, flags: number = 0): void {
    const n = asFileDescriptor(fd);
    const ud = userDataArg(userData);
    const f = flags === 0 ? 0 : intArg(flags, 'flags');
    this.#checkOpen();
    const bg = this.#group(group);
    this.#reserveSqe();
    if (this.#freeTop === 0) this.#tooMany();
    const at = bg.lend(id, offset, length);
    const slot = this.#take(SEND_BUFFER, ud);
    this.#slotGroup[slot] = bg.group;
    this.#slotBuffer[slot] = id;
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = bg.memory.address + at;
    this.#push(U!.op.SEND, 0, 0, n, length, f | sys.SEND_NOSIGNAL, slot, 0);
  }

  /** write(2) of `data` at the current position (copied first, like send's). */
  write(fd: FileLike, data: Uint8Array | ArrayBufferView | ArrayBuffer | string, userData: number): void {
    const n = asFileDescriptor(fd);
    const bytes = bytesArg(data);
    const ud = userDataArg(userData);
    this.#checkOpen();
    const slot = this.#copyIn(WRITE, ud, bytes);
    sys.sqeWide[0] = -1;
    sys.sqeWide[1] = this.#arena.address + this.#copyAt;
    this.#push(U!.op.WRITE, 0, 0, n, this.#copyLen, 0, slot, 0);
  }

  /**
   * sendmsg(2) of the concatenation of `buffers` (copied first; one message, without ancillary data or
   * address). The iteration runs before anything is reserved, so caller code in it cannot disturb the ring.
   */
  sendmsg(fd: FileLike, buffers: Iterable<Uint8Array | ArrayBufferView | ArrayBuffer | string>, userData: number, flags: number = 0): void {
    const n = asFileDescriptor(fd);
    if (buffers === null || typeof (buffers as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`buffers must be an iterable of bytes (got ${describe(buffers)})`);
    }
    const parts: Buffer[] = [];
    for (const b of buffers) parts.push(Buffer.from(bytesArg(b, 'buffers item'))); // owned copies
    const data = Buffer.concat(parts);
    const ud = userDataArg(userData);
    const f = intArg(flags, 'flags');
    this.#checkOpen();
    const slot = this.#copyIn(SENDMSG, ud, data);
    const at = HEAD + slot * SCRATCH;
    const base = this.#arena.address;
    sys.writeIovec(this.#arena.words, at + IOVEC_AT, this.#arena.address + this.#copyAt, this.#copyLen);
    sys.writeMsghdr(this.#arena.words, at, 0, 0, base + at + IOVEC_AT, 0, 0);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = base + at;
    this.#push(U!.op.SENDMSG, 0, 0, n, 1, f | sys.SEND_NOSIGNAL, slot, 0);
  }

  /** poll(2) for `events` (POLLIN…) on `fd`: the result is the ready mask. Multishot: one completion per edge. */
  pollAdd(fd: FileLike, events: number, userData: number, options?: { multishot?: boolean }): void {
    const n = asFileDescriptor(fd);
    const mask = intArg(events, 'events') >>> 0;
    const ud = userDataArg(userData);
    const multishot = flagOption(options, 'pollAdd', 'multishot');
    this.#checkOpen();
    const slot = this.#take(POLL, ud);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = 0;
    this.#push(U!.op.POLL_ADD, 0, 0, n, multishot ? U!.poll.ADD_MULTI : 0, mask, slot, 0);
  }

  /** A timer of `ms` milliseconds (fractions count, to the nanosecond): completes with -ETIME when it fires. */
  timeout(ms: number, userData: number): void {
    if (typeof ms !== 'number') throw new TypeError(`ms must be a number (got ${describe(ms)})`);
    if (Number.isNaN(ms)) throw new ValueError('Invalid value NaN (not a number)');
    if (ms < 0) throw new ValueError('timeout must be non-negative');
    if (ms > 9.2e12) throw new ValueError(`timeout too large (${ms} ms)`);
    const ns = Math.ceil(ms * 1e6);
    const sec = Math.floor(ns / 1e9);
    const ud = userDataArg(userData);
    this.#checkOpen();
    const slot = this.#take(TIMEOUT, ud);
    const at = HEAD + slot * SCRATCH + TIMESPEC_AT;
    sys.writeKernelTimespec(this.#arena.words, at >>> 2, sec, ns - sec * 1e9);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = this.#arena.address + at;
    this.#push(U!.op.TIMEOUT, 0, 0, -1, 1, 0, slot, 0);
  }

  /**
   * Cancels every operation in flight whose userData is `userData`: each then completes (-ECANCELED, or its
   * result if it finished first). The cancel requests themselves report nothing.
   */
  cancel(userData: number): void {
    const ud = userDataArg(userData);
    this.#checkOpen();
    // Submitting on the way (a full queue) reaps nothing, so the chain is not changed under the walk.
    const index = this.#byUserData;
    for (let slot = index.first(ud); slot >= 0; slot = index.next(slot)) {
      this.#reserveSqe();
      this.#pushInternal(U!.op.ASYNC_CANCEL, -1, slot, 0);
    }
  }

  static {
    auditCancelTargets = (ring, userData) => {
      const indexed: number[] = [];
      for (let slot = ring.#byUserData.first(userData); slot >= 0; slot = ring.#byUserData.next(slot)) {
        if (indexed.length > ring.#slots) break; // a cycle: the comparison shows it
        indexed.push(slot);
      }
      const scanned: number[] = [];
      for (let slot = 0; slot < ring.#slots; slot++) {
        if (ring.#kind[slot] !== FREE && ring.#slotUserData[slot] === userData) scanned.push(slot);
      }
      return { indexed: indexed.sort((a, b) => a - b), scanned };
    };
  }

  /**
   * `close()` closes the ring: every operation in flight is cancelled and reaped first, then the ring's memory is
   * let go. `close(fd, userData)` prepares a close(2) of `fd` (the result is 0 or -errno).
   */
  close(): void;
  close(fd: FileLike, userData: number): void;
  close(...args: unknown[]): void {
    if (args.length === 0) {
      this.#closeRing();
      return;
    }
    const n = asFileDescriptor(args[0]);
    const ud = userDataArg(args[1]);
    this.#checkOpen();
    const slot = this.#take(CLOSE, ud);
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = 0;
    this.#push(U!.op.CLOSE, 0, 0, n, 0, 0, slot, 0);
  }

  [Symbol.dispose](): void {
    this.#closeRing();
  }

  // --- submitting and waiting

  /** Submits every prepared operation; returns how many the kernel took. */
  submit(): number {
    const fd = this.#checkOpen();
    return this.#submitPending(fd);
  }

  /**
   * Submits what is prepared and waits until at least `minComplete` completions are there or `timeout` seconds
   * passed (`null`/`undefined` or negative: no limit; rounded up to whole milliseconds, as Epoll.wait). Returns
   * the number of completions read into this object, which `userData(i)`, `result(i)`, `flags(i)`,
   * `hasMore(i)` and `bufferId(i)` then read until the next wait. An interrupted wait resumes (PEP 475).
   */
  wait(minComplete: number = 1, timeout?: number | null): number {
    const min = (minComplete | 0) === minComplete && minComplete >= 0 && minComplete <= this.#slots ? minComplete : this.#minArg(minComplete);
    const ms = epollTimeoutMs(timeout);
    const fd = this.#checkOpen();
    this.#count = 0;
    const deadline = ms > 0 ? monotonicMs() + ms : 0;
    let n = this.#reap(false);
    for (;;) {
      const toSubmit = this.#publish();
      if (n >= min && toSubmit === 0 && n > 0) return n;
      let flags = U!.enter.GETEVENTS;
      let arg: Uint8Array | null = null;
      let want = n >= min ? 0 : min - n;
      if (ms === 0) want = 0;
      else if (ms > 0 && want > 0) {
        const left = deadline - monotonicMs();
        if (left <= 0) want = 0;
        else {
          const ns = Math.ceil(left * 1e6);
          const sec = Math.floor(ns / 1e9);
          sys.writeKernelTimespec(this.#arena.words, ARG_TS_AT >>> 2, sec, ns - sec * 1e9);
          flags |= U!.enter.EXT_ARG;
          arg = this.#argBytes;
        }
      }
      const r = sys.uringEnter(fd, toSubmit, want, flags, arg, arg === null ? 0 : sys.GETEVENTS_ARG_BYTES);
      if (r < 0 && r !== -EINTR && r !== -ETIME && r !== -EBUSY && r !== -EAGAIN) raiseErrno(r);
      const got = this.#reap(false);
      n += got;
      // A full batch of deferred task work: more completions may be queued in the kernel. One more call that
      // does not wait runs them all (it asks for as many as there is room for) instead of one call per batch.
      if (got >= LOCAL_TASK_WORK_BATCH && n < this.#slots) n += this.#drain(fd, this.#slots - n);
      if (n >= min || want === 0 || r === -ETIME) return n;
    }
  }

  /** Runs the kernel's deferred completions without waiting (up to `room` of them) and reaps them. */
  #drain(fd: number, room: number): number {
    sys.writeKernelTimespec(this.#arena.words, ARG_TS_AT >>> 2, 0, 0);
    sys.uringEnter(fd, 0, room, U!.enter.GETEVENTS | U!.enter.EXT_ARG, this.#argBytes, sys.GETEVENTS_ARG_BYTES);
    return this.#reap(false);
  }

  #minArg(value: number): number {
    const v = intArg(value, 'minComplete');
    if (v < 0 || v > this.#slots) throw new ValueError(`minComplete must be between 0 and ${this.#slots} (got ${v})`);
    return v;
  }

  /** The userData of completion `i` of the last wait. */
  userData(i: number): number {
    this.#checkIndex(i);
    return this.#userData[i]!;
  }

  /** Completion `i`'s result: a count (bytes, an fd, a poll mask) or -errno. */
  result(i: number): number {
    this.#checkIndex(i);
    return this.#result[i]!;
  }

  /** Completion `i`'s IORING_CQE_F_* flags. */
  flags(i: number): number {
    this.#checkIndex(i);
    return this.#flags[i]!;
  }

  /** Whether the operation of completion `i` stays armed (a multishot one that will complete again). */
  hasMore(i: number): boolean {
    this.#checkIndex(i);
    return (this.#flags[i]! & CQE_F_MORE) !== 0;
  }

  /** The provided buffer completion `i` filled, or -1. */
  bufferId(i: number): number {
    this.#checkIndex(i);
    const f = this.#flags[i]!;
    return (f & CQE_F_BUFFER) !== 0 ? f >>> BUFFER_SHIFT : -1;
  }

  // --- internals

  #checkIndex(i: number): void {
    if (!((i | 0) === i && i >= 0 && i < this.#count)) {
      throw new RangeError(`completion index ${String(i)} is out of range (last wait returned ${this.#count})`);
    }
  }

  #checkOpen(): number {
    if (this.#fd < 0 || this.#closing) throw new ValueError('I/O operation on closed io_uring object');
    return this.#fd;
  }

  /** A free operation slot for an operation of `kind`, after making room for its SQE. */
  #take(kind: number, ud: number): number {
    this.#reserveSqe();
    if (this.#freeTop === 0) this.#tooMany();
    const slot = this.#free[--this.#freeTop]!;
    this.#gen[slot] = (this.#gen[slot]! + 1) & 0x3fffffff; // a small integer: never boxed
    this.#kind[slot] = kind;
    this.#slotUserData[slot] = ud;
    this.#byUserData.add(slot, ud);
    this.#inFlight++;
    return slot;
  }

  #tooMany(): never {
    throw new BlockingIOError(EAGAIN, `too many operations in flight (${this.#slots}, the completion queue's size): wait for completions first`);
  }

  /** A slot and a send copy of (the first sendBufferSize bytes of) `bytes`; the copy's address and length in #copyAddr/#copyLen. */
  #copyIn(kind: number, ud: number, bytes: Uint8Array): number {
    if (this.#sendTop === 0) {
      throw new BlockingIOError(EAGAIN, `all ${this.#sendFree.length} send buffers are in flight: wait for completions first`);
    }
    const slot = this.#take(kind, ud);
    const chunk = this.#sendFree[--this.#sendTop]!;
    this.#slotSend[slot] = chunk;
    const at = this.#sendBase + chunk * this.#sendSize;
    const len = Math.min(bytes.length, this.#sendSize);
    this.#arena.bytes.set(len === bytes.length ? bytes : bytes.subarray(0, len), at);
    this.#copyLen = len;
    this.#copyAt = at;
    return slot;
  }

  #release(slot: number): void {
    const chunk = this.#slotSend[slot]!;
    if (chunk >= 0) {
      this.#sendFree[this.#sendTop++] = chunk;
      this.#slotSend[slot] = -1;
    }
    const lent = this.#slotBuffer[slot]!;
    if (lent >= 0) {
      this.#groups.get(this.#slotGroup[slot]!)?.unlend(lent);
      this.#slotBuffer[slot] = -1;
    }
    this.#byUserData.remove(slot, this.#slotUserData[slot]!);
    this.#kind[slot] = FREE;
    this.#slotGroup[slot] = -1;
    this.#free[this.#freeTop++] = slot;
    this.#inFlight--;
  }

  /** Room for one more SQE: a full queue is submitted first. */
  #reserveSqe(): void {
    const map = this.#map;
    if (this.#sqTail - Atomics.load(map.sq, map.sqHead) < map.sqEntries) return;
    this.#submitPending(this.#fd);
    if (((this.#sqTail - Atomics.load(map.sq, map.sqHead)) >>> 0) >= map.sqEntries) {
      throw new BlockingIOError(EAGAIN, 'the submission queue is full and the kernel takes no more now: wait for completions first');
    }
  }

  /** Writes the next SQE; its off and addr are already in sys.sqeWide (see there why). */
  #push(opcode: number, sqeFlags: number, ioprio: number, fd: number, len: number, opFlags: number, slot: number, group: number): void {
    const map = this.#map;
    sys.writeSqe(map.sqes, this.#sqTail & map.sqMask, opcode, sqeFlags, ioprio, fd, len, opFlags, slot, this.#gen[slot]!, group);
    this.#sqTail = (this.#sqTail + 1) >>> 0;
  }

  /** An SQE of the ring's own (a cancel): its completion is dropped. `target` is the slot to cancel, or -1 for all. */
  #pushInternal(opcode: number, fd: number, target: number, cancelFlags: number): void {
    const map = this.#map;
    // ASYNC_CANCEL matches the user_data in addr: the target slot's, generation included.
    sys.sqeWide[0] = 0;
    sys.sqeWide[1] = target < 0 ? 0 : target + this.#gen[target]! * 0x100000000;
    sys.writeSqe(map.sqes, this.#sqTail & map.sqMask, opcode, 0, 0, fd, 0, cancelFlags, 0, INTERNAL, 0);
    this.#sqTail = (this.#sqTail + 1) >>> 0;
  }

  /** Makes the prepared SQEs visible to the kernel; returns how many it has not consumed yet. */
  #publish(): number {
    const map = this.#map;
    if (this.#published !== this.#sqTail) {
      Atomics.store(map.sq, map.sqTail, this.#sqTail);
      this.#published = this.#sqTail;
    }
    return (this.#sqTail - Atomics.load(map.sq, map.sqHead)) >>> 0;
  }

  #submitPending(fd: number): number {
    let total = 0;
    for (;;) {
      const toSubmit = this.#publish();
      if (toSubmit === 0) return total;
      const r = sys.uringEnter(fd, toSubmit, 0, 0, null, 0);
      if (r === -EINTR) continue;
      if (r === -EBUSY || r === -EAGAIN) return total; // the kernel wants completions reaped first
      if (r < 0) raiseErrno(r);
      total += r;
      if (r === 0) return total;
    }
  }

  /**
   * Copies the completions the kernel posted into this object's arrays (up to their room) and frees what
   * finished operations held. While closing, nothing is kept and accepted fds no one will see are closed.
   */
  #reap(closing: boolean): number {
    const map = this.#map;
    const cq = map.cq;
    const tail = Atomics.load(cq, map.cqTail);
    let head = cq[map.cqHead]!;
    let n = this.#count;
    while (head !== tail && n < this.#slots) {
      const w = sys.cqeWord(map, head);
      head = (head + 1) >>> 0;
      const gen = cq[w + CQE_USER_DATA_HIGH]!;
      if (gen === INTERNAL) continue;
      const slot = cq[w + CQE_USER_DATA_LOW]!;
      const res = map.cqSigned[w + CQE_RES]!;
      const flags = cq[w + CQE_FLAGS]!;
      if (slot >= this.#slots || this.#kind[slot] === FREE || gen !== this.#gen[slot]) continue; // cannot happen: a slot's last CQE frees it
      const kind = this.#kind[slot]!;
      if ((flags & CQE_F_BUFFER) !== 0) this.#groups.get(this.#slotGroup[slot]!)?.taken(flags >>> BUFFER_SHIFT);
      if (closing) {
        if (kind === ACCEPT && res >= 0) sys.close(res);
      } else {
        this.#userData[n] = this.#slotUserData[slot]!;
        this.#result[n] = res;
        this.#flags[n] = flags;
        n++;
      }
      if ((flags & CQE_F_MORE) === 0) this.#release(slot);
    }
    Atomics.store(cq, map.cqHead, head);
    const added = n - this.#count;
    this.#count = n;
    return added;
  }

  /**
   * Closes the ring: submits what is prepared, cancels everything, and reaps until no operation is in flight;
   * only then unregisters the buffer groups, closes the fd and lets the memory go. An operation the kernel
   * still holds after CLOSE_PATIENCE_MS keeps its memory alive for the life of the process (never freed under
   * the kernel), with a warning.
   */
  #closeRing(): void {
    const fd = this.#fd;
    if (fd < 0 || this.#closing) return;
    this.#closing = true;
    const deadline = monotonicMs() + CLOSE_PATIENCE_MS;
    this.#count = 0;
    try {
      this.#submitPending(fd);
    } catch {
      // what the kernel refused is not in flight; what it took is cancelled below
    }
    let cancelAt = 0;
    while (this.#inFlight > 0 && monotonicMs() < deadline) {
      const now = monotonicMs();
      if (now >= cancelAt) {
        // IORING_ASYNC_CANCEL_ANY | ALL: every request of this ring. Repeated, for requests armed meanwhile.
        if (((this.#sqTail - Atomics.load(this.#map.sq, this.#map.sqHead)) >>> 0) < this.#map.sqEntries) {
          this.#pushInternal(U!.op.ASYNC_CANCEL, -1, -1, U!.cancel.ANY | U!.cancel.ALL);
        }
        cancelAt = now + 100;
      }
      const toSubmit = this.#publish();
      sys.writeKernelTimespec(this.#arena.words, ARG_TS_AT >>> 2, 0, 20e6);
      // Ask for every completion still owed: with DEFER_TASKRUN the kernel posts about as many per call as asked
      // for, and asking for 1 left 10,000 cancelled polls trickling out for longer than the patience.
      sys.uringEnter(fd, toSubmit, Math.min(this.#inFlight, this.#map.cqEntries), U!.enter.GETEVENTS | U!.enter.EXT_ARG, this.#argBytes, sys.GETEVENTS_ARG_BYTES);
      this.#count = 0;
      this.#reap(true);
    }
    this.#count = 0;
    const clean = this.#inFlight === 0;
    for (const bg of this.#groups.values()) {
      if (clean) sys.unregisterBufRing(fd, bg.group);
    }
    this.#fd = -1;
    sys.close(fd);
    this.#map.unmap();
    if (clean) {
      for (const bg of this.#groups.values()) bg.release();
      this.#arena.release();
    } else {
      process.emitWarning(`iomux: io_uring closed with ${this.#inFlight} operation(s) the kernel did not give back; their memory is kept`);
    }
  }
}

function osError(errno: number, reason: string): OSError {
  const Cls = OSError.fromErrno(errno).constructor as new (e: number, m: string) => OSError;
  return new Cls(errno, reason);
}

/** A caller's userData: any safe integer. */
function userDataArg(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new TypeError(`userData must be a safe integer (got ${describe(value)})`);
}

const MULTISHOT_OPTION = new Set(['multishot']);

function flagOption(options: unknown, fn: string, name: 'multishot'): boolean {
  if (options === undefined) return false;
  checkOptionNames(fn, options, MULTISHOT_OPTION);
  const v = (options as Record<string, unknown>)[name];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean (got ${describe(v)})`);
  return v;
}

const RECV_OPTIONS = new Set(['bufferGroup', 'multishot', 'flags']);

// recvOptions' results, read straight after the call: no object per operation.
let optGroup = 0;
let optMultishot = false;
let optFlags = 0;

function recvOptions(fn: string, options: unknown): void {
  if (options === undefined) throw new TypeError(`${fn}() needs options with a bufferGroup`);
  checkOptionNames(fn, options, RECV_OPTIONS);
  const o = options as Record<string, unknown>;
  // Each property is read once: a getter runs once and its value is what is used.
  const groupValue = o.bufferGroup;
  const multishotValue = o.multishot;
  const flagsValue = o.flags;
  if (groupValue === undefined) throw new TypeError(`${fn}() needs options.bufferGroup`);
  const group = intArg(groupValue, 'bufferGroup');
  if (multishotValue !== undefined && typeof multishotValue !== 'boolean') {
    throw new TypeError(`multishot must be a boolean (got ${describe(multishotValue)})`);
  }
  const flags = flagsValue === undefined ? 0 : intArg(flagsValue, 'flags');
  optGroup = group;
  optMultishot = multishotValue === true;
  optFlags = flags;
}

