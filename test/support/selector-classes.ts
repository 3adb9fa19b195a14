/**
 * Every selector class the loop tests run against. A new selector (e.g. KqueueSelector) joins every loop
 * test, the fuzz test included, by being added here.
 */
import { EpollSelector, KqueueSelector, PollSelector, SelectSelector, type BaseSelector } from 'iomux/selectors';
import './kqueue.js';

export type SelectorClass = new <T = unknown>() => BaseSelector<T>;

export const SELECTOR_CLASSES: ReadonlyArray<readonly [name: string, cls: SelectorClass]> = [
  ['EpollSelector', EpollSelector as SelectorClass],
  ['KqueueSelector', KqueueSelector as SelectorClass],
  ['PollSelector', PollSelector as SelectorClass],
  ['SelectSelector', SelectSelector as SelectorClass],
];
