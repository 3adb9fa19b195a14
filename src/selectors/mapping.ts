/** The live, read-only view that `getMap()` returns (Python's `_SelectorMapping`). */
import { KeyError } from '../errors.js';
import { describe } from '../fileobj.js';
import { lookupFd } from './fd.js';
import type { SelectorKey } from './key.js';

/**
 * The registrations of a selector, keyed by fd, in registration order. It reads the selector's own table,
 * so it always shows the current state; after the selector is closed it is empty. Lookups accept an fd or
 * any registered object (a closed one too, by identity); an invalid object raises ValueError.
 */
export class SelectorMapping<T = unknown> implements Iterable<number> {
  readonly #keys: ReadonlyMap<number, SelectorKey<T>>;

  /** Views `keys` (the selector's fd → key table); not for users: `selector.getMap()` gives one. */
  constructor(keys: ReadonlyMap<number, SelectorKey<T>>) {
    this.#keys = keys;
    Object.freeze(this);
  }

  /** Number of registered fds. */
  get size(): number {
    return this.#keys.size;
  }

  /** The key of `fileobj` (an fd or a registered object), or `defaultValue` when it is not registered. */
  get(fileobj: unknown): SelectorKey<T> | undefined;
  get<D>(fileobj: unknown, defaultValue: D): SelectorKey<T> | D;
  get<D>(fileobj: unknown, defaultValue?: D): SelectorKey<T> | D | undefined {
    return this.#keys.get(lookupFd(this.#keys, fileobj)) ?? defaultValue;
  }

  /** The key of `fileobj`; KeyError("… is not registered") when it is not (Python's `mapping[fileobj]`). */
  getOrThrow(fileobj: unknown): SelectorKey<T> {
    const key = this.#keys.get(lookupFd(this.#keys, fileobj));
    if (key === undefined) throw new KeyError(fileobj, `${describe(fileobj)} is not registered`);
    return key;
  }

  /** True when `fileobj` (an fd or an object) is registered. */
  has(fileobj: unknown): boolean {
    return this.#keys.has(lookupFd(this.#keys, fileobj));
  }

  /** The registered fds (iterating the mapping yields these too, as in Python). */
  keys(): IterableIterator<number> {
    return this.#keys.keys();
  }

  /** The SelectorKeys. */
  values(): IterableIterator<SelectorKey<T>> {
    return this.#keys.values();
  }

  /** `[fd, key]` pairs. */
  entries(): IterableIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  /** The registered fds, as `keys()`. */
  [Symbol.iterator](): IterableIterator<number> {
    return this.#keys.keys();
  }
}
