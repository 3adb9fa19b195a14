/**
 * kqueue(2)/kevent(2) and `struct kevent`. On macOS and FreeBSD they are in libc; on Linux they come from
 * libkqueue (a userspace kqueue over epoll), loaded on first use from $IOMUX_LIBKQUEUE, then
 * `libkqueue.so.0`. Where neither exists every call returns -ENOSYS and `kqueueUnavailable()` says why.
 */
import { abi, koffi, libc } from './lib.js';
import { errno, orErrno } from './errno.js';
import type { LibraryHandle } from 'koffi';
import { FD_CLOEXEC, F_SETFD, INT_MAX } from './constants.js';
import { close } from './io.js';
import { getI64, getU16, getU32, getU64, put64, putU16, putU32 } from './bytes.js';

type Bytes = Uint8Array;

/** The <sys/event.h> constants of the running platform (libkqueue's on Linux). */
export const KQ = abi.kqueue;
const KE = abi.layout.kevent;
/** sizeof(struct kevent): 32 on macOS and Linux/libkqueue, 64 on FreeBSD ≥ 12. */
export const KEVENT_BYTES = KE.bytes;
const TIMESPEC = abi.layout.timespec;
export const TIMESPEC_BYTES = TIMESPEC.bytes;
/**
 * Whether the kqueue fd itself can be watched by poll/epoll/libuv: true for a kernel kqueue; false under
 * libkqueue, whose fd does not become readable when events are pending.
 */
export const KQUEUE_FD_POLLABLE = abi.kqueueSource === 'libc';

const ENOSYS = abi.errno.ENOSYS!;
const EINVAL = abi.errno.EINVAL!;
const EBADF = abi.errno.EBADF!;
const ENOENT = abi.errno.ENOENT!;
const LIBKQUEUE = abi.kqueueSource === 'libkqueue';

interface KqueueNatives {
  kqueue(): number;
  kevent(kq: number, changes: Bytes | null, nchanges: number, events: Bytes | null, nevents: number, timeout: Bytes | null): number;
  fcntl(fd: number, cmd: number, ...rest: unknown[]): number;
}

let natives: KqueueNatives | string | undefined;
/**
 * libkqueue sets up its fd → kqueue map in its first kqueue() call only: a kevent() before any (on an fd
 * given to Kqueue.fromFd) dereferences that still-NULL map and the process dies of SIGSEGV. The first
 * kevent() of a process that has made no kqueue yet therefore makes one first — and keeps it open: closed at
 * once, its release by libkqueue's monitoring thread (started by that same first kqueue()) raced with the
 * kevent() that follows, and 3 runs in 40 died of SIGSEGV on a loaded machine (0 in 120 kept open). It costs
 * one kqueue (a pipe and an epoll fd inside libkqueue), only in a process that wraps a foreign fd first.
 */
let libkqueueReady = false;

function readyLibkqueue(): void {
  if (libkqueueReady) return;
  kqueueCreate(); // kept open (and close-on-exec, so no child inherits it): see above
}

function bind(lib: LibraryHandle): KqueueNatives {
  return {
    kqueue: lib.func('int kqueue(void)') as () => number,
    kevent: lib.func('int kevent(int, const void *, int, void *, int, const void *)') as KqueueNatives['kevent'],
    fcntl: libc.func('int fcntl(int, int, ...)') as KqueueNatives['fcntl'],
  };
}

function load(): KqueueNatives | string {
  if (natives !== undefined) return natives;
  if (abi.kqueueSource === 'libc') {
    natives = bind(libc);
    return natives;
  }
  const path = process.env.IOMUX_LIBKQUEUE || 'libkqueue.so.0';
  try {
    natives = bind(koffi.load(path));
    pinLibrary(path);
  } catch (err) {
    natives =
      `kqueue is not available on ${abi.platform}: libkqueue could not be loaded from ${path} ` +
      `(${err instanceof Error ? err.message : String(err)}). Install libkqueue (e.g. apt-get install libkqueue0), ` +
      'or build it from its source (github.com/mheily/libkqueue) and set IOMUX_LIBKQUEUE to the path of libkqueue.so.0';
  }
  return natives;
}

