/**
 * `watch(fd, events, callback)`: "tell me when this fd is readable or writable", from Node's own event loop,
 * without blocking the thread. One libuv `uv_poll` handle per watch, on the calling thread's loop.
 */
import { eventWords, trace, tracing } from './debug.js';
import { fstatSync } from 'node:fs';
import { OSError, ValueError } from '../errors.js';
import { asFileDescriptor, describe, type FileLike } from '../fileobj.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import * as sys from '../sys/index.js';
import * as uv from '../sys/uv.js';
import { closedUnderWatchError, pollStatusError, watchOpenError, watchStartError } from './poll-errors.js';
import { READY_ERROR, READY_HANGUP } from './ready-set.js';
import * as poller from './thread-poller.js';
import type { PollerMember } from './thread-poller.js';
import { reportUncaught } from './uncaught.js';

/**
 * Called with the ready events (EVENT_READ and/or EVENT_WRITE, only among those watched). When the poll
 * itself fails, the watch is stopped first and the callback gets every watched event plus the `error`, so
 * that the read or write it then attempts reports the real condition (as Python's selectors do).
 */
export type WatchCallback = (events: number, error?: OSError) => void;

const ALL_EVENTS = EVENT_READ | EVENT_WRITE;

function checkWatchEvents(events: unknown, allowNone: boolean): number {
  if (typeof events !== 'number' || !Number.isInteger(events)) {
    throw new TypeError(`events must be an integer (got ${describe(events)})`);
  }
  // Compared as numbers, never through 32-bit bitwise operators: 2**32 | 1 must not pass for 1.
  if (events === EVENT_READ || events === EVENT_WRITE || events === ALL_EVENTS || (events === 0 && allowNone)) {
    return events;
  }
  throw new ValueError(`Invalid events: ${events}`);
}

