/**
 * UserDataIndex: the ring's operation slots by their caller's userData, so `cancel(userData)` visits only the
 * operations with that userData instead of every slot. An open-addressing hash (linear probing, backward-shift
 * deletion, so no tombstones) from the userData to the first slot of a doubly linked chain threaded through
 * Int32Arrays: adding and removing a slot allocate nothing and cost O(1) expected.
 */

const NO_SLOT = -1;

export class UserDataIndex {
  /** The table: a userData per position and the first slot of its chain (NO_SLOT: free position). */
  readonly #keys: Float64Array;
  readonly #head: Int32Array;
  readonly #mask: number;
  /** The chains: a slot's neighbours among the slots with the same userData (-1: none). */
  readonly #next: Int32Array;
  readonly #prev: Int32Array;

  /** An index for `slots` slots: the table has at least twice as many positions, so it is at most half full. */
  constructor(slots: number) {
    let size = 16;
    while (size < slots * 2) size *= 2;
    this.#keys = new Float64Array(size);
    this.#head = new Int32Array(size).fill(NO_SLOT);
    this.#mask = size - 1;
    this.#next = new Int32Array(slots).fill(-1);
    this.#prev = new Int32Array(slots).fill(-1);
  }

  /** The first slot with `userData`, or -1; `next(slot)` walks on. */
  first(userData: number): number {
    const at = this.#find(userData);
    return at < 0 ? -1 : this.#head[at]!;
  }

  /** The next slot with the same userData as `slot`, or -1. */
  next(slot: number): number {
    return this.#next[slot]!;
  }

  /** Records that `slot` (not in the index) now holds an operation with `userData`. */
  add(slot: number, userData: number): void {
    const mask = this.#mask;
    let at = hash(userData) & mask;
    for (;;) {
      const h = this.#head[at]!;
      if (h === NO_SLOT) {
        this.#keys[at] = userData;
        this.#head[at] = slot;
        this.#next[slot] = -1;
        this.#prev[slot] = -1;
        return;
      }
      if (this.#keys[at] === userData) {
        this.#next[slot] = h;
        this.#prev[slot] = -1;
        this.#prev[h] = slot;
        this.#head[at] = slot;
        return;
      }
      at = (at + 1) & mask;
    }
  }

  /** Forgets `slot`, which `add(slot, userData)` recorded. */
  remove(slot: number, userData: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    this.#next[slot] = -1;
    this.#prev[slot] = -1;
    if (next >= 0) this.#prev[next] = prev;
    if (prev >= 0) {
      this.#next[prev] = next;
      return;
    }
    const at = this.#find(userData);
    if (at < 0) return; // not recorded: nothing to forget
    if (next >= 0) this.#head[at] = next;
    else this.#delete(at);
  }

  #find(userData: number): number {
    const mask = this.#mask;
    let at = hash(userData) & mask;
    for (;;) {
      if (this.#head[at] === NO_SLOT) return -1;
      if (this.#keys[at] === userData) return at;
      at = (at + 1) & mask;
    }
  }

  /** Empties position `hole`, moving later entries of its probe run back so every key stays reachable. */
  #delete(hole: number): void {
    const mask = this.#mask;
    let at = hole;
    for (;;) {
      at = (at + 1) & mask;
      if (this.#head[at] === NO_SLOT) break;
      const home = hash(this.#keys[at]!) & mask;
      // The entry at `at` may fill the hole unless its home lies cyclically in (hole, at].
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        this.#keys[hole] = this.#keys[at]!;
        this.#head[hole] = this.#head[at]!;
        hole = at;
      }
    }
    this.#head[hole] = NO_SLOT;
  }
}

/** A 32-bit hash of a safe integer (both halves mixed): no allocation, integers only. */
function hash(userData: number): number {
  const lo = userData >>> 0;
  const hi = Math.floor(userData / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
