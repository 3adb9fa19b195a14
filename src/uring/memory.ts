/**
 * Memory the kernel may read or write for a ring: a WebAssembly.Memory. Its bytes never move, no caller can
 * detach them (ArrayBuffer.prototype.transfer and structured-clone transfers refuse a wasm memory's buffer), and
 * a view a caller still holds keeps them alive after the ring closed. While a ring is open (or a close could
 * not reap everything) its memories also sit in `KEPT`, so the garbage collector cannot free a ring's memory
 * while the kernel may still write into it — even when the ring object itself is dropped without close().
 */
import { MemoryError } from '../errors.js';
import { addressOf } from '../sys/index.js';

const WASM_PAGE = 65536;

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const WasmMemoryCtor = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => WasmMemory } })
  .WebAssembly.Memory;
/** The largest WebAssembly.Memory (wasm32: 65536 pages of 64 KiB). */
export const MAX_MEMORY_BYTES = 65536 * WASM_PAGE;

/** Memories a ring may have handed to the kernel, by ring: strongly held until the ring lets go of them. */
const KEPT = new Set<NativeMemory>();

export class NativeMemory {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  /** The address of byte 0 (64 KiB aligned, so page aligned too). */
  readonly address: number;

  constructor(size: number, what: string) {
    const pages = Math.max(1, Math.ceil(size / WASM_PAGE));
    if (pages * WASM_PAGE > MAX_MEMORY_BYTES) throw new MemoryError(`(${what}: ${size} bytes is more than one ring memory holds, ${MAX_MEMORY_BYTES})`);
    let memory: WasmMemory;
    try {
      memory = new WasmMemoryCtor({ initial: pages, maximum: pages });
    } catch (err) {
      throw new MemoryError(`(cannot allocate ${size} bytes for ${what})`, { cause: err });
    }
    this.bytes = new Uint8Array(memory.buffer);
    this.words = new Uint32Array(memory.buffer);
    this.address = addressOf(this.bytes);
    KEPT.add(this);
  }

  /** The kernel can no longer touch this memory: only JavaScript references keep it now. */
  release(): void {
    KEPT.delete(this);
  }
}

/** How many ring memories are kept for the kernel (for tests: 0 once every ring closed cleanly). */
export function keptMemories(): number {
  return KEPT.size;
}
