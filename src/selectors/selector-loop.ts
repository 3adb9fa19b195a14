/**
 * A selector driven by Node's event loop: what `attach()`, `selectAsync()` and `events()` run on. One
 * `watch()` on a single fd tells us when the selector may have something ready — the epoll fd itself for an
 * EpollSelector, a private mirror of the registrations for select and poll (see mirror.ts) — and then a
 * non-blocking `select(0)` collects the whole batch.
 */
import { trace, tracing } from '../loop/debug.js';
import { RuntimeError, type OSError } from '../errors.js';
import { describe } from '../fileobj.js';
import { monotonicMs } from '../timeout.js';
import { EVENT_READ } from '../events.js';
import { reportUncaught } from '../loop/uncaught.js';
import { watch, type Watcher } from '../loop/watch.js';
import type { SelectorKey } from './key.js';
import { abortError } from './wait-options.js';
import { InterestMirror, type MirrorPoller } from './mirror.js';

/** Called by an attached selector for each ready registration. */
export type SelectorHandler<T> = (key: SelectorKey<T>, events: number) => void;

/** Visits one entry of a ready batch; returning false stops the batch. */
export type ReadyVisitor<T> = (key: SelectorKey<T>, events: number) => boolean;

/** What the loop needs from its selector (the selector hands out closures over its private state). */
export interface SelectorPort<T> {
  /** The kernel object to watch (the epoll fd), or null when the selector has none. */
  kernelFd(): number | null;
  /** A new kernel set for the private mirror, when `kernelFd()` is null. */
  newMirrorPoller(): MirrorPoller;
  /**
   * select(0)'s batch, each entry visited with the key its registration has at that moment (entries of
   * registrations gone meanwhile are skipped, even when the fd number was registered again) and its events
   * masked to that key's.
   */
  forEachReady(visit: ReadyVisitor<T>): void;
  /** select(0), as the selector returns it. */
  selectNow(): Array<[SelectorKey<T>, number]>;
  /** How many fds are registered. */
  keyCount(): number;
  /** Every current key. */
  keys(): Iterable<SelectorKey<T>>;
  /** The error select() raises once the selector is closed. */
  closedError(): Error;
}

interface PendingSelect<T> {
  resolve(ready: Array<[SelectorKey<T>, number]>): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | null;
  /** monotonicMs() when the wait ends, or null to wait for readiness only. */
  deadline: number | null;
  /** The caller's AbortSignal and our listener on it, removed when the wait settles. */
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

/** setTimeout's limit; longer waits are made of several timers. */
const TIMER_MAX_MS = 0x7fffffff;

function noHandlerError(key: SelectorKey<unknown>): TypeError {
  return new TypeError(
    `attach() was given no handler, and the data registered for fd ${key.fd} is not a function (got ${describe(key.data)})`,
  );
}

/**
 * One per selector, created on first use. States: detached (nothing started), attached (dispatching every
 * batch to the handler) or waiting for one `selectAsync()`; the two uses exclude each other.
 */
export class SelectorLoop<T> {
  readonly #port: SelectorPort<T>;
  /** Only for selectors without a kernel fd. */
  #mirror: InterestMirror | null = null;
  #watcher: Watcher | null = null;
  /** What the watcher's handle was last told by ref()/unref() (a new handle starts referenced). */
  #handleRef = true;
  #attached = false;
  #handler: SelectorHandler<T> | null = null;
  #pending: PendingSelect<T> | null = null;
  #wantRef = true;
  #immediate: NodeJS.Immediate | null = null;
  #closed = false;
  readonly #deliver: ReadyVisitor<T> = (key, events) => this.#dispatchOne(key, events);
  readonly #onImmediate = (): void => {
    this.#immediate = null;
    this.#wake();
  };

  constructor(port: SelectorPort<T>) {
    this.#port = port;
  }

  get attached(): boolean {
    return this.#attached;
  }

