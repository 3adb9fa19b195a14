/**
 * select(2), poll(2) and epoll(7): the native calls and the struct layouts they read and write. Callers
 * own the buffers (so a wait loop can reuse them); this module only knows where each field lives.
 */
import { abi, koffi, libc, natives } from './lib.js';
import { orErrno } from './errno.js';
import { FD_SETSIZE } from './constants.js';
import { getI32, getU16, putInt, putU16, putU32 } from './bytes.js';

const { fdSet, timeval, pollfd } = abi.layout;

type Bytes = Uint8Array;

// --- select(2): fd_set is a bitmap of FD_SETSIZE bits in words; timeval is { time_t sec; suseconds_t usec }.

/** Bytes in one fd_set (128 for 1024 fds). */
export const FD_SET_BYTES = FD_SETSIZE / 8;
if (fdSet.bytes !== FD_SET_BYTES) throw new Error(`iomux: fd_set of ${fdSet.bytes} bytes for FD_SETSIZE ${FD_SETSIZE}`);
/** Bytes in a struct timeval. */
export const TIMEVAL_BYTES = timeval.bytes;

const selectNative = libc.func('int select(int, void *, void *, void *, void *)') as (
  nfds: number, r: Bytes | null, w: Bytes | null, x: Bytes | null, tv: Bytes | null,
) => number;

/**
 * select(2) over three fd_set buffers of FD_SET_BYTES each (null for an empty set) and a timeval buffer
 * (null blocks). Returns the number of ready fds, or -errno.
 */
export function select(nfds: number, r: Bytes | null, w: Bytes | null, x: Bytes | null, tv: Bytes | null): number {
  return orErrno(selectNative(nfds, r, w, x, tv));
}

// The bitmap is an array of native words (long on Linux and FreeBSD, int32 on macOS); little-endian, so bit
// `fd` is bit (fd & 7) of byte (fd >> 3) whatever the word size.

export function fdSetAdd(set: Bytes, fd: number): void {
  set[fd >> 3]! |= 1 << (fd & 7);
}

export function fdSetHas(set: Bytes, fd: number): boolean {
  return (set[fd >> 3]! & (1 << (fd & 7))) !== 0;
}

/** Writes a timeval of `usec` (a non-negative integer) microseconds into `tv`. */
export function writeTimeval(tv: Bytes, usec: number): void {
  const sec = Math.floor(usec / 1e6);
  putInt(tv, 0, timeval.secBytes, sec);
  putInt(tv, timeval.usecAt, timeval.usecBytes, usec - sec * 1e6);
}

// --- poll(2): struct pollfd { int fd; short events; short revents; } is 8 bytes everywhere.

export const POLLFD_BYTES = pollfd.bytes;
const POLLFD_FD = pollfd.fd;
const POLLFD_EVENTS = pollfd.events;
const POLLFD_REVENTS = pollfd.revents;

const pollNative = libc.func('int poll(void *, unsigned long, int)') as (fds: Bytes | null, n: number, ms: number) => number;

/** poll(2) over `n` pollfd records in `fds`. Returns the number of records with revents set, or -errno. */
export function poll(fds: Bytes | null, n: number, timeoutMs: number): number {
  return orErrno(pollNative(fds, n, timeoutMs));
}

// --- epoll(7), where the kernel has it: struct epoll_event { uint32_t events; epoll_data_t data; }, packed on
// x86_64 only. Elsewhere every epoll call fails with ENOSYS (and the record size is the unpacked one).

const epollLayout = abi.layout.epollEvent;
const epoll = natives.epoll;
export const EPOLL_EVENT_BYTES = epollLayout?.bytes ?? 16;
const EPOLL_EVENT_EVENTS = epollLayout?.events ?? 0;
const EPOLL_EVENT_DATA = epollLayout?.data ?? 8;
const ENOSYS = abi.errno.ENOSYS!;