/**
 * Keeps the loaded libkqueue mapped for the life of the process (abi.libkqueuePin: dlopen with RTLD_NOLOAD |
 * RTLD_NODELETE on the library koffi just loaded). koffi unloads a library when the thread that loaded it ends —
 * a worker, or the main thread at exit — but libkqueue's monitoring thread may still be running its code then
 * (after the last kqueue's close it frees it and exits on its own): unmapped under it, it died of SIGSEGV, about
 * one echo-server exit in 50 after 1,150 connections. The handle is never closed: that is the point.
 */
function pinLibrary(path: string): void {
  const flags = abi.libkqueuePin;
  if (flags === null) return;
  let dlopen: (path: string, flags: number) => unknown;
  try {
    dlopen = libc.func('void *dlopen(const char *, int)') as typeof dlopen;
  } catch {
    // glibc before 2.34 keeps dlopen in libdl.
    dlopen = koffi.load('libdl.so.2').func('void *dlopen(const char *, int)') as typeof dlopen;
  }
  if (dlopen(path, flags) === null) throw new Error(`libkqueue was loaded from ${path} but could not be kept loaded (dlopen)`);
}

/** null when kqueue() can be used here, else the reason it cannot (what to install). */
export function kqueueUnavailable(): string | null {
  const n = load();
  return typeof n === 'string' ? n : null;
}

/** kqueue(2), made close-on-exec (non-inheritable, as CPython makes it). -ENOSYS where there is none. */
export function kqueueCreate(): number {
  const n = load();
  if (typeof n === 'string') return -ENOSYS;
  const fd = orErrno(n.kqueue());
  if (fd < 0) return fd;
  libkqueueReady = true;
  if (n.fcntl(fd, F_SETFD, 'int', FD_CLOEXEC) < 0) {
    const e = errno();
    close(fd);
    return -e;
  }
  return fd;
}

/** kevent(2) over `nchanges` records in `changes` and room for `nevents` in `events`; `timeout` a timespec or null. */
export function kevent(
  kq: number, changes: Bytes | null, nchanges: number, events: Bytes | null, nevents: number, timeout: Bytes | null,
): number {
  const n = load();
  if (typeof n === 'string') return -ENOSYS;
  if (!LIBKQUEUE) {
    return orErrno(n.kevent(kq, changes, nchanges, events, nevents, timeout));
  }
  readyLibkqueue();
  if (nchanges > 0 && changes !== null && anyRefusedIdent(changes, nchanges)) {
    return keventWithRefusals(n, kq, changes, nchanges, events, events === null ? 0 : nevents);
  }
  // libkqueue fails some changes without setting errno (re-adding a socket's existing EVFILT_READ without
  // EV_CLEAR: linux/read.c's kn_modify returns -1): clear errno first so that case reads as EINVAL, not as
  // whatever an earlier call left there.
  koffi.errno(0);
  if (nchanges === 0 || events === null || nevents === 0) {
    const r = n.kevent(kq, changes, nchanges, events, nevents, timeout);
    return r < 0 ? libkqueueFailure(n, kq) : r;
  }
  // libkqueue writes a refused change to the eventlist as an EV_ERROR entry, as the kernels do, but when its
  // wait then times out it returns 0 and drops them (src/common/kevent.c, `rv == 0` after kevent_wait). They
  // are still at the start of the buffer: count them, so the result is what macOS and FreeBSD return.
  // Only the first `nchanges` records can hold them: zero just those (touching all of a huge eventlist
  // would commit gigabytes of memory for nothing).
  const room = Math.min(nevents, nchanges);
  events.fill(0, 0, room * KEVENT_BYTES);
  const r = n.kevent(kq, changes, nchanges, events, nevents, timeout);
  if (r !== 0) return r < 0 ? libkqueueFailure(n, kq) : r;
  let errors = 0;
  while (errors < room && (keventFlags(events, errors) & abi.kqueue.EV_ERROR) !== 0) errors++;
  return errors;
}

/**
 * The filters whose ident is a file descriptor under libkqueue. The kernels refuse an ident above INT_MAX on
 * such a filter with EBADF (FreeBSD and macOS kevent_register: `f_isfd` and `ident > INT_MAX`); libkqueue casts
 * it to an int and would watch another fd (2**32 + r → r), so iomux refuses those before they reach it.
 */
const FD_FILTERS = [abi.kqueue.EVFILT_READ, abi.kqueue.EVFILT_WRITE, abi.kqueue.EVFILT_VNODE];

/** Whether change `i` names an fd no fd can be (on a filter whose ident is an fd). */
function refusedIdent(changes: Bytes, i: number): boolean {
  return keventIdent(changes, i) > INT_MAX && FD_FILTERS.includes(keventFilter(changes, i));
}

