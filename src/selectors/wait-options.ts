/** The AbortSignal option of the async waits (`selectAsync`, `events`), as Node's own APIs take it. */
import { describe } from '../fileobj.js';

/** What `selectAsync(timeout, options)` and `events(timeout, options)` accept. */
export interface WaitOptions {
  /** Aborting it rejects the wait with an AbortError (DOMException), the selector staying usable. */
  signal?: AbortSignal;
}

/**
 * The signal of `options` (undefined when none). TypeError for options that are not an object, an unknown
 * option (a misspelt `signal` would otherwise be silently ignored) or a signal that is not an AbortSignal.
 */
export function waitSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object (got ${describe(options)})`);
  }
  for (const name of Object.keys(options)) {
    if (name !== 'signal') throw new TypeError(`unknown option '${name}' (the only option is 'signal')`);
  }
  const { signal } = options as { signal?: unknown };
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError(`options.signal must be an AbortSignal (got ${describe(signal)})`);
  return signal;
}

/** The rejection of an aborted wait: a DOMException named AbortError whose cause is the signal's reason. */
export function abortError(signal: AbortSignal): DOMException {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason });
}