/** What tells two files apart: the fd's device and inode when the watch was made. */
interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/** The identity of the file open under `fd`, or null when the fd is not open. */
function identityOf(fd: number): FileIdentity | null {
  try {
    const st = fstatSync(fd, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EBADF') return null;
    throw err;
  }
}

/**
 * A live watch of one fd. Level-triggered: while the fd stays ready the callback runs once per loop
 * iteration, so read (or write) until EAGAIN, or `modify()` the interest away. An active, referenced
 * watcher keeps the process (or worker) alive, like a socket does.
 *
 * The watch stops by itself — `active` turns false — when the callback throws (the exception is then
 * re-thrown as an ordinary uncaught exception, so it can neither vanish nor spin the CPU) and when the poll
 * fails (the callback gets the error). `modify(events)` starts it again; `close()` releases it.
 *
 * The fd is never handed to libuv: it is a member of the thread's private epoll set (thread-poller.ts),
 * so closing it at any moment, or reusing its number, cannot make libuv abort or steal the next owner's
 * events. The watch remembers which file it watches (device and inode) and checks it before arming again.
 */
export class Watcher implements Disposable, PollerMember {
  /** The watched fd. */
  readonly fd: number;
  readonly #callback: WatchCallback;
  readonly #identity: FileIdentity;
  #events: number;
  /** In the thread's epoll set. */
  #active = false;
  #closed = false;
  /** The fd was closed (by iomux, or found closed or replaced): the watch is released and stays silent. */
  #fdGone = false;
  #wantRef = true;
  /** Counted in the thread's references (active and wanting a reference). */
  #counted = false;
  #error: OSError | null = null;

  /** The same as `watch(fd, events, callback)`. */
  constructor(fileobj: FileLike, events: number, callback: WatchCallback) {
    const fd = asFileDescriptor(fileobj);
    checkWatchEvents(events, false);
    if (typeof callback !== 'function') throw new TypeError(`callback must be a function (got ${describe(callback)})`);
    const identity = identityOf(fd);
    if (identity === null) throw watchOpenError(fd, -sys.ERRNO.EBADF);
    this.fd = fd;
    this.#callback = callback;
    this.#events = events;
    this.#identity = identity;
    const previous = poller.memberOf(fd);
    if (previous instanceof Watcher) {
      // A watch of the file still open under this number is a second watch; one whose file was closed
      // behind iomux's back (the number reused since) is stale: it goes silent and the number is ours.
      if (previous.#isCurrent()) throw watchOpenError(fd, -sys.ERRNO.EEXIST);
      previous.#forgetFd();
    } else if (previous !== undefined) {
      throw watchOpenError(fd, -sys.ERRNO.EEXIST);
    }
    try {
      poller.claim(this);
    } catch (err) {
      if (err instanceof OSError && typeof err.errno === 'number') throw watchOpenError(fd, -err.errno);
      throw err;
    }
    try {
      this.#start(events);
    } catch (err) {
      this.#closed = true;
      poller.release(this);
      if (err instanceof OSError && typeof err.errno === 'number') throw watchOpenError(fd, -err.errno);
      throw err;
    }
    if (tracing) trace('watch fd %d: armed for %s', fd, eventWords(events));
  }

  /** The events being watched (0 while paused by `modify(0)`). */
  get events(): number {
    return this.#events;
  }

  /** True while the watch is started: not closed, not paused, not stopped by an error or a throw. */
  get active(): boolean {
    return this.#active;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The error that stopped the watch, if the poll failed (cleared by a successful `modify`). */
  get error(): OSError | null {
    return this.#error;
  }

  /**
   * Watches `events` from now on (EVENT_READ, EVENT_WRITE, both, or 0 to pause), restarting a watch that
   * was stopped. Changing nothing on an active watch makes no syscall. OSError(EBADF) if the fd was closed
   * under the watch — also when its number was reused by another file since.
   */
  modify(events: number): this {
    checkWatchEvents(events, true);
    this.#checkOpen();
    if (events === this.#events && (this.#active || events === 0)) return this;
    if (events !== 0 && !this.#fdGone && !this.#isCurrent()) this.#forgetFd();
    if (events !== 0 && this.#fdGone) throw closedUnderWatchError(this.fd);
    this.#events = events;
    if (events === 0) {
      this.#stop();
      return this;
    }
    try {
      this.#start(events);
    } catch (err) {
      if (err instanceof OSError && typeof err.errno === 'number') throw watchStartError(this.fd, -err.errno);
      throw err;
    }
    return this;
  }

  /**
   * Stops and releases the watch; the callback is not called afterwards, even for events of the current
   * loop iteration. Safe from inside the callback, and to call twice. The fd itself is not closed (and may
   * be closed before or after).
   */
  close(): void {
    if (this.#closed) return;
    this.#stop();
    this.#closed = true;
    if (!this.#fdGone) poller.release(this);
    if (tracing) trace('watch fd %d: closed', this.fd);
  }

  /** Lets an active watch keep the event loop alive (the default). Does nothing once closed. */
  ref(): this {
    if (!this.#closed) {
      this.#wantRef = true;
      this.#recount();
    }
    return this;
  }

  /** Stops this watch from keeping the event loop alive on its own; it still reports events. */
  unref(): this {
    if (!this.#closed) {
      this.#wantRef = false;
      this.#recount();
    }
    return this;
  }

  /** Whether this watch keeps the process alive (`ref()`, the default) — false once closed. */
  hasRef(): boolean {
    return !this.#closed && this.#wantRef;
  }

  /** `close()`, for `using`: the watch is closed when the block that declared it ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  // --- PollerMember

  /** @internal The thread's set reported `events` for the fd (EVENT_* bits, READY_ERROR, READY_HANGUP). */
  onReady(events: number): void {
    if (!this.#active) return;
    if (events & READY_ERROR) {
      this.#stoppedByError(-sys.ERRNO.EBADF);
      return;
    }
    // A hang-up wakes whichever direction is watched, so the read or write that follows sees it (as libuv).
    const ready = (events & READY_HANGUP ? this.#events : events) & this.#events;
    if (ready === 0) return;
    if (tracing) trace('watch fd %d: fired, %s ready', this.fd, eventWords(ready));
    try {
      this.#callback.call(undefined, ready);
    } catch (err) {
      this.#stop();
      reportUncaught(err);
    }
  }

  /** @internal iomux is closing the fd (os.close, Socket.close, Epoll.close): already out of the set. */
  onFdClosing(): void {
    if (tracing) trace('watch fd %d: its fd is being closed by iomux', this.fd);
    this.#active = false;
    this.#fdGone = true;
    this.#recount();
    this.onFdLost();
  }

  /**
   * @internal Whether the fd still names the file this watch was made for. When it does not (closed behind
   * iomux's back, the number perhaps reused since), the watch goes silent and gives the number back, as
   * `modify()` would find out, and `onFdLost()` is called. One fstat; false once the fd is known gone.
   */
  verifyFd(): boolean {
    if (this.#closed || this.#fdGone) return false;
    if (this.#isCurrent()) return true;
    this.#forgetFd();
    return false;
  }

  /**
   * The watch lost its fd: iomux closed it, or it was found closed (or its number reused) behind iomux's
   * back. The watch is already silent and released. For subclasses that must settle something then.
   */
  protected onFdLost(): void {}

  // --- internals

  #checkOpen(): void {
    if (this.#closed) throw new ValueError(`I/O operation on closed watcher (fd ${this.fd})`);
  }

  /** Whether the file open under the fd number is still the one this watch was made for. */
  #isCurrent(): boolean {
    const now = identityOf(this.fd);
    return now !== null && now.dev === this.#identity.dev && now.ino === this.#identity.ino;
  }

  /**
   * The fd was closed behind iomux's back (and perhaps reused): leave the set alone — the old file's entry
   * went with its last close, and the number may now be another file's — and give the number back.
   */
  #forgetFd(): void {
    if (tracing) trace('watch fd %d: its fd was closed behind iomux\'s back: released', this.fd);
    this.#active = false;
    this.#fdGone = true;
    this.#recount();
    poller.release(this);
    this.onFdLost();
  }

  #start(events: number): void {
    const status = poller.arm(this.fd, events, this.#active);
    if (status < 0) {
      this.#stop();
      throw OSError.fromErrno(-status);
    }
    this.#active = true;
    this.#error = null;
    this.#recount();
  }

  #stop(): void {
    if (!this.#active) return;
    this.#active = false;
    if (!this.#fdGone) poller.disarm(this.fd);
    this.#recount();
  }

  #recount(): void {
    const counted = this.#active && this.#wantRef && !this.#closed;
    if (counted === this.#counted) return;
    this.#counted = counted;
    poller.adjustRef(counted ? 1 : -1);
  }

  #stoppedByError(status: number): void {
    // Re-arming blindly is what spins at 100% CPU (serialport #1803): the watch stays stopped.
    this.#stop();
    const fdOpen = sys.getFdFlags(this.fd) >= 0;
    const error = pollStatusError(this.fd, status, fdOpen);
    this.#error = error;
    if (tracing) trace('watch fd %d: stopped by an error: %s', this.fd, error.message);
    try {
      this.#callback.call(undefined, this.#events, error);
    } catch (err) {
      reportUncaught(err);
    }
  }
}

/**
 * Watches `fd` (a number, or an object with `fileno()`) for `events` — EVENT_READ, EVENT_WRITE or both —
 * on the calling thread's event loop, and calls `callback(events)` each time some are ready. Returns the
 * `Watcher` (`modify`, `close`, `ref`, `unref`).
 *
 * The fd's blocking mode is left alone (libuv would make it non-blocking; iomux undoes that): a callback
 * that reads until EAGAIN needs a non-blocking fd (`os.setBlocking(fd, false)`, `sock.setblocking(false)`),
 * while a blocking one can read once per callback. One watch per fd per thread: a second one raises
 * FileExistsError; a regular file raises PermissionError; a closed fd OSError (EBADF). The fd may be closed
 * while watched: the watch goes silent and `modify()` raises OSError (EBADF).
 */
export function watch(fd: FileLike, events: number, callback: WatchCallback): Watcher {
  return new Watcher(fd, events, callback);
}

/** Handles and native callbacks in use, to check for leaks. */
export interface LoopStats {
  /** libuv poll handles this thread has open: 1 while it has any watch (attached selectors included), else 0. */
  openHandles: number;
  /** Open watches of this thread (attached or waiting selectors hold one each). */
  watches: number;
  /** koffi callback registrations alive in the whole process (every thread). */
  registeredCallbacks: number;
}

/** The thread's poll handles, watches and registered koffi callbacks: for leak checks. */
export function loopStats(): LoopStats {
  return { openHandles: poller.openHandleCount(), watches: poller.memberCount(), registeredCallbacks: uv.registeredCallbackCount() };
}
