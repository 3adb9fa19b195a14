/**
 * Giving freed heap memory back to the kernel. glibc keeps what `free` released in its arenas (only the
 * top of the heap is trimmed on its own); `malloc_trim(0)` returns every whole free page inside them too.
 * Other C libraries (musl) have no such call and return memory by themselves, or not at all.
 */
import { libc } from './lib.js';

const mallocTrimNative = loadMallocTrim();

function loadMallocTrim(): ((pad: number) => number) | null {
  try {
    return libc.func('int malloc_trim(unsigned long)') as (pad: number) => number;
  } catch {
    return null; // not glibc
  }
}

/** Returns the C heap's free pages to the kernel where the C library can (glibc); false where it cannot. */
export function trimHeap(): boolean {
  if (mallocTrimNative === null) return false;
  mallocTrimNative(0);
  return true;
}
