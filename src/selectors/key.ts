/** The registration record of `iomux/selectors` and the event bits it carries. */
import { ValueError } from '../errors.js';
import { EVENT_READ, EVENT_WRITE } from '../events.js';
import { describe, type FileLike } from '../fileobj.js';

export { EVENT_READ, EVENT_WRITE };

const ALL_EVENTS = EVENT_READ | EVENT_WRITE;

/**
 * One registration: the object as the caller passed it, its fd, the events waited for and the caller's
 * data. Frozen, like Python's namedtuple; a change (`modify`) makes a new key.
 *
 * @python selectors.SelectorKey
 */
export class SelectorKey<T = unknown> {
  /**
   * File object registered (as passed to `register`; `modify` keeps it).
   *
   * @python selectors.SelectorKey.fileobj
   */
  readonly fileobj: FileLike;
  /**
   * Underlying file descriptor.
   *
   * @python selectors.SelectorKey.fd
   */
  readonly fd: number;
  /**
   * Events that must be waited for on this file object (EVENT_READ | EVENT_WRITE).
   *
   * @python selectors.SelectorKey.events
   */
  readonly events: number;
  /**
   * Optional opaque data associated to this file object (`undefined` when none was given).
   *
   * @python selectors.SelectorKey.data
   */
  readonly data: T;

  constructor(fileobj: FileLike, fd: number, events: number, data: T) {
    this.fileobj = fileobj;
    this.fd = fd;
    this.events = events;
    this.data = data;
    Object.freeze(this);
  }
}

/**
 * Python's check in `register`: events must be a non-empty subset of EVENT_READ | EVENT_WRITE.
 * ValueError("Invalid events: N") otherwise; TypeError for a non-integer (Python's `&` would raise it).
 */
export function checkEvents(events: unknown): number {
  if (events === EVENT_READ || events === EVENT_WRITE || events === ALL_EVENTS) return events;
  if (typeof events !== 'number' || !Number.isInteger(events)) {
    throw new TypeError(`events must be an integer (got ${describe(events)})`);
  }
  throw new ValueError(`Invalid events: ${events}`);
}
