/**
 * The thread's one libuv poll handle, and the private readiness set (epoll; kqueue without it) behind it.
 *
 * libuv `abort()`s when a fd it polls is closed or replaced behind its back (its deferred `epoll_ctl` then
 * fails with EBADF, ENOENT or EPERM), and it files events by fd number, so a stale `uv_poll` would receive
 * the events of whatever Node opens next under that number. So no user fd ever reaches libuv: every
 * `watch()` of the thread (and every attached selector, through its own watch) is a member of one private
 * epoll set, created and closed by iomux alone, and that set's fd is the only one libuv is given. What a
 * caller does to its own fds can then only make our `epoll_ctl` fail — an OSError — never libuv.
 * See docs/loop.md, "Why nothing a caller does can make libuv abort".
 */
import { isMainThread } from 'node:worker_threads';
import { FileExistsError, InterruptedError, OSError, RuntimeError } from '../errors.js';
import { setFdCloseListener } from '../fd-close.js';
import * as sys from '../sys/index.js';
import * as uv from '../sys/uv.js';
import { runQueuedTasks } from './callback-scope.js';
import { newReadySet, READY_ERROR, type ReadySet } from './ready-set.js';
import { reportUncaught } from './uncaught.js';

/** One watch of the thread. */
export interface PollerMember {
  readonly fd: number;
  /** What is ready on the member's fd: EVENT_READ/EVENT_WRITE, READY_ERROR, READY_HANGUP. */
  onReady(events: number): void;
  /** iomux is about to close the member's fd: the member is already disarmed and released. */
  onFdClosing(): void;
}

const { EBADF, ENOENT, EEXIST } = sys.ERRNO;

/** fd → its member; a fd has at most one. */
const members = new Map<number, PollerMember>();
/** Members armed in the set that keep the loop alive. */
let refs = 0;
let readySet: ReadySet | null = null;
/** The uv_poll handle on the set's fd (0: none). */
let handle = 0;
let handleRef = true;

// The batch being dispatched, copied out of the epoll buffer (kept between batches: nothing per event).
let batchFds = new Int32Array(64);
let batchEvents = new Int32Array(64);
let batchMembers: Array<PollerMember | undefined> = new Array<PollerMember | undefined>(64).fill(undefined);

/**
 * The thread's registered koffi callback (koffi has 8192 for the whole process): registered with the handle,
 * given back on a later turn once the thread has none (never from inside the callback itself).
 */
let callbackAddress: bigint | null = null;
let releaseScheduled = false;
/** null until the first handle of this thread was checked; then whether libuv's handle layout is the expected one. */
let layoutOk: boolean | null = null;

setFdCloseListener((fd) => {
  const member = members.get(fd);
  if (member === undefined) return;
  disarm(fd);
  members.delete(fd);
  member.onFdClosing();
  closeIfIdle();
});

/** The member registered for `fd`, if any. */
export function memberOf(fd: number): PollerMember | undefined {
  return members.get(fd);
}

/**
 * Makes `member` the one for its fd; FileExistsError-worthy conflicts are the caller's to detect first
 * (it knows whether the old member's file is still the one open under that number).
 */
export function claim(member: PollerMember): void {
  if (members.has(member.fd)) throw new FileExistsError(EEXIST!, `fd ${member.fd} already has a member`);
  ensureOpen();
  members.set(member.fd, member);
}

/** Forgets `member` (after disarming it); closes the handle and the set once the thread has no member. */
export function release(member: PollerMember): void {
  if (members.get(member.fd) === member) members.delete(member.fd);
  closeIfIdle();
}

/**
 * Puts `fd` in the set for `events` (EVENT_READ/EVENT_WRITE), or changes them when `armed`. Returns 0 or a
 * negative errno (EPERM for a regular file or directory, EBADF for a closed fd).
 */
export function arm(fd: number, events: number, armed: boolean): number {
  const set = ensureOpen();
  try {
    if (armed) {
      try {
        set.modify(fd, events);
        return 0;
      } catch (err) {
        // The entry is gone (the fd was closed and the same file took the number again): add it anew.
        if (!(err instanceof OSError) || err.errno !== ENOENT) throw err;
      }
    }
    set.add(fd, events);
    return 0;
  } catch (err) {
    if (err instanceof OSError && typeof err.errno === 'number' && err.errno > 0) return -err.errno;
    throw err;
  }
}

/** Takes `fd` out of the set; a fd already gone from it (closed meanwhile) is not an error. */
export function disarm(fd: number): void {
  if (readySet === null) return;
  try {
    readySet.remove(fd);
  } catch (err) {
    if (!(err instanceof OSError) || (err.errno !== EBADF && err.errno !== ENOENT)) throw err;
  }
}

/** A member started or stopped keeping the loop alive. */
export function adjustRef(delta: 1 | -1): void {
  refs += delta;
  applyRef();
}

export function memberCount(): number {
  return members.size;
}

let exitHooked = false;

/**
 * When the thread ends with JavaScript still running (process.exit(), also from a callback, or a worker's
 * natural end), the handle and the set are closed and koffi's callback slot is given back at once: a
 * thread whose callback is still registered when it is torn down never returns its slot (koffi 3.3.4).
 */
function closeAtExit(): void {
  members.clear();
  closeIfIdle();
  if (callbackAddress !== null) {
    uv.unregisterCallback(callbackAddress);
    callbackAddress = null;
  }
}

