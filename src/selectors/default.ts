/** DefaultSelector: the most efficient selector this system supports, chosen once by probing. */
import { OSError } from '../errors.js';
import { Epoll, Kqueue, Poll } from '../select/index.js';
import { kqueueFdIsPollable } from '../select/kqueue.js';
import type { BaseSelector } from './base.js';
import { EpollSelector } from './epoll-selector.js';
import { KqueueSelector } from './kqueue-selector.js';
import { PollSelector } from './poll-selector.js';
import { SelectSelector } from './select-selector.js';

/** The type of `DefaultSelector`: a constructor of whichever selector class was chosen. */
export interface DefaultSelectorClass {
  /** A new selector of the chosen class. */
  new <T = unknown>(): BaseSelector<T>;
  /** The chosen class's prototype (`sel instanceof DefaultSelector` works). */
  readonly prototype: BaseSelector<unknown>;
}

/** CPython's `_can_use`: the primitive exists if creating (and, for poll, calling) it raises no OSError. */
function works(probe: () => void): boolean {
  try {
    probe();
    return true;
  } catch (err) {
    if (err instanceof OSError) return false;
    throw err;
  }
}

function chooseDefault(): DefaultSelectorClass {
  // CPython's order is epoll, kqueue, devpoll, poll, select. A kqueue counts only where the kernel provides
  // it: libkqueue on Linux is a userspace emulation over epoll, so EpollSelector stays Linux's default.
  if (works(() => new Epoll().close())) return EpollSelector;
  if (kqueueFdIsPollable() && works(() => new Kqueue().close())) return KqueueSelector;
  if (works(() => new Poll().poll(0))) return PollSelector;
  return SelectSelector;
}

/**
 * The best selector here: EpollSelector on Linux, KqueueSelector on macOS and FreeBSD, else PollSelector, else SelectSelector.
 *
 * @python selectors.DefaultSelector
 */
export const DefaultSelector: DefaultSelectorClass = chooseDefault();
export type DefaultSelector<T = unknown> = BaseSelector<T>;
