/**
 * io_uring (Linux): the system calls, the ring mappings and where each field of the shared structures sits.
 * The rings are read and written through typed arrays over the kernel's mappings: 32-bit words for the
 * fields, Atomics.load/store for the heads and tails the kernel reads and writes concurrently (acquire/release
 * order on x86_64 and AArch64). Above this file the ring is portable TypeScript (src/uring/); here every value
 * is the kernel's. Elsewhere than Linux every call fails with ENOSYS and `hasUringNative` is false.
 */
import { abi, koffi, natives } from './lib.js';
import { putWords64 } from './bytes.js';
import type { UringAbi } from './linux/uring-abi.js';

const uring = natives.uring;
const ENOSYS = abi.errno.ENOSYS!;

/** Whether this platform has io_uring's calls at all (Linux). */
export const hasUringNative = uring !== null;
/** The kernel's io_uring values (opcodes, flags, limits), or null where there is no io_uring. */
export const URING: UringAbi | null = hasUringNative ? uring!.abi : null;

const A = uring?.abi;

if (A !== undefined) {
  // Cross-check the table against koffi's view of the C declarations (the same check test/uring-abi does).
  const sqe = koffi.struct({
    opcode: 'uint8_t', flags: 'uint8_t', ioprio: 'uint16_t', fd: 'int32_t', off: 'uint64_t', addr: 'uint64_t',
    len: 'uint32_t', opFlags: 'uint32_t', userData: 'uint64_t', bufGroup: 'uint16_t', personality: 'uint16_t',
    fileIndex: 'uint32_t', addr3: 'uint64_t', pad2: 'uint64_t',
  });
  if (koffi.sizeof(sqe) !== A.sqe.bytes || koffi.offsetof(sqe, 'userData') !== A.sqe.userData || koffi.offsetof(sqe, 'addr3') !== A.sqe.addr3) {
    throw new Error(`iomux: unexpected struct io_uring_sqe layout on ${abi.platform}/${abi.arch}`);
  }
}

function table(): UringAbi {
  if (A === undefined) throw new Error('iomux: io_uring is Linux only');
  return A;
}

// --- the system calls

/**
 * io_uring_setup(2) with `flags` (IORING_SETUP_*) and, when `cqEntries` > 0, IORING_SETUP_CQSIZE. `params`
 * (PARAMS_BYTES) receives the kernel's answer. Returns the ring fd (close-on-exec) or -errno.
 */
export function uringSetup(entries: number, cqEntries: number, flags: number, params: Uint8Array): number {
  if (!hasUringNative) return -ENOSYS;
  const t = table();
  params.fill(0);
  const words = new Uint32Array(params.buffer, params.byteOffset, t.params.bytes >>> 2);
  words[t.params.flags >>> 2] = flags | (cqEntries > 0 ? t.setup.CQSIZE : 0);
  words[t.params.cqEntries >>> 2] = cqEntries;
  return uring!.setup(entries, params);
}

/** Bytes of struct io_uring_params. */
export const URING_PARAMS_BYTES = A?.params.bytes ?? 120;

/** What io_uring_setup wrote back: the sizes the kernel chose and its feature bits. */
export function uringParamsInfo(params: Uint8Array): { sqEntries: number; cqEntries: number; features: number; flags: number } {
  const t = table().params;
  const words = new Uint32Array(params.buffer, params.byteOffset, t.bytes >>> 2);
  return { sqEntries: words[t.sqEntries >>> 2]!, cqEntries: words[t.cqEntries >>> 2]!, features: words[t.features >>> 2]!, flags: words[t.flags >>> 2]! };
}

/**
 * io_uring_enter(2). `arg` holds a struct io_uring_getevents_arg (with IORING_ENTER_EXT_ARG; memory that does
 * not move, as its `ts` points into it) or is null. Returns the number of SQEs submitted (or the wait's result
 * when none were) or -errno.
 */
