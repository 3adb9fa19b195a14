/**
 * A provided-buffer group (IORING_REGISTER_PBUF_RING): `count` buffers of `size` bytes and the ring through
 * which they are handed to the kernel, in two NativeMemory areas the ring owns: the buffers (which views given
 * to the caller expose, `.buffer` and all) and the ring of their addresses (which never leaves this object: a
 * caller who could write it could make the kernel write anywhere). Each buffer is either the
 * kernel's (in the ring, may be written at any time) or the caller's (named by a completion, not yet
 * recycled); the states are tracked so that a buffer is never read while the kernel may write it and never
 * handed back twice.
 */
import { ValueError } from '../errors.js';
import { bufRingBytes, bufRingPublish, bufRingPut } from '../sys/index.js';
import { NativeMemory } from './memory.js';

const PAGE = 4096;
const KERNEL = 0;
const CALLER = 1;

export class BufferGroup {
  readonly group: number;
  readonly count: number;
  readonly size: number;
  /** The buffers. */
  readonly memory: NativeMemory;
  /** The ring of struct io_uring_buf entries the kernel reads. */
  readonly ringMemory: NativeMemory;
  /** Byte offset of buffer 0 in `memory`. */
  readonly #base = 0;
  readonly #ring: Uint32Array;
  readonly #ring16: Uint16Array;
  readonly #state: Uint8Array;
  /** Sends in flight from each buffer (sendBuffer): a lent buffer cannot be recycled. */
  readonly #lent: Uint16Array;
  /** Each buffer's address. */
  readonly #addresses: Float64Array;
  #tail = 0;

  constructor(group: number, count: number, size: number) {
    this.group = group;
    this.count = count;
    this.size = size;
    const ringBytes = Math.ceil(bufRingBytes(count) / PAGE) * PAGE;
    this.ringMemory = new NativeMemory(ringBytes, `a ring of ${count} buffers`);
    try {
      this.memory = new NativeMemory(count * size, `${count} buffers of ${size} bytes`);
    } catch (err) {
      this.ringMemory.release();
      throw err;
    }
    this.#ring = new Uint32Array(this.ringMemory.bytes.buffer, 0, ringBytes >>> 2);
    this.#ring16 = new Uint16Array(this.ringMemory.bytes.buffer, 0, ringBytes >>> 1);
    this.#state = new Uint8Array(count).fill(CALLER);
    this.#lent = new Uint16Array(count);
    this.#addresses = new Float64Array(count);
    for (let id = 0; id < count; id++) this.#addresses[id] = this.memory.address + this.#base + id * size;
  }

  /** The ring's address, for IORING_REGISTER_PBUF_RING (page aligned: a wasm memory starts on a 64 KiB boundary). */
  get ringAddress(): number {
    return this.ringMemory.address;
  }

  /** The kernel can no longer touch either area. */
  release(): void {
    this.memory.release();
    this.ringMemory.release();
  }

  /** Hands every buffer to the kernel (after registration). */
  provideAll(): void {
    for (let id = 0; id < this.count; id++) this.#put(id);
    bufRingPublish(this.#ring16, this.#tail);
  }

  /** A completion named buffer `id`: the kernel filled it and it is the caller's until recycled. */
  taken(id: number): void {
    if (id < this.count) this.#state[id] = CALLER;
  }

  /** A view of the first `length` bytes of buffer `id`, which must be the caller's. */
  view(id: number, length: number): Buffer {
    this.#checkCaller(id, 'read');
    if (!(Number.isInteger(length) && length >= 0 && length <= this.size)) {
      throw new ValueError(`length ${String(length)} is out of range for a buffer of ${this.size} bytes`);
    }
    return Buffer.from(this.memory.bytes.buffer, this.#base + id * this.size, length);
  }

  /**
   * Lends `[offset, offset + length)` of buffer `id` (the caller's) to a send: returns its byte offset in
   * `memory` (a small integer: no boxed double per call). The buffer stays the caller's but cannot be recycled
   * until `unlend`.
   */
  lend(id: number, offset: number, length: number): number {
    this.#checkCaller(id, 'send');
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new ValueError(`offset ${String(offset)} and length ${String(length)} are out of range for a buffer of ${this.size} bytes`);
    }
    if (this.#lent[id] === 0xffff) throw new ValueError(`buffer ${id} of group ${this.group} has too many sends in flight`);
    this.#lent[id]!++;
    return this.#base + id * this.size + offset;
  }

  /** A send from buffer `id` completed for the last time. */
  unlend(id: number): void {
    if (this.#lent[id]! > 0) this.#lent[id]!--;
  }

  /** Gives buffer `id` back to the kernel. */
  recycle(id: number): void {
    this.#checkCaller(id, 'recycle');
    if (this.#lent[id] !== 0) throw new ValueError(`cannot recycle buffer ${id} of group ${this.group}: a send from it is in flight`);
    this.#put(id);
    bufRingPublish(this.#ring16, this.#tail);
  }

  /** Whether buffer `id` is the caller's now. */
  isCallers(id: number): boolean {
    return this.#state[id] === CALLER;
  }

  #put(id: number): void {
    this.#state[id] = KERNEL;
    bufRingPut(this.#ring, this.#ring16, this.#tail & (this.count - 1), this.#addresses, this.size, id);
    this.#tail = (this.#tail + 1) & 0xffff;
  }

  #checkCaller(id: number, what: string): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.count)) {
      throw new ValueError(`buffer id ${String(id)} is out of range for group ${this.group} (${this.count} buffers)`);
    }
    if (this.#state[id] !== CALLER) {
      throw new ValueError(`cannot ${what} buffer ${id} of group ${this.group}: the kernel owns it (recycled, or not named by a completion)`);
    }
  }
}
