/**
 * The platform's errno values by name, for reading a completion's result (−errno) — ENOBUFS from a dry buffer
 * group, ECANCELED from a cancelled operation. Internal: `iomux/uring` does not export it; the echo server's
 * uring backend reads it.
 */
export { ERRNO } from '../sys/index.js';
