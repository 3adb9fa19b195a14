/**
 * The connections waiting for their read, first in first out: the echo core's round robin (see
 * `EchoPath.onReadable`). A ring over one array that only grows (doubling, to the number of connections at
 * most), so pushing and shifting allocate nothing once it has reached its size.
 */
export class ReadyRing<T> {
  #slots: Array<T | undefined> = new Array<T | undefined>(16).fill(undefined);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#size) % this.#slots.length] = item;
    this.#size++;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined; // a closed connection is not kept alive by its old slot
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#size--;
    return item;
  }

  #grow(): void {
    const grown = new Array<T | undefined>(this.#slots.length * 2).fill(undefined);
    for (let i = 0; i < this.#size; i++) grown[i] = this.#slots[(this.#head + i) % this.#slots.length];
    this.#slots = grown;
    this.#head = 0;
  }
}
