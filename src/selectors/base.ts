/**
 * The abstract selector: the fd → key table and every rule CPython's `BaseSelector` and `_BaseSelectorImpl`
 * apply to it. Subclasses only say how interest reaches the kernel and how to wait.
 */
import { KeyError, RuntimeError } from '../errors.js';
import { describe, type FileLike } from '../fileobj.js';
import { lookupFd } from './fd.js';
import { checkEvents, SelectorKey } from './key.js';
import { SelectorMapping } from './mapping.js';
import { newReadySet } from '../loop/ready-set.js';
import type { MirrorPoller } from './mirror.js';
import { SelectorLoop, type ReadyVisitor, type SelectorHandler } from './selector-loop.js';
import { selectSelectorWaitMs } from './timeout.js';
import { waitSignal, type WaitOptions } from './wait-options.js';

/** What `select()` returns: each ready key with the events (EVENT_READ/EVENT_WRITE) that are ready. */
export type SelectResult<T = unknown> = Array<[SelectorKey<T>, number]>;

function notRegistered(fileobj: unknown): KeyError {
  return new KeyError(fileobj, `${describe(fileobj)} is not registered`);
}

/**
 * A set of registered file objects, each with the events to wait for and the caller's `data`, waited on
 * together with `select()`. Level-triggered: a ready fd is reported by every `select()` until it is no
 * longer ready.
 *
 * Rules, as in CPython 3.13: `events` are checked before the object is looked up; an fd is registered
 * once, whichever object names it; an object whose `fileno()` became invalid (a closed socket's -1) is
 * still found by identity, so it can be unregistered. Deviations, chosen deliberately: `modify` checks
 * `events` (CPython's poll-like selectors store any value unchecked), `modify` always keeps the
 * registered `fileobj` (CPython's SelectSelector replaces it with the object passed to `modify`), and
 * `register`/`select` on a closed selector raise instead of silently working on an orphaned table.
 *
 * The table is authoritative: `select()` reports only fds registered when it builds its result, with the
 * key registered at that moment. A result already returned is a snapshot, though — as in Python, while
 * dispatching it a handler may unregister (or unregister and re-register) another fd of the same batch.
 * Check `isCurrentKey(selector, key)` before dispatching each entry when handlers can do that (the same goes
 * for `selectAsync()` and `events()` results). An attached selector makes that check itself.
 *
 * @python selectors.BaseSelector
 */
export abstract class BaseSelector<T = unknown> implements Disposable {
  /** fd → key, in registration order: the one source of truth. Cleared (not replaced) by close(). */
  readonly #keys = new Map<number, SelectorKey<T>>();
  /** The view `getMap()` hands out; null once closed. */
  #map: SelectorMapping<T> | null = new SelectorMapping(this.#keys);
  /** The event-loop integration (attach, selectAsync), created on first use. */
  #loop: SelectorLoop<T> | null = null;
  /**
   * key → the serial of the registration it belongs to: `register` starts a new one, `modify` carries it
   * over to the new key. Two keys of one fd number with different serials are different registrations, so
   * a batch entry of an fd unregistered and registered again (the number reused) is not handed to the new one.
   */
  readonly #registrations = new WeakMap<SelectorKey<T>, number>();
  #lastRegistration = 0;