/** The thread's set and its handle, opened with the first member. */
function ensureOpen(): ReadySet {
  if (readySet !== null) return readySet;
  if (!exitHooked) {
    process.once('exit', closeAtExit);
    exitHooked = true;
  }
  const loop = uv.threadLoop();
  if (loop === 0n) throw new RuntimeError('cannot watch fds: napi_get_uv_event_loop failed');
  const set = newReadySet();
  try {
    handle = openHandle(loop, set.fileno());
  } catch (err) {
    set.close();
    throw err;
  }
  readySet = set;
  handleRef = true;
  applyRef();
  return set;
}

/** A started poll handle on `fd`, made safe for the thread's teardown. */
function openHandle(loop: bigint, fd: number): number {
  const h = uv.pollAlloc();
  if (h < 0) throw OSError.fromErrno(-h);
  const status = uv.pollInit(loop, h, fd);
  if (status < 0) {
    uv.pollFree(h); // never initialised: libuv does not know it
    throw OSError.fromErrno(-status);
  }
  if (layoutOk === null) layoutOk = uv.handleLayoutMatches(h, loop);
  if (!isMainThread) {
    // Node aborts the whole process when a worker's loop still holds a handle it does not know about at
    // exit (CheckedUvLoopClose); libuv does not count handles flagged internal. The flag lives in the
    // handle's flags word, so only when the layout is the one checked for.
    if (!layoutOk) {
      uv.pollClose(h);
      throw new RuntimeError('cannot watch fds in this worker thread: the libuv handle layout is not the one iomux checks for, so the handle could not be made safe for worker exit');
    }
    uv.markInternal(h);
  }
  // worker.terminate() runs the loop once more after the isolate is gone: C code stops the handle first.
  uv.addTeardownStop(h);
  const started = uv.pollStart(h, uv.UV_READABLE, acquireCallback());
  if (started < 0) {
    closeHandle(h);
    throw OSError.fromErrno(-started);
  }
  return h;
}

function closeHandle(h: number): void {
  uv.pollStop(h);
  uv.removeTeardownStop(h);
  uv.pollClose(h);
  scheduleRelease();
}

function acquireCallback(): bigint {
  if (callbackAddress === null) callbackAddress = uv.registerPollCallback(onPollNative);
  return callbackAddress;
}

function scheduleRelease(): void {
  if (releaseScheduled || callbackAddress === null) return;
  releaseScheduled = true;
  setImmediate(releaseIfIdle).unref();
}

function releaseIfIdle(): void {
  releaseScheduled = false;
  if (handle === 0 && callbackAddress !== null) {
    uv.unregisterCallback(callbackAddress);
    callbackAddress = null;
  }
}

function closeIfIdle(): void {
  if (members.size !== 0 || readySet === null) return;
  // The handle goes first: libuv borrows the set's fd until it is stopped.
  closeHandle(handle);
  handle = 0;
  readySet.close();
  readySet = null;
  refs = 0;
}

function applyRef(): void {
  if (handle === 0) return;
  const want = refs > 0;
  if (want === handleRef) return;
  uv.pollSetRef(handle, want);
  handleRef = want;
}

/** The one function libuv calls, through koffi: it must never throw into C. */
function onPollNative(h: number, status: number): void {
  if (h !== handle) return;
  try {
    onPoll(status);
  } catch (err) {
    // A pending exception would silence every later callback while libuv keeps waking up (100% CPU).
    uv.pollStop(h);
    reportUncaught(err);
  }
}

/** The thread's open poll handles: 1 while it has any member, else 0. */
export function openHandleCount(): number {
  return handle === 0 ? 0 : 1;
}

/** libuv says the set is readable: collect the batch with one epoll_wait(0), then dispatch it. */
function onPoll(status: number): void {
  if (status < 0) {
    // The set's own fd failed (it never should): every member is told, as for an error on its own fd.
    for (const member of [...members.values()]) dispatch(member, READY_ERROR);
    return;
  }
  const set = readySet;
  if (set === null) return;
  let count: number;
  try {
    count = set.waitNow(Math.max(members.size, 1));
  } catch (err) {
    if (!(err instanceof InterruptedError)) reportUncaught(err);
    return;
  }
  if (count > batchFds.length) {
    const size = Math.max(count, batchFds.length * 2);
    batchFds = new Int32Array(size);
    batchEvents = new Int32Array(size);
    batchMembers = new Array<PollerMember | undefined>(size).fill(undefined);
  }
  for (let i = 0; i < count; i++) {
    const fd = set.readyFd(i);
    batchFds[i] = fd;
    batchEvents[i] = set.readyEvents(i);
    batchMembers[i] = members.get(fd);
  }
  for (let i = 0; i < count; i++) {
    const member = batchMembers[i];
    batchMembers[i] = undefined;
    // A member closed (or replaced) by an earlier callback of the batch gets nothing more of it.
    if (member === undefined || members.get(batchFds[i]!) !== member) continue;
    dispatch(member, batchEvents[i]!);
  }
}

/**
 * One member's callback, then the nextTicks and microtasks it queued, as Node runs them after each of its own
 * I/O callbacks: a promise resolved in a callback continues before the batch's next callback and before Node
 * polls again, on every Node line (see callback-scope.ts).
 */
function dispatch(member: PollerMember, events: number): void {
  try {
    member.onReady(events);
  } catch (err) {
    reportUncaught(err); // members catch their own errors; this is a last resort, never into C
  }
  try {
    runQueuedTasks();
  } catch (err) {
    reportUncaught(err); // a throwing nextTick callback: Node's own uncaught-exception path, from a fresh stack
  }
}
