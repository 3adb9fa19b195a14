/**
 * `watch(fd, events, callback)`: "tell me when this fd is readable or writable", from Node's own event loop,
 * without blocking the thread. One libuv `uv_poll` handle per watch, on the calling thread's loop.
 */
import { ValueError, type OSError } from '../errors.js';
import { asFileDescriptor, describe, type FileLike } from '../fileobj.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import * as sys from '../sys/index.js';
import * as uv from '../sys/uv.js';
import { closedUnderWatchError, pollStatusError, watchOpenError, watchStartError } from './poll-errors.js';
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
  if ((events & ~ALL_EVENTS) !== 0 || events < 0 || (events === 0 && !allowNone)) {
    throw new ValueError(`Invalid events: ${events}`);
  }
  return events;
}

/**
 * A live watch of one fd. Level-triggered: while the fd stays ready the callback runs once per loop
 * iteration, so read (or write) until EAGAIN, or `modify()` the interest away. An active, referenced
 * watcher keeps the process (or worker) alive, like a socket does.
 *
 * The watch stops by itself — `active` turns false — when the callback throws (the exception is then
 * re-thrown as an ordinary uncaught exception, so it can neither vanish nor spin the CPU) and when the poll
 * fails (the callback gets the error). `modify(events)` starts it again; `close()` releases it.
 */
export class Watcher implements Disposable {
  /** The watched fd. */
  readonly fd: number;
  readonly #callback: WatchCallback;
  #handle: number;
  #events: number;
  #active = false;
  #error: OSError | null = null;
  readonly #listener: uv.PollListener;

  /** The same as `watch(fd, events, callback)`. */
  constructor(fileobj: FileLike, events: number, callback: WatchCallback) {
    const fd = asFileDescriptor(fileobj);
    checkWatchEvents(events, false);
    if (typeof callback !== 'function') throw new TypeError(`callback must be a function (got ${describe(callback)})`);
    this.fd = fd;
    this.#callback = callback;
    this.#events = events;
    this.#listener = { onPoll: (status, ready) => this.#onPoll(status, ready) };
    const handle = uv.pollOpen(fd, this.#listener);
    if (handle < 0) throw watchOpenError(fd, handle);
    this.#handle = handle;
    try {
      this.#start(events);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The events being watched (0 while paused by `modify(0)`). */
  get events(): number {
    return this.#events;
  }

  /** True while the watch is started: not closed, not paused, not stopped by an error or a throw. */
  get active(): boolean {
    return this.#active;
  }

  get closed(): boolean {
    return this.#handle === 0;
  }

  /** The error that stopped the watch, if the poll failed (cleared by a successful `modify`). */
  get error(): OSError | null {
    return this.#error;
  }

  /**
   * Watches `events` from now on (EVENT_READ, EVENT_WRITE, both, or 0 to pause), restarting a watch that
   * was stopped. Changing nothing on an active watch makes no call into libuv. OSError(EBADF) if the fd was
   * closed under the watch (restarting libuv on a closed fd would abort the process).
   */
  modify(events: number): this {
    checkWatchEvents(events, true);
    const handle = this.#checkOpen();
    if (events === this.#events && (this.#active || events === 0)) return this;
    if (events !== 0 && sys.getFdFlags(this.fd) === -sys.ERRNO.EBADF) throw closedUnderWatchError(this.fd);
    this.#events = events;
    if (events === 0) {
      uv.pollStop(handle);
      this.#active = false;
      return this;
    }
    this.#start(events);
    return this;
  }

  /**
   * Stops and releases the watch; the callback is not called afterwards, even for events of the current
   * loop iteration. Safe from inside the callback, and to call twice. Close the watcher before closing the
   * fd. The fd itself is not closed.
   */
  close(): void {
    const handle = this.#handle;
    if (handle === 0) return;
    this.#handle = 0;
    this.#active = false;
    uv.pollClose(handle);
  }

  /** Lets an active watch keep the event loop alive (the default). Does nothing once closed. */
  ref(): this {
    if (this.#handle !== 0) uv.pollSetRef(this.#handle, true);
    return this;
  }

  /** Stops this watch from keeping the event loop alive on its own; it still reports events. */
  unref(): this {
    if (this.#handle !== 0) uv.pollSetRef(this.#handle, false);
    return this;
  }

  hasRef(): boolean {
    return this.#handle !== 0 && uv.pollHasRef(this.#handle);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(): number {
    if (this.#handle === 0) throw new ValueError(`I/O operation on closed watcher (fd ${this.fd})`);
    return this.#handle;
  }

  #start(events: number): void {
    const status = uv.pollStart(this.#handle, events);
    if (status < 0) {
      this.#active = false;
      throw watchStartError(this.fd, status);
    }
    this.#active = true;
    this.#error = null;
  }

  #onPoll(status: number, events: number): void {
    if (status < 0) {
      this.#stoppedByError(status);
      return;
    }
    const ready = events & this.#events;
    if (ready === 0) return;
    try {
      this.#callback.call(undefined, ready);
    } catch (err) {
      this.#stopAfterThrow(err);
    }
  }

  #stopAfterThrow(err: unknown): void {
    if (this.#handle !== 0 && this.#active) {
      uv.pollStop(this.#handle);
      this.#active = false;
    }
    reportUncaught(err);
  }

  #stoppedByError(status: number): void {
    // libuv has stopped the handle already; re-arming it here is what spins at 100% CPU (serialport #1803).
    this.#active = false;
    const fdOpen = sys.getFdFlags(this.fd) >= 0;
    const error = pollStatusError(this.fd, status, fdOpen);
    this.#error = error;
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
 * while a blocking one can read once per callback. One watch per fd per thread: a second one, or an fd a Node
 * stream already owns, raises FileExistsError; a regular file raises PermissionError; a closed fd OSError
 * (EBADF). Close the watcher before closing the fd.
 */
export function watch(fd: FileLike, events: number, callback: WatchCallback): Watcher {
  return new Watcher(fd, events, callback);
}

/** Handles and native callbacks in use, to check for leaks. */
export interface LoopStats {
  /** libuv poll handles this thread has open (watchers, attached selectors). */
  openHandles: number;
  /** koffi callback registrations alive in the whole process (every thread). */
  registeredCallbacks: number;
}

export function loopStats(): LoopStats {
  return { openHandles: uv.openPollCount(), registeredCallbacks: uv.registeredCallbackCount() };
}