if (epollLayout !== null) {
  // Cross-check the table's offsets against koffi's own view of the C ABI.
  const packed = epollLayout.bytes === 12;
  const layout = packed ? koffi.pack({ events: 'uint32_t', data: 'uint64_t' }) : koffi.struct({ events: 'uint32_t', data: 'uint64_t' });
  if (koffi.sizeof(layout) !== EPOLL_EVENT_BYTES || koffi.offsetof(layout, 'data') !== EPOLL_EVENT_DATA) {
    throw new Error(`iomux: unexpected struct epoll_event layout on ${abi.platform}/${abi.arch}`);
  }
}

export function epollCreate1(flags: number): number {
  return epoll === null ? -ENOSYS : epoll.create1(flags);
}

const ctlEvent = Buffer.alloc(EPOLL_EVENT_BYTES);

/** epoll_ctl(2). The event's 64-bit data holds `fd` (its high half 0): what the readers below give back. */
export function epollCtl(epfd: number, op: number, fd: number, events: number): number {
  putU32(ctlEvent, EPOLL_EVENT_EVENTS, events);
  putU32(ctlEvent, EPOLL_EVENT_DATA, fd);
  putU32(ctlEvent, EPOLL_EVENT_DATA + 4, 0);
  return epoll === null ? -ENOSYS : epoll.ctl(epfd, op, fd, ctlEvent);
}

/** epoll_wait(2) into `events`, room for `maxevents` records. Returns the count, or -errno. */
export function epollWait(epfd: number, events: Bytes, maxevents: number, timeoutMs: number): number {
  return epoll === null ? -ENOSYS : epoll.wait(epfd, events, maxevents, timeoutMs);
}

/** Allocates an event buffer with room for `maxevents` records (its own memory, so 4-byte aligned). */
export function allocEpollEvents(maxevents: number): Buffer {
  return Buffer.alloc(maxevents * EPOLL_EVENT_BYTES);
}

// Every field of struct epoll_event sits at a multiple of 4 bytes (packed or not), so records are read as
// 32-bit words: one typed-array load per field, which the JIT inlines into an event loop.
const EPOLL_EVENT_WORDS = EPOLL_EVENT_BYTES / 4;
const EVENTS_WORD = EPOLL_EVENT_EVENTS / 4;
const DATA_LOW_WORD = EPOLL_EVENT_DATA / 4;

/** The 32-bit words of an event buffer from allocEpollEvents, for the readers below. */
export function epollEventWords(events: Buffer): Uint32Array {
  if (events.byteOffset % 4 !== 0) throw new Error('iomux: epoll event buffer is not 4-byte aligned');
  return new Uint32Array(events.buffer, events.byteOffset, events.length >>> 2);
}

/** The `events` mask of record `i` of an epoll_wait buffer (unsigned 32-bit). */
export function epollEventMask(words: Uint32Array, i: number): number {
  return words[i * EPOLL_EVENT_WORDS + EVENTS_WORD]!;
}

/** The low half of record `i`'s data (the fd, as iomux registers it). */
export function epollEventDataLow(words: Uint32Array, i: number): number {
  return words[i * EPOLL_EVENT_WORDS + DATA_LOW_WORD]! | 0;
}

/** Allocates room for `n` pollfd records. */
export function allocPollfds(n: number): Buffer {
  return Buffer.alloc(n * POLLFD_BYTES);
}

/** Fills pollfd record `i` and clears its revents. */
export function setPollfd(fds: Buffer, i: number, fd: number, events: number): void {
  const at = i * POLLFD_BYTES;
  putU32(fds, at + POLLFD_FD, fd);
  putU16(fds, at + POLLFD_EVENTS, events);
  putU16(fds, at + POLLFD_REVENTS, 0);
}

/** The revents of pollfd record `i`. */
export function pollfdRevents(fds: Buffer, i: number): number {
  return getU16(fds, i * POLLFD_BYTES + POLLFD_REVENTS);
}

/** The fd of pollfd record `i`. */
export function pollfdFd(fds: Buffer, i: number): number {
  return getI32(fds, i * POLLFD_BYTES + POLLFD_FD);
}