  /**
   * Registers `fileobj` (an fd or an object with `fileno()`) for `events` (EVENT_READ, EVENT_WRITE or
   * both) with optional `data`, and returns the new key. ValueError("Invalid events: …") for bad events,
   * ValueError("Invalid file descriptor: …")/("Invalid file object: …") for a bad object,
   * KeyError("… (FD n) is already registered") when the fd already is. If the kernel refuses the fd (a
   * regular file under epoll: PermissionError) nothing stays registered.
   *
   * @python selectors.BaseSelector.register
   */
  register(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    checkEvents(events);
    const fd = lookupFd(this.#keys, fileobj);
    if (this.#keys.has(fd)) {
      throw new KeyError(fileobj, `${describe(fileobj)} (FD ${fd}) is already registered`);
    }
    if (this.#map === null) throw this.closedError();
    const key = new SelectorKey(fileobj, fd, events, data as T);
    this.#keys.set(fd, key);
    this.#registrations.set(key, ++this.#lastRegistration);
    let added = false;
    try {
      this.addInterest(key);
      added = true;
      this.#loop?.registered(key);
    } catch (err) {
      this.#keys.delete(fd);
      if (added) this.#forgetQuietly(key);
      throw err;
    }
    return key;
  }

  /**
   * Unregisters `fileobj` (an fd or the registered object, even if closed since) and returns its key;
   * KeyError("… is not registered") if it is not. Call it before closing the fd. An fd closed first (or
   * closed and its number reused) is still removed: the kernel's EBADF/ENOENT is ignored.
   *
   * @python selectors.BaseSelector.unregister
   */
  unregister(fileobj: FileLike): SelectorKey<T> {
    const key = this.#keys.get(lookupFd(this.#keys, fileobj));
    if (key === undefined) throw notRegistered(fileobj);
    this.#keys.delete(key.fd);
    try {
      this.removeInterest(key);
    } finally {
      this.#loop?.unregistered(key);
    }
    return key;
  }

  /**
   * Changes the events and/or data of a registered object and returns the (new) key, which keeps the
   * registered `fileobj`. Changing only `data` makes no syscall; changing nothing returns the same key.
   * ValueError for invalid events (nothing changes then), KeyError if not registered. If the kernel
   * refuses the change, the registration is dropped and the error raised (CPython bpo-30014).
   *
   * @python selectors.BaseSelector.modify
   */
  modify(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    checkEvents(events);
    const key = this.#keys.get(lookupFd(this.#keys, fileobj));
    if (key === undefined) throw notRegistered(fileobj);
    const sameData = Object.is(data, key.data);
    if (events === key.events && sameData) return key;
    if (events !== key.events) {
      try {
        this.changeInterest(key, events);
      } catch (err) {
        this.#keys.delete(key.fd);
        this.#forgetQuietly(key);
        this.#loop?.unregistered(key);
        throw err;
      }
    }
    const next = new SelectorKey(key.fileobj, key.fd, events, data as T);
    this.#keys.set(key.fd, next);
    this.#registrations.set(next, this.#registrations.get(key)!);
    this.#loop?.modified(key, next);
    return next;
  }

  /**
   * Waits until some registered file objects are ready or `timeout` seconds pass: `null`/`undefined`
   * blocks, `≤ 0` polls, `> 0` waits at least that long. Returns `[key, events]` per ready object, events
   * masked to what the key waits for. Blocks the calling thread, as in Python.
   *
   * @python selectors.BaseSelector.select
   */
  abstract select(timeout?: number | null): SelectResult<T>;

  /**
   * Forgets every registration and releases the kernel object; calling it again does nothing. An attached
   * selector is detached first and a waiting `selectAsync()` rejected; safe from inside a handler.
   *
   * @python selectors.BaseSelector.close
   */
  close(): void {
    this.releaseLoop();
    this.#keys.clear();
    this.#map = null;
  }

  /**
   * Lets Node's event loop dispatch readiness from now on, without ever blocking the thread: each ready
   * registration goes to `handler(key, events)`, or — without a handler — to `key.data(key.fileobj, events)`
   * (the data must then be a function, the seeds' callback style; TypeError otherwise). Level-triggered,
   * like `select()`: a registration stays reported while it is ready. A handler may register, modify,
   * unregister, detach or close: an fd unregistered during a batch gets nothing more of that batch, and
   * neither does a new registration of the same fd number (a new socket that got the number of one just
   * closed); an fd modified meanwhile gets its new key, masked to its new events.
   *
   * If a handler throws, the selector is detached — as an exception ends a Python select loop — and the
   * exception is re-thrown as an ordinary uncaught exception. By default an attached selector keeps the
   * process alive only while it has registrations (see `ref()`/`unref()`). Calling it again replaces the
   * handler. RuntimeError while a `selectAsync()` is waiting.
   */
  attach(handler?: SelectorHandler<T>): this {
    if (this.#map === null) throw this.closedError();
    this.#integration().attach(handler);
    return this;
  }

  /** Stops the event-loop dispatch started by `attach()`; registrations stay. Does nothing if not attached. */
  detach(): this {
    this.#loop?.detach();
    return this;
  }

  /** True between `attach()` and `detach()`/`close()` (or a handler's exception). */
  get attached(): boolean {
    return this.#loop?.attached ?? false;
  }

  /** Lets the attached (or async-waiting) selector keep the process alive while it has registrations: the default. */
  ref(): this {
    if (this.#map !== null) this.#integration().ref();
    return this;
  }

  /** Stops the attached (or async-waiting) selector from keeping the process alive; it still dispatches. */
  unref(): this {
    if (this.#map !== null) this.#integration().unref();
    return this;
  }

  /** True when the selector is attached or waiting and keeps the process alive right now. */
  hasRef(): boolean {
    return this.#loop?.hasRef() ?? false;
  }

  /**
   * What `select(timeout)` returns, without blocking the thread: a Promise that resolves as soon as something
   * is ready, or — after `timeout` seconds (`≤ 0`: at once) — with whatever is ready then, usually nothing.
   * No timeout waits for readiness only. Rejects with the error `select()` would raise, with the closed
   * selector's error if it is closed meanwhile, and with RuntimeError while attached or while another
   * `selectAsync()` is waiting (one waiter at a time). The timeout follows exactly `select()`'s rules and
   * errors. `options.signal` (an AbortSignal) rejects the wait with an AbortError — at once if it is already
   * aborted — and leaves the selector usable; unknown options are a TypeError. The result is a snapshot
   * like `select()`'s; see `isCurrentKey` for dispatching it when handlers may unregister other fds.
   */
  selectAsync(timeout?: number | null, options?: WaitOptions): Promise<SelectResult<T>> {
    let ms: number | null;
    let signal: AbortSignal | undefined;
    try {
      signal = waitSignal(options);
      if (this.#map === null) throw this.closedError();
      ms = this.waitMs(timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#integration().selectAsync(ms, signal);
  }

  /**
   * `selectAsync(timeout)` results, one after the other: `for await (const ready of selector.events())`.
   * With a timeout, a wait that times out yields what `select` would (usually an empty array). The
   * iteration ends when the selector is closed; other errors are thrown from it — an AbortError when
   * `options.signal` aborts. Options are checked here, before the first wait (TypeError).
   */
  events(timeout?: number | null, options?: WaitOptions): AsyncGenerator<SelectResult<T>, void, undefined> {
    waitSignal(options);
    return this.#events(timeout, options);
  }

  async *#events(timeout: number | null | undefined, options: WaitOptions | undefined): AsyncGenerator<SelectResult<T>, void, undefined> {
    while (this.#map !== null) {
      let ready: SelectResult<T>;
      try {
        ready = await this.selectAsync(timeout, options);
      } catch (err) {
        if (this.#map === null) return;
        throw err;
      }
      yield ready;
    }
  }

  /**
   * The key of `fileobj`; KeyError("… is not registered") if absent, RuntimeError("Selector is closed")
   * after close().
   *
   * @python selectors.BaseSelector.get_key
   */
  getKey(fileobj: FileLike): SelectorKey<T> {
    const map = this.#map;
    if (map === null) throw new RuntimeError('Selector is closed');
    return map.getOrThrow(fileobj);
  }

  /**
   * The live read-only mapping fd → key, or null once closed (a mapping taken before stays, empty).
   *
   * @python selectors.BaseSelector.get_map
   */
  getMap(): SelectorMapping<T> | null {
    return this.#map;
  }

  /** `close()`, for `using`: the selector is closed when the block that declared it ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * What `select(timeout)` waits, in whole milliseconds (null: until something is ready), raising exactly
   * what `select(timeout)` raises for a bad timeout: the async waits use it. The default is select(2)'s and
   * kqueue's rule (CPython's `max(timeout, 0)` seconds, then a C time value); selectors whose `select()`
   * converts differently override it with their conversion (selectors/timeout.ts).
   */
  protected waitMs(timeout: unknown): number | null {
    return selectSelectorWaitMs(timeout);
  }

  /**
   * The kernel set that mirrors the registrations of a selector without a `loopFd()` while it is attached
   * or waiting asynchronously (epoll where it exists, else kqueue).
   */
  protected mirrorPoller(): MirrorPoller {
    return newReadySet();
  }

  /**
   * The fd whose readability means `select(0)` may report something, watched by the event loop while
   * attached or waiting asynchronously; null (the default) when the selector has none, in which case a
   * private epoll set mirroring the registrations is watched instead.
   */
  protected loopFd(): number | null {
    return null;
  }

  /**
   * `select(0)`'s batch for the event loop: each entry visited with the key its registration has at that
   * moment — an fd unregistered by an earlier visit is skipped, and so is one unregistered and registered
   * again (a new registration, perhaps of a new file with the same number); a modified one is masked to its
   * new events — until `visit` returns false.
   */
  protected forEachReady(visit: ReadyVisitor<T>): void {
    const ready = this.select(0);
    for (let i = 0; i < ready.length; i++) {
      const [key, events] = ready[i]!;
      const current = this.currentKeyOf(key);
      if (current === undefined) continue;
      const now = events & current.events;
      if (now !== 0 && !visit(current, now)) return;
    }
  }

  /**
   * The key `key`'s registration has now: `key` itself, the key a `modify` replaced it with, or undefined
   * once that registration is gone — even when the fd number was registered again since.
   */
  protected currentKeyOf(key: SelectorKey<T>): SelectorKey<T> | undefined {
    const current = this.#keys.get(key.fd);
    if (current === key) return key;
    if (current === undefined) return undefined;
    return this.#registrations.get(current) === this.#registrations.get(key) ? current : undefined;
  }

  /** Detaches and releases the event-loop integration; subclasses call it before closing their kernel fd. */
  protected releaseLoop(): void {
    this.#loop?.close();
  }

  /** Tells the kernel side about a new key (called with the key already in the table). */
  protected abstract addInterest(key: SelectorKey<T>): void;
  /** Removes a key (already out of the table) from the kernel side. */
  protected abstract removeInterest(key: SelectorKey<T>): void;
  /** Changes the events a registered key waits for on the kernel side. */
  protected abstract changeInterest(key: SelectorKey<T>, events: number): void;

  /** The key registered for `fd` right now, if any: what results are built from. */
  protected keyForFd(fd: number): SelectorKey<T> | undefined {
    return this.#keys.get(fd);
  }

  /** The number of registered fds. */
  protected get keyCount(): number {
    return this.#keys.size;
  }

  /** True once `close()` was called (for subclasses). */
  protected get isClosed(): boolean {
    return this.#map === null;
  }

  /** Throws `closedError()` once the selector is closed. */
  protected assertOpen(): void {
    if (this.#map === null) throw this.closedError();
  }

  /** What register/select raise on a closed selector. */
  protected closedError(): Error {
    return new RuntimeError('Selector is closed');
  }

  #integration(): SelectorLoop<T> {
    if (this.#loop === null) {
      this.#loop = new SelectorLoop<T>({
        kernelFd: () => this.loopFd(),
        newMirrorPoller: () => this.mirrorPoller(),
        forEachReady: (visit) => this.forEachReady(visit),
        selectNow: () => this.select(0),
        keyCount: () => this.#keys.size,
        keys: () => this.#keys.values(),
        closedError: () => this.closedError(),
      });
    }
    return this.#loop;
  }

  /** After a failed change the kernel may still watch the fd; stop that so it cannot keep waking us. */
  #forgetQuietly(key: SelectorKey<T>): void {
    try {
      this.removeInterest(key);
    } catch {
      // The error that made us drop the key is the one the caller needs to see.
    }
  }
}

/**
 * True while `key` is the current registration of its fd in `selector`: the check a dispatch loop makes
 * before handling each `[key, events]` entry of a result when handlers may unregister or re-register
 * other fds. A key replaced by `modify` counts as not current; being level-triggered, the fd is reported
 * again by the next `select()`.
 */
export function isCurrentKey<T>(selector: BaseSelector<T>, key: SelectorKey<T>): boolean {
  const map = selector.getMap();
  return map !== null && map.get(key.fd) === key;
}