  /** Dispatches every ready batch to `handler` (or to each key's data, called as `data(fileobj, events)`). */
  attach(handler: SelectorHandler<T> | undefined): void {
    if (handler !== undefined && typeof handler !== 'function') {
      throw new TypeError(`handler must be a function (got ${describe(handler)})`);
    }
    if (this.#pending !== null) throw new RuntimeError('cannot attach while a selectAsync() is waiting on this selector');
    if (handler === undefined) {
      for (const key of this.#port.keys()) if (typeof key.data !== 'function') throw noHandlerError(key);
    }
    this.#ensureWatcher();
    this.#handler = handler ?? null;
    this.#attached = true;
    this.#arm();
    if (tracing) trace('selector: attached');
  }

  /** Stops dispatching; registrations stay. Does nothing when not attached. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#handler = null;
    this.#disarm();
    if (tracing) trace('selector: detached');
  }

  ref(): void {
    this.#wantRef = true;
    this.#applyRef();
  }

  unref(): void {
    this.#wantRef = false;
    this.#applyRef();
  }

  /** True when an attached or waiting selector would keep the event loop alive now. */
  hasRef(): boolean {
    return this.#effectiveRef() && (this.#attached || this.#pending !== null);
  }

  /**
   * What `select(timeout)` would return, without blocking: resolves as soon as something is ready, or with
   * what is ready (usually nothing) when the timeout passes. `timeoutMs` null waits for readiness only.
   */
  selectAsync(timeoutMs: number | null, signal?: AbortSignal): Promise<Array<[SelectorKey<T>, number]>> {
    if (this.#closed) return Promise.reject(this.#port.closedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#attached) return Promise.reject(new RuntimeError('selectAsync() cannot wait on an attached selector: detach() it first'));
    if (this.#pending !== null) return Promise.reject(new RuntimeError('another selectAsync() is already waiting on this selector'));
    let ready: Array<[SelectorKey<T>, number]>;
    try {
      ready = this.#port.selectNow();
      if (ready.length === 0 && timeoutMs !== 0) this.#ensureWatcher();
    } catch (err) {
      return Promise.reject(err);
    }
    if (ready.length !== 0 || timeoutMs === 0) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const pending: PendingSelect<T> = { resolve, reject, timer: null, deadline: null, signal: null, onAbort: null };
      if (signal !== undefined) {
        const onAbort = (): void => this.#settle(pending, null, abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        pending.signal = signal;
        pending.onAbort = onAbort;
      }
      if (timeoutMs !== null) {
        pending.deadline = monotonicMs() + timeoutMs;
        this.#startTimer(pending, timeoutMs);
      }
      this.#pending = pending;
      this.#arm();
    });
  }

  // --- called by the selector as its registrations change

  registered(key: SelectorKey<T>): void {
    this.#mirror?.add(key.fd, key.events);
    this.#applyRef();
    this.#scheduleUnwatchable();
  }

  modified(previous: SelectorKey<T>, key: SelectorKey<T>): void {
    if (previous.events !== key.events) this.#mirror?.modify(key.fd, key.events);
  }

  unregistered(key: SelectorKey<T>): void {
    this.#mirror?.remove(key.fd);
    this.#applyRef();
  }

  /** The selector is closing: stop, release the handle and the mirror, reject a waiting selectAsync(). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#attached = false;
    this.#handler = null;
    const pending = this.#pending;
    if (pending !== null) this.#settle(pending, null, this.#port.closedError());
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#immediate = null;
    // Stop and close the poll handle before the fd it watches is closed (libuv borrows the fd until then).
    this.#watcher?.close();
    this.#watcher = null;
    this.#mirror?.close();
    this.#mirror = null;
  }

  // --- internals

  #ensureWatcher(): void {
    if (this.#watcher !== null) return;
    let fd = this.#port.kernelFd();
    if (fd === null) {
      const mirror = new InterestMirror(this.#port.newMirrorPoller());
      try {
        for (const key of this.#port.keys()) mirror.add(key.fd, key.events);
      } catch (err) {
        mirror.close();
        throw err;
      }
      this.#mirror = mirror;
      fd = mirror.fileno();
    }
    try {
      // Started right away: both callers arm it next.
      this.#watcher = watch(fd, EVENT_READ, (_events, error) => this.#onWatch(error));
      this.#handleRef = true;
    } catch (err) {
      this.#mirror?.close();
      this.#mirror = null;
      throw err;
    }
  }

  #arm(): void {
    this.#watcher!.modify(EVENT_READ);
    this.#applyRef();
    this.#scheduleUnwatchable();
  }

  #disarm(): void {
    if (this.#attached || this.#pending !== null) return;
    this.#watcher?.modify(0);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#immediate = null;
  }

  #effectiveRef(): boolean {
    return this.#wantRef && this.#port.keyCount() > 0;
  }

  #applyRef(): void {
    const watcher = this.#watcher;
    if (watcher === null || watcher.closed) return;
    const ref = this.#effectiveRef();
    // Registrations come and go with every connection: only call into libuv when the answer changes.
    if (ref !== this.#handleRef) {
      if (ref) watcher.ref();
      else watcher.unref();
      this.#handleRef = ref;
    }
    const timer = this.#pending?.timer;
    if (timer) {
      if (this.#wantRef) timer.ref();
      else timer.unref();
    }
    const immediate = this.#immediate;
    if (immediate !== null) {
      if (this.#effectiveRef()) immediate.ref();
      else immediate.unref();
    }
  }

  /** Registered fds the mirror cannot watch are always "ready": look again on the next loop iteration. */
  #scheduleUnwatchable(): void {
    if (this.#immediate !== null || this.#mirror === null || !this.#mirror.hasUnwatchable) return;
    if (!this.#attached && this.#pending === null) return;
    this.#immediate = setImmediate(this.#onImmediate);
    if (!this.#effectiveRef()) this.#immediate.unref();
  }

  #onWatch(error: OSError | undefined): void {
    if (error !== undefined) {
      // The watched fd itself failed (it is ours, so this should not happen): stop instead of spinning.
      this.#fail(error);
      return;
    }
    this.#wake();
  }

  #wake(): void {
    if (this.#attached) this.#dispatch();
    else if (this.#pending !== null) this.#checkPending(this.#pending);
    this.#scheduleUnwatchable();
  }

  #dispatch(): void {
    try {
      this.#port.forEachReady(this.#deliver);
    } catch (err) {
      // As in a Python select loop, an exception ends the dispatching: detach, then report it.
      this.detach();
      reportUncaught(err);
    }
  }

  #dispatchOne(key: SelectorKey<T>, events: number): boolean {
    if (!this.#attached) return false;
    const handler = this.#handler;
    if (handler !== null) {
      handler(key, events);
    } else {
      const callback = key.data;
      if (typeof callback !== 'function') throw noHandlerError(key);
      (callback as (fileobj: unknown, events: number) => void)(key.fileobj, events);
    }
    return this.#attached;
  }

  #checkPending(pending: PendingSelect<T>): void {
    const ready = this.#selectNowFor(pending);
    // A wake-up with nothing to report (spurious, or consumed meanwhile) keeps waiting.
    if (ready !== null && ready.length !== 0) this.#settle(pending, ready, undefined);
  }

  #startTimer(pending: PendingSelect<T>, ms: number): void {
    pending.timer = setTimeout(() => this.#timedOut(pending), Math.min(ms, TIMER_MAX_MS));
    if (!this.#wantRef) pending.timer.unref();
  }

  #timedOut(pending: PendingSelect<T>): void {
    pending.timer = null;
    if (this.#pending !== pending) return;
    const left = pending.deadline! - monotonicMs();
    if (left > 0) {
      this.#startTimer(pending, Math.ceil(left));
      return;
    }
    const ready = this.#selectNowFor(pending);
    if (ready !== null) this.#settle(pending, ready, undefined);
  }

  /** What is ready right now; null when the selector raised, after rejecting `pending` with the error. */
  #selectNowFor(pending: PendingSelect<T>): Array<[SelectorKey<T>, number]> | null {
    try {
      return this.#port.selectNow();
    } catch (err) {
      this.#settle(pending, null, err);
      return null;
    }
  }

  #settle(pending: PendingSelect<T>, ready: Array<[SelectorKey<T>, number]> | null, error: unknown): void {
    if (this.#pending !== pending) return;
    this.#pending = null;
    if (pending.timer !== null) clearTimeout(pending.timer);
    pending.timer = null;
    if (pending.signal !== null) pending.signal.removeEventListener('abort', pending.onAbort!);
    pending.signal = null;
    pending.onAbort = null;
    if (!this.#closed) this.#disarm();
    if (ready !== null) pending.resolve(ready);
    else pending.reject(error);
  }

  #fail(error: OSError): void {
    const pending = this.#pending;
    if (pending !== null) {
      this.#settle(pending, null, error);
      return;
    }
    if (this.#attached) {
      this.detach();
      reportUncaught(error);
    }
  }
}
