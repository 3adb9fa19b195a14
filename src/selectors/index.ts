/**
 * `iomux/selectors`: Python's `selectors` module — one API over select, poll, epoll and kqueue, with any data
 * attached to each registration.
 *
 * @module iomux/selectors
 */
export { EVENT_READ, EVENT_WRITE, SelectorKey } from './key.js';
export { SelectorMapping } from './mapping.js';
export { BaseSelector, isCurrentKey, type SelectResult } from './base.js';
export { PollLikeSelector, type Poller, type PollLikeOptions } from './poll-like.js';
export { SelectSelector } from './select-selector.js';
export { PollSelector } from './poll-selector.js';
export { EpollSelector } from './epoll-selector.js';
export { KqueueSelector } from './kqueue-selector.js';
export { DefaultSelector, type DefaultSelectorClass } from './default.js';
export type { SelectorHandler } from './selector-loop.js';
export type { WaitOptions } from './wait-options.js';
export type { FileLike } from '../fileobj.js';
