/**
 * The --workers servers' common tally: one SharedArrayBuffer of Int32 cells that every worker updates with
 * Atomics, so --max-connections and --max-total-pending hold for the process as a whole.
 *
 * - Open connections: a slot is taken (compare-and-swap, so the limit is never passed even by two workers
 *   accepting at the same instant) before the connection is served, and given back when it is closed.
 * - Unsent bytes: an Int32 of bytes would overflow at 2 GiB, and --max-total-pending goes far beyond that,
 *   so each worker publishes its own total in whole KiB and keeps the remainder to itself. A worker sees
 *   its own bytes exactly and each other worker's at most 1 KiB short: the budget is a memory bound, and
 *   with 256 workers that is 256 KiB of slack.
 * - Each worker also keeps its share of every cell in a cell of its own. Nothing else writes there, so
 *   when a worker dies without closing its connections, the main thread gives its share back
 *   (`releaseWorker`) and the limits do not stay taken by connections that are gone.
 */
import type { Tally } from '../core/tally.js';

const OPEN = 0;
const PEAK = 1;
const HOLDERS = 2;
const PENDING_KIB = 3;
const GLOBAL_CELLS = 4;
/** Per worker: its open connections, its holders, its published KiB. */
const MY_OPEN = 0;
const MY_HOLDERS = 1;
const MY_PENDING_KIB = 2;
const WORKER_CELLS = 3;
const KIB = 1024;

/** The buffer for `workers` workers, all zero. */
export function sharedTallyBuffer(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer((GLOBAL_CELLS + WORKER_CELLS * workers) * Int32Array.BYTES_PER_ELEMENT);
}

export class SharedTally implements Tally {
  readonly #cells: Int32Array;
  /** Where this worker's own cells start. */
  readonly #mine: number;
  /** This worker's unsent bytes, exactly. */
  #pending = 0;
  /** What of them is published in PENDING_KIB, in KiB. */
  #publishedKib = 0;

  /** `worker`: this worker's index (0-based). */
  constructor(buffer: SharedArrayBuffer, worker: number) {
    this.#cells = new Int32Array(buffer);
    this.#mine = GLOBAL_CELLS + WORKER_CELLS * worker;
  }

  get open(): number {
    return Atomics.load(this.#cells, OPEN);
  }

  tryOpen(max: number): boolean {
    const cells = this.#cells;
    let open = Atomics.load(cells, OPEN);
    for (;;) {
      if (open >= max) return false;
      const seen = Atomics.compareExchange(cells, OPEN, open, open + 1);
      if (seen === open) break;
      open = seen;
    }
    Atomics.add(cells, this.#mine + MY_OPEN, 1);
    const now = open + 1;
    for (let peak = Atomics.load(cells, PEAK); now > peak;) {
      const seen = Atomics.compareExchange(cells, PEAK, peak, now);
      if (seen === peak) break;
      peak = seen;
    }
    return true;
  }

  closed(): void {
    Atomics.sub(this.#cells, OPEN, 1);
    Atomics.sub(this.#cells, this.#mine + MY_OPEN, 1);
  }

  get pending(): number {
    return (Atomics.load(this.#cells, PENDING_KIB) - this.#publishedKib) * KIB + this.#pending;
  }

  addPending(delta: number): void {
    this.#pending += delta;
    const kib = Math.floor(this.#pending / KIB);
    if (kib === this.#publishedKib) return;
    Atomics.add(this.#cells, PENDING_KIB, kib - this.#publishedKib);
    Atomics.store(this.#cells, this.#mine + MY_PENDING_KIB, kib);
    this.#publishedKib = kib;
  }

  get holders(): number {
    return Atomics.load(this.#cells, HOLDERS);
  }

  addHolders(delta: number): void {
    Atomics.add(this.#cells, HOLDERS, delta);
    Atomics.add(this.#cells, this.#mine + MY_HOLDERS, delta);
  }
}

/** The main thread's view of the tally: totals, each worker's open connections, and the release of a dead worker's share. */
export class TallyReader {
  readonly #cells: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#cells = new Int32Array(buffer);
  }

  get open(): number {
    return Atomics.load(this.#cells, OPEN);
  }

  /** The most connections open at once, over all workers. */
  get peak(): number {
    return Atomics.load(this.#cells, PEAK);
  }

  get holders(): number {
    return Atomics.load(this.#cells, HOLDERS);
  }

  /** Unsent bytes in all, in whole KiB as published. */
  get pendingKib(): number {
    return Atomics.load(this.#cells, PENDING_KIB);
  }

  /** Connections worker `worker` has open. */
  openIn(worker: number): number {
    return Atomics.load(this.#cells, GLOBAL_CELLS + WORKER_CELLS * worker + MY_OPEN);
  }

  /**
   * Takes back what worker `worker` still holds (call only once its thread has ended): the connections,
   * holders and bytes it did not give back itself. Returns how many connections that was.
   */
  releaseWorker(worker: number): number {
    const cells = this.#cells;
    const base = GLOBAL_CELLS + WORKER_CELLS * worker;
    const open = Atomics.exchange(cells, base + MY_OPEN, 0);
    Atomics.sub(cells, OPEN, open);
    Atomics.sub(cells, HOLDERS, Atomics.exchange(cells, base + MY_HOLDERS, 0));
    Atomics.sub(cells, PENDING_KIB, Atomics.exchange(cells, base + MY_PENDING_KIB, 0));
    return open;
  }
}
