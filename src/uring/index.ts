/**
 * `iomux/uring`: Linux's io_uring as a small, safe, completion-based ring beside the readiness API
 * (docs/uring.md). `hasUring()` says whether this process can use it.
 *
 * @module iomux/uring
 */
export { IoUring, type IoUringOptions, type UringRecvOptions } from './ring.js';
export { hasUring, uringUnavailableReason } from './availability.js';
