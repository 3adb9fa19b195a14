/**
 * How the core paces each connection's echo: the server's way, or the PyMOTW select tutorial's, step by
 * step (`--tutorial`, see docs/cli.md). The tutorial's server queues what it reads and sends it on the next
 * writable event, and reports the empty queue on the one after, so its log reads received → sending →
 * "output queue … is empty", one wake-up each; the server sends within the read event instead.
 */

export interface EchoStyle {
  /**
   * True for the tutorial: `recv(1024)`, everything read queued and sent on the next writable event, the
   * drained queue reported on the writable event after that, no reading meanwhile, and no fair scheduler
   * (each connection in event order). False for the server: read up to the fair share, echo at once.
   */
  readonly oneStepAtATime: boolean;
  /** The most one read takes, given the fair scheduler's share for it. */
  readLength(share: number): number;
}

/** The server's pacing: read what the scheduler allows, echo straight back. */
export const SERVER_STYLE: EchoStyle = {
  oneStepAtATime: false,
  readLength: (share) => share,
};

/** The tutorial's `s.recv(1024)`. */
const TUTORIAL_RECV_BYTES = 1024;

/** The PyMOTW tutorial's pacing (--tutorial). */
export const TUTORIAL_STYLE: EchoStyle = {
  oneStepAtATime: true,
  readLength: () => TUTORIAL_RECV_BYTES,
};

export function styleOf(options: { tutorial: boolean }): EchoStyle {
  return options.tutorial ? TUTORIAL_STYLE : SERVER_STYLE;
}
