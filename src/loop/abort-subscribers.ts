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

/** A signal's subscribers, kept with the signal (its listener is attached only while it has some). */
interface Subscribers {
  readonly members: Set<AbortSubscriber>;
  readonly listener: () => void;
  listening: boolean;
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

function subscribersOf(signal: AbortSignal): Subscribers {
  let subs = bySignal.get(signal);
  if (subs === undefined) {
    const members = new Set<AbortSubscriber>();
    const created: Subscribers = {
      members,
      listening: false,
      listener: () => {
        created.listening = false;
        const told = [...members];
        members.clear();
        for (const member of told) {
          try {
            member.onAbort();
          } catch (err) {
            reportUncaught(err); // one subscriber's failure must not keep the others waiting
          }
        }
      },
    };
    subs = created;
    bySignal.set(signal, subs);
  }
  return subs;
}

/**
 * Tells `subscriber` when `signal` is aborted — at once, synchronously, when it already is (a listener added
 * to an aborted signal would never fire).
 */
export function subscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  if (signal.aborted) {
    subscriber.onAbort();
    return;
  }
  const subs = subscribersOf(signal);
  subs.members.add(subscriber);
  if (!subs.listening) {
    subs.listening = true;
    signal.addEventListener('abort', subs.listener, { once: true });
  }
}

/** Forgets `subscriber`; the signal's listener is removed with its last subscriber. */
export function unsubscribeAbort(signal: AbortSignal, subscriber: AbortSubscriber): void {
  const subs = bySignal.get(signal);
  if (subs === undefined || !subs.members.delete(subscriber) || subs.members.size !== 0 || !subs.listening) return;
  subs.listening = false;
  signal.removeEventListener('abort', subs.listener);
}
