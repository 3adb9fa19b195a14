/**
 * The unsent output of one connection: only the remainders the kernel did not take, in order. Bytes are
 * copied in (the caller's buffer is reused for the next read) and packed into chunks, so a client that
 * falls behind costs its pending bytes plus at most one partly filled chunk.
 */

/** What the queue needs from a socket: a non-blocking send that returns -1 instead of raising EAGAIN. */
export interface Sender {
  trySend(data: Uint8Array, offset?: number, length?: number): number;
}

/** Growth step once a queue holds more than one remainder. */
const CHUNK_BYTES = 64 * 1024;

export class OutputQueue {
  /** Chunks in order; every chunk but the last is full. */
  #chunks: Buffer[] = [];
  /** Bytes of the first chunk already sent. */
  #headOffset = 0;
  /** Bytes used in the last chunk. */
  #tailUsed = 0;
  /** Unsent bytes. */
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends a copy of `src[start, end)`. */
  push(src: Uint8Array, start: number, end: number): void {
    let from = start;
    const last = this.#chunks.length - 1;
    if (last >= 0) {
      const tail = this.#chunks[last]!;
      const n = Math.min(tail.length - this.#tailUsed, end - from);
      if (n > 0) {
        tail.set(src.subarray(from, from + n), this.#tailUsed);
        this.#tailUsed += n;
        from += n;
      }
    }
    const rest = end - from;
    if (rest > 0) {
      // The first remainder gets an exact-size copy (usually all there is); a queue that keeps growing
      // gets roomy chunks so appends are plain copies.
      const chunk = Buffer.allocUnsafe(this.#chunks.length === 0 ? rest : Math.max(rest, CHUNK_BYTES));
      chunk.set(src.subarray(from, end), 0);
      this.#chunks.push(chunk);
      this.#tailUsed = rest;
    }
    this.#size += end - start;
  }

  /** The first unsent bytes (at most `max`), without copying: for log lines. */
  peek(max: number): Buffer {
    const head = this.#chunks[0];
    if (head === undefined) return Buffer.alloc(0);
    const end = this.#chunks.length === 1 ? this.#tailUsed : head.length;
    return head.subarray(this.#headOffset, Math.min(end, this.#headOffset + max));
  }

  /**
   * Sends as much as `socket` takes, in order, and returns how many bytes went out (0 when the kernel took
   * nothing). Errors (reset, broken pipe) propagate; the queue is left as it was for the unsent part.
   */
  sendTo(socket: Sender): number {
    let sent = 0;
    while (this.#chunks.length > 0) {
      const head = this.#chunks[0]!;
      const end = this.#chunks.length === 1 ? this.#tailUsed : head.length;
      const length = end - this.#headOffset;
      const n = socket.trySend(head, this.#headOffset, length);
      if (n <= 0) break;
      sent += n;
      this.#size -= n;
      if (n < length) {
        this.#headOffset += n;
        break;
      }
      this.#chunks.shift();
      this.#headOffset = 0;
    }
    if (this.#chunks.length === 0) this.#tailUsed = 0;
    return sent;
  }

  /** Drops everything (the connection is closing). */
  clear(): void {
    this.#chunks = [];
    this.#headOffset = 0;
    this.#tailUsed = 0;
    this.#size = 0;
  }
}
