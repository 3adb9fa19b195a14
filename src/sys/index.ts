/** The native boundary: plain functions over libc, returning a result ≥ 0 or -errno. */
export * from './constants.js';
export { errnoName, strerror, ERRNO } from './lib.js';
export * from './io.js';
export * from './multiplex.js';
export * from './socket.js';
export * from './netdb.js';
export * from './kqueue.js';
export * from './timerfd.js';
export * from './uring.js';
export * from './views.js';