export function uringEnter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: Uint8Array | null, argBytes: number): number {
  return uring === null ? -ENOSYS : uring.enter(fd, toSubmit, minComplete, flags, arg, argBytes);
}

/** /proc/sys/kernel/io_uring_disabled, or null where the kernel has no such switch (or not Linux). */
export function uringDisabledSysctl(): number | null {
  return uring === null ? null : uring.disabledSysctl();
}

/** The address of the first byte of `bytes`, whose memory must never move (a WebAssembly.Memory's). */
export function addressOf(bytes: Uint8Array): number {
  if (uring === null) throw new Error('iomux: io_uring is Linux only');
  return uring.addressOf(bytes);
}

// --- the mappings

/** The three regions io_uring_setup created, mapped, as typed arrays and the word indexes of their fields. */
export interface RingMap {
  sqEntries: number; sqMask: number;
  cqEntries: number; cqMask: number;
  /** The SQ ring as 32-bit words, and where its head, tail, flags and index array sit in it. */
  sq: Uint32Array; sqHead: number; sqTail: number; sqFlags: number; sqArray: number;
  /** The CQ ring as unsigned and signed words (the result is signed), and its head, tail and first CQE. */
  cq: Uint32Array; cqSigned: Int32Array; cqHead: number; cqTail: number; cqes: number;
  /** The SQE array as 32-bit words. */
  sqes: Uint32Array;
  /** Unmaps the regions (once; the views must not be read after). */
  unmap(): void;
}

/** Maps the rings of `fd` as `params` describes them. Returns the map or -errno (nothing left mapped). */
export function uringMapRings(fd: number, params: Uint8Array): RingMap | number {
  if (uring === null) return -ENOSYS;
  const t = table();
  const w = new Uint32Array(params.buffer, params.byteOffset, t.params.bytes >>> 2);
  const sq = (field: number): number => w[(t.params.sqOff + field) >>> 2]!;
  const cq = (field: number): number => w[(t.params.cqOff + field) >>> 2]!;
  const sqEntries = w[t.params.sqEntries >>> 2]!;
  const cqEntries = w[t.params.cqEntries >>> 2]!;
  const features = w[t.params.features >>> 2]!;
  const sqBytes = sq(t.sqOff.array) + sqEntries * 4;
  const cqBytes = cq(t.cqOff.cqes) + cqEntries * t.cqe.bytes;
  // With IORING_FEAT_SINGLE_MMAP (5.4+) one mapping holds both rings.
  const single = (features & t.feat.SINGLE_MMAP) !== 0;
  const unmaps: Array<() => void> = [];
  const undo = (): void => {
    for (const u of unmaps) u();
  };
  const sqMap = uring.mapRing(fd, t.mmapOffsets.SQ_RING, single ? Math.max(sqBytes, cqBytes) : sqBytes);
  if (typeof sqMap === 'number') return sqMap;
  unmaps.push(sqMap.unmap);
  let cqMemory = sqMap.memory;
  if (!single) {
    const cqMap = uring.mapRing(fd, t.mmapOffsets.CQ_RING, cqBytes);
    if (typeof cqMap === 'number') return (undo(), cqMap);
    unmaps.push(cqMap.unmap);
    cqMemory = cqMap.memory;
  }
  const sqesMap = uring.mapRing(fd, t.mmapOffsets.SQES, sqEntries * t.sqe.bytes);
  if (typeof sqesMap === 'number') return (undo(), sqesMap);
  unmaps.push(sqesMap.unmap);
  const sqWords = new Uint32Array(sqMap.memory);
  const cqWords = new Uint32Array(cqMemory);
  return {
    sqEntries, sqMask: sqWords[sq(t.sqOff.ringMask) >>> 2]!,
    cqEntries, cqMask: cqWords[cq(t.cqOff.ringMask) >>> 2]!,
    sq: sqWords, sqHead: sq(t.sqOff.head) >>> 2, sqTail: sq(t.sqOff.tail) >>> 2, sqFlags: sq(t.sqOff.flags) >>> 2,
    sqArray: sq(t.sqOff.array) >>> 2,
    cq: cqWords, cqSigned: new Int32Array(cqMemory), cqHead: cq(t.cqOff.head) >>> 2, cqTail: cq(t.cqOff.tail) >>> 2,
    cqes: cq(t.cqOff.cqes) >>> 2,
    sqes: new Uint32Array(sqesMap.memory),
    unmap: undo,
  };
}

