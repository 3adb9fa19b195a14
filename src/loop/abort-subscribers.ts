/**
 * One `abort` listener per AbortSignal, however many waits use it: Node prints MaxListenersExceededWarning
 * past 10 listeners on one signal, and sharing one signal among many operations is ordinary (a shutdown
 * signal, a request's timeout). The listener goes away with the signal's last subscriber.
 */
import { reportUncaught } from './uncaught.js';

/** Told once when the signal it subscribed to is aborted. */
export interface AbortSubscriber {
  onAbort(): void;
}

interface Subscribers {
  readonly members: Set<AbortSubscriber>;
  readonly listener: () => void;
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * Tells `subscriber` when `signal` is aborted — at once, synchronously, when it already is (a listener added
 * to an aborted signal would never fire).
 */
export function subscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  if (signal.aborted) {
    subscriber.onAbort();
    return;
  }
  let subs = bySignal.get(signal);
  if (subs === undefined) {
    const members = new Set<AbortSubscriber>();
    const listener = (): void => {
      bySignal.delete(signal);
      const told = [...members];
      members.clear();
      for (const member of told) {
        try {
          member.onAbort();
        } catch (err) {
          reportUncaught(err); // one subscriber's failure must not keep the others waiting
        }
      }
    };
    subs = { members, listener };
    bySignal.set(signal, subs);
    signal.addEventListener('abort', listener, { once: true });
  }
  subs.members.add(subscriber);
}

/** Forgets `subscriber`; the signal's listener is removed with its last subscriber. */
export function unsubscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  const subs = bySignal.get(signal);
  if (subs === undefined || !subs.members.delete(subscriber) || subs.members.size !== 0) return;
  bySignal.delete(signal);
  signal.removeEventListener('abort', subs.listener);
}
