/** `iomux/select`: Python's `select` module on Linux — select(), poll and epoll over real fds. */
export { select } from './select.js';
export { Poll, poll } from './poll.js';
export { Epoll, epoll } from './epoll.js';
export * from './constants.js';
export type { FileLike } from '../fileobj.js';