// --- submission entries: 16 words each. Unused fields are written as 0 every time, so no earlier entry leaks in.

const SQE_WORDS = 16;

/**
 * The two 64-bit fields of the next writeSqe: [off, addr], each a non-negative integer below 2**53 or -1 for
 * "all ones" (the current file position). Passed through this cell rather than as arguments because a
 * double argument of a call the JIT does not inline is boxed: one heap number per operation.
 */
export const sqeWide = new Float64Array(2);

/** Fills SQE `index`; its off and addr come from `sqeWide`. `udLow`/`udHigh` are the halves of user_data. */
export function writeSqe(
  sqes: Uint32Array, index: number, opcode: number, flags: number, ioprio: number, fd: number,
  len: number, opFlags: number, udLow: number, udHigh: number, bufGroup: number,
): void {
  const at = index * SQE_WORDS;
  sqes[at] = opcode | (flags << 8) | (ioprio << 16);
  sqes[at + 1] = fd;
  putWords64(sqes, at + 2, sqeWide[0]!);
  putWords64(sqes, at + 4, sqeWide[1]!);
  sqes[at + 6] = len;
  sqes[at + 7] = opFlags;
  sqes[at + 8] = udLow;
  sqes[at + 9] = udHigh;
  sqes[at + 10] = bufGroup & 0xffff;
  sqes[at + 11] = 0;
  sqes[at + 12] = 0;
  sqes[at + 13] = 0;
  sqes[at + 14] = 0;
  sqes[at + 15] = 0;
}

// --- completion entries: struct io_uring_cqe as 32-bit words, from its layout in the table.

const CQE_WORDS = (A?.cqe.bytes ?? 16) >>> 2;
/** Where user_data's low half sits in a CQE (little-endian: the low word first); ring.ts puts a slot there. */
export const CQE_USER_DATA_LOW = (A?.cqe.userData ?? 0) >>> 2;
/** user_data's high half: ring.ts puts the slot's generation there. */
export const CQE_USER_DATA_HIGH = CQE_USER_DATA_LOW + 1;
/** The signed result (read through RingMap.cqSigned). */
export const CQE_RES = (A?.cqe.res ?? 8) >>> 2;
/** The IORING_CQE_F_* flags, the buffer id in their high 16 bits. */
export const CQE_FLAGS = (A?.cqe.flags ?? 12) >>> 2;

/** Word index of CQE number `n` (a free-running head value) in the CQ ring; add a CQE_* offset to read a field. */
export function cqeWord(map: RingMap, n: number): number {
  return map.cqes + (n & map.cqMask) * CQE_WORDS;
}

// --- provided-buffer rings: struct io_uring_buf entries, the tail in entry 0's last 16 bits.

/** Bytes of a buffer ring of `entries` (a power of two). */
export function bufRingBytes(entries: number): number {
  return entries * (A?.buf.bytes ?? 16);
}

/**
 * Writes entry `slot` of a buffer ring (as words) to hand buffer `bid` of `len` bytes to the kernel; its address is
 * `addresses[bid]` (read from the array, not passed: a double argument would be boxed on every recycle).
 */
export function bufRingPut(ring: Uint32Array, ring16: Uint16Array, slot: number, addresses: Float64Array, len: number, bid: number): void {
  const at = slot * 4;
  putWords64(ring, at, addresses[bid]!);
  ring[at + 2] = len;
  // bid is a u16 of its own: the u16 after it is resv, or in entry 0 the tail the kernel reads.
  ring16[slot * 8 + 6] = bid;
}

