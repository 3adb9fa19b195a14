/**
 * Returning the memory of drained output queues. A queue's chunks are Buffers: once dropped they are
 * garbage, but an idle server allocates nothing, so V8 has no reason to collect them; and when it does,
 * glibc keeps the freed chunks in its heap. After a flood of unsent output drains away, the server would
 * keep its peak resident size for good. So when the queued total has fallen far below a large peak, the
 * server asks V8 for a full collection and, once V8's background threads have freed the buffers' memory,
 * asks the C library to give the free pages back (see sys/memory.ts). Both are pauses of a few ms to a few
 * tens of ms, taken once per flood, never more often than every RELEASE_INTERVAL_MS.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimHeap } from '../../os-heap.js';

/** A flood below this much queued output is not worth a collection. */
const RELEASE_PEAK_BYTES = 16 * 1024 * 1024;
/** The total must fall to this fraction of its peak. */
const RELEASE_FRACTION = 1 / 8;
/** V8 frees array buffers' memory on background threads after the collection: the trim waits this long. */
const TRIM_DELAY_MS = 200;
const RELEASE_INTERVAL_MS = 2000;

let gc: (() => void) | null | undefined;

/**
 * V8's collector, exposed the way `node --expose-gc` does. Only the echo server's own process calls this
 * (the CLI), never a program that imports the library: it sets a V8 flag for the whole process.
 */
function collector(): (() => void) | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  return gc;
}

export class MemoryReturn {
  /** The largest queued total since the last release. */
  #peak = 0;
  /** Monotonic ms when the heap is to be trimmed (after a collection); 0: no trim scheduled. */
  #trimAt = 0;
  #nextAllowed = 0;
  /** Releases so far (for the log and tests). */
  releases = 0;

  /** Called with the queued total whenever it grows. */
  grew(total: number): void {
    if (total > this.#peak) this.#peak = total;
  }

  /** Called from the server's timers: collects, then trims, once a big peak has drained. */
  tick(total: number, now: number): boolean {
    if (this.#trimAt !== 0) {
      if (now < this.#trimAt) return false;
      this.#trimAt = 0;
      trimHeap();
      this.releases++;
      return true;
    }
    if (this.#peak < RELEASE_PEAK_BYTES || total > this.#peak * RELEASE_FRACTION || now < this.#nextAllowed) return false;
    this.#peak = total;
    this.#nextAllowed = now + RELEASE_INTERVAL_MS;
    collector()?.();
    this.#trimAt = now + TRIM_DELAY_MS;
    return false;
  }
}
