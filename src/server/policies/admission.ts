/**
 * How the echo server accepts connections, wherever it does: in each server's core and in the --balance
 * handoff acceptor. One readiness event of the listener accepts at most a batch, and accept()'s errors mean
 * the same thing in both places.
 */
import { BlockingIOError, ConnectionAbortedError, InterruptedError, OSError } from '../../errors.js';
import type { Socket, SocketAddress } from '../../socket/index.js';

/** Connections accepted per readiness event of the listener, so one busy listener cannot starve the rest. */
export const ACCEPT_BATCH = 256;
/** After accept fails (EMFILE, ENFILE, …), the listener is left unwatched this long rather than spin. */
export const ACCEPT_BACKOFF_MS = 100;

/**
 * One accept(): the connection; 'empty' when nothing is pending (whatever failed before is over); 'retry'
 * when the client gave up before it was accepted or a signal interrupted accept (try the next one); or the
 * OSError to back off from. Anything that is not an OSError propagates.
 */
export function acceptNext(listener: Socket): [Socket, SocketAddress] | 'empty' | 'retry' | OSError {
  try {
    return listener.accept();
  } catch (err) {
    if (err instanceof BlockingIOError) return 'empty';
    if (err instanceof ConnectionAbortedError || err instanceof InterruptedError) return 'retry';
    if (err instanceof OSError) return err;
    throw err;
  }
}
