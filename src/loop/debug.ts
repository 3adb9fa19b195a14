/**
 * NODE_DEBUG=iomux: one line on stderr for each thing iomux/loop does on Node's event loop — watches armed,
 * fired, stopped and closed; selectors attached and detached; awaitable socket operations started, waiting,
 * settled, aborted — through util.debuglog, as Node core and undici trace (`IOMUX <pid>: …`).
 *
 * Off by default and free then: `tracing` is read once at load, so each trace point is a branch on a constant
 * (`if (tracing) trace(…)`) that builds no string and allocates nothing when NODE_DEBUG does not name iomux.
 */
import { debuglog } from 'node:util';
import { EVENT_READ, EVENT_WRITE } from '../events.js';

const log = debuglog('iomux');

/** Whether NODE_DEBUG names iomux (fixed for the life of the process, as util.debuglog decides it). */
export const tracing: boolean = log.enabled;

/** Writes one trace line (util.format's %s, %d, %j); call it only under `if (tracing)`. */
export function trace(format: string, ...args: unknown[]): void {
  log(format, ...args);
}

/** EVENT_READ/EVENT_WRITE bits as words: 'read', 'write', 'read+write', 'nothing'. */
export function eventWords(events: number): string {
  const words = [];
  if (events & EVENT_READ) words.push('read');
  if (events & EVENT_WRITE) words.push('write');
  return words.length === 0 ? 'nothing' : words.join('+');
}