/** Publishes a buffer ring's new tail (release order: the entries are visible to the kernel first). */
export function bufRingPublish(ring16: Uint16Array, tail: number): void {
  Atomics.store(ring16, 7, tail & 0xffff);
}

/** IORING_REGISTER_PBUF_RING for group `bgid`: `entries` records at `addr` (page aligned). 0 or -errno. */
export function registerBufRing(fd: number, addr: number, entries: number, bgid: number): number {
  if (uring === null) return -ENOSYS;
  const t = table();
  const reg = new Uint8Array(t.bufReg.bytes);
  const w = new Uint32Array(reg.buffer);
  putWords64(w, t.bufReg.ringAddr >>> 2, addr);
  w[t.bufReg.ringEntries >>> 2] = entries;
  w[t.bufReg.bgid >>> 2] = bgid & 0xffff; // bgid u16, flags u16 = 0
  return uring.register(fd, t.register.PBUF_RING, reg, 1);
}

/** IORING_UNREGISTER_PBUF_RING for group `bgid`. 0 or -errno. */
export function unregisterBufRing(fd: number, bgid: number): number {
  if (uring === null) return -ENOSYS;
  const t = table();
  const reg = new Uint8Array(t.bufReg.bytes);
  new Uint32Array(reg.buffer)[t.bufReg.bgid >>> 2] = bgid & 0xffff;
  return uring.register(fd, t.register.UNREGISTER_PBUF_RING, reg, 1);
}

// --- io_uring_enter's extended argument and timespecs, written into memory the caller owns.

/** Writes a struct io_uring_getevents_arg at word `at` whose timeout is the timespec at address `tsAddr` (0: none). */
export function writeGeteventsArg(words: Uint32Array, at: number, tsAddr: number): void {
  words[at] = 0;
  words[at + 1] = 0; // sigmask: none
  words[at + 2] = 8; // sigmask_sz: the kernel's sigset size, checked only with a sigmask
  words[at + 3] = 0; // min_wait_usec
  putWords64(words, at + 4, tsAddr);
}

/** Bytes of struct io_uring_getevents_arg. */
export const GETEVENTS_ARG_BYTES = A?.geteventsArg.bytes ?? 24;

/** Writes a struct __kernel_timespec of `sec` seconds and `nsec` (< 1e9) nanoseconds at word `at`. */
export function writeKernelTimespec(words: Uint32Array, at: number, sec: number, nsec: number): void {
  putWords64(words, at, sec);
  putWords64(words, at + 2, nsec);
}

// --- struct msghdr / iovec for sendmsg and recvmsg (the platform's layout, as the socket module uses it).

const MSG = abi.layout.msg;

/** Writes a struct msghdr at byte `at` (8-aligned) of `words` with one iovec at `iovAddr`, name and control areas. */
export function writeMsghdr(
  words: Uint32Array, at: number, nameAddr: number, nameLen: number, iovAddr: number, controlAddr: number, controlLen: number,
): void {
  const w = at >>> 2;
  for (let i = 0; i < MSG.msghdrBytes >>> 2; i++) words[w + i] = 0;
  putWords64(words, w + (MSG.nameAt >>> 2), nameAddr);
  words[w + (MSG.namelenAt >>> 2)] = nameLen;
  putWords64(words, w + (MSG.iovAt >>> 2), iovAddr);
  putWords64(words, w + (MSG.iovlenAt >>> 2), 1);
  putWords64(words, w + (MSG.controlAt >>> 2), controlAddr);
  putWords64(words, w + (MSG.controllenAt >>> 2), controlLen);
}

/** Writes a struct iovec at byte `at` (8-aligned). */
export function writeIovec(words: Uint32Array, at: number, base: number, len: number): void {
  putWords64(words, (at + MSG.iovBaseAt) >>> 2, base);
  putWords64(words, (at + MSG.iovLenAt) >>> 2, len);
}
