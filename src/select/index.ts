/**
 * `iomux/select`: Python's `select` module — select(), poll, epoll (Linux) and kqueue (macOS, BSD; Linux via libkqueue) over real fds.
 *
 * @module iomux/select
 */
export { select } from './select.js';
export { Poll, poll } from './poll.js';
export { Epoll, epoll } from './epoll.js';
export { Kqueue, kqueue, Kevent, kevent, hasKqueue } from './kqueue.js';
export * from './constants.js';
export type { FileLike } from '../fileobj.js';
