/**
 * Giving the C heap's free pages back to the kernel (glibc's malloc_trim; sys/memory.ts): what a long-running
 * server does once a flood of output has drained. Internal — the os layer's part that `iomux/os` does not
 * export (Python's os has no such call); the echo server's memory policy uses it.
 */
export { trimHeap } from './sys/memory.js';
