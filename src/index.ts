/**
 * iomux: readiness-based I/O multiplexing for Node.js, after Python's select, selectors and socket.
 *
 * @module iomux
 */
export * from './errors.js';
export * from './select/index.js';
export * from './selectors/index.js';
export * from './socket/index.js';
export * from './loop/index.js';
export * as os from './os.js';
export * from './uring/index.js';