function anyRefusedIdent(changes: Bytes, nchanges: number): boolean {
  for (let i = 0; i < nchanges; i++) if (refusedIdent(changes, i)) return true;
  return false;
}

/**
 * kevent(2) as the kernels run a changelist holding a refused fd ident (a caller's mistake, so this path
 * may be slow): the changes are applied one by one, in order; each failure (EBADF for a refused ident, the
 * library's errno otherwise) is written to the event list as an EV_ERROR entry while there is room, and
 * fails the whole call once there is none (the changes after it are not applied). Having reported errors,
 * the kernels return them without waiting for events (FreeBSD kqueue_kevent, xnu kevent_internal).
 */
function keventWithRefusals(
  n: KqueueNatives, kq: number, changes: Bytes, nchanges: number, events: Bytes | null, nevents: number,
): number {
  let written = 0;
  for (let i = 0; i < nchanges; i++) {
    let error = 0;
    if (refusedIdent(changes, i)) {
      error = EBADF;
    } else {
      koffi.errno(0);
      // With no room for events, libkqueue applies the change and returns at once (no wait).
      if (n.kevent(kq, changes.subarray(i * KEVENT_BYTES, (i + 1) * KEVENT_BYTES), 1, null, 0, null) < 0) {
        error = -libkqueueFailure(n, kq);
      }
    }
    if (error === 0) continue;
    if (events === null || written === nevents) return -error;
    const at = written * KEVENT_BYTES;
    events.set(changes.subarray(i * KEVENT_BYTES, (i + 1) * KEVENT_BYTES), at);
    putU16(events, at + KE.flags, keventFlags(events, written) | abi.kqueue.EV_ERROR);
    put64(events, at + KE.data, error);
    written++;
  }
  return written;
}

/**
 * The -errno of a failed libkqueue kevent(). libkqueue reports an fd that is none of its kqueues (closed, or
 * another file given to Kqueue.fromFd) as ENOENT, where the kernels, and so CPython, say EBADF; a change
 * refused with ENOENT (EV_DELETE of no such event) is told apart by asking about the kqueue alone.
 */
function libkqueueFailure(n: KqueueNatives, kq: number): number {
  const e = errno() || EINVAL;
  if (e === ENOENT && n.kevent(kq, null, 0, null, 0, null) < 0) return -EBADF;
  return -e;
}

// --- struct kevent: ident, data and udata are 64-bit; iomux keeps them as JS numbers (|x| < 2**53).

/** Writes record `i` of a kevent array (the rest of the record, e.g. FreeBSD's ext[4], is zeroed). */
export function putKevent(
  buf: Bytes, i: number, ident: number, filter: number, flags: number, fflags: number, data: number, udata: number,
): void {
  const at = i * KEVENT_BYTES;
  buf.fill(0, at, at + KEVENT_BYTES);
  put64(buf, at + KE.ident, ident);
  putU16(buf, at + KE.filter, filter);
  putU16(buf, at + KE.flags, flags);
  putU32(buf, at + KE.fflags, fflags);
  put64(buf, at + KE.data, data);
  put64(buf, at + KE.udata, udata);
}

export function keventIdent(buf: Bytes, i: number): number {
  return getU64(buf, i * KEVENT_BYTES + KE.ident);
}

export function keventFilter(buf: Bytes, i: number): number {
  return (getU16(buf, i * KEVENT_BYTES + KE.filter) << 16) >> 16;
}

export function keventFlags(buf: Bytes, i: number): number {
  return getU16(buf, i * KEVENT_BYTES + KE.flags);
}

export function keventFflags(buf: Bytes, i: number): number {
  return getU32(buf, i * KEVENT_BYTES + KE.fflags);
}

export function keventData(buf: Bytes, i: number): number {
  return getI64(buf, i * KEVENT_BYTES + KE.data);
}

export function keventUdata(buf: Bytes, i: number): number {
  return getU64(buf, i * KEVENT_BYTES + KE.udata);
}

/** Writes a struct timespec of `ns` (a non-negative integer) nanoseconds. */
export function writeTimespec(buf: Bytes, ns: number): void {
  const sec = Math.floor(ns / 1e9);
  put64(buf, 0, sec);
  put64(buf, TIMESPEC.nsecAt, ns - sec * 1e9);
}
