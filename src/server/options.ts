/** The echo server's settings, as `iomux echo-server` takes them on its command line. */

/** The event loops: each written with its API's own idiom (see src/server/backends/; the loop around them is src/server/core/serve.ts). */
export const BACKENDS = ['default', 'select', 'poll', 'epoll', 'kqueue', 'uring', 'selectors'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The selector classes the `selectors` backend can run on. */
export const SELECTOR_CLASSES = ['default', 'select', 'poll', 'epoll'] as const;
export type SelectorName = (typeof SELECTOR_CLASSES)[number];

/** `blocking`: the backend's own wait loop; `loop`: a selector attached to Node's event loop. */
export const DRIVERS = ['blocking', 'loop'] as const;
export type DriverName = (typeof DRIVERS)[number];

/**
 * How --workers share the connections: `kernel`, a listener per worker on one address that the kernel
 * shares out (SO_REUSEPORT on Linux, SO_REUSEPORT_LB on FreeBSD); `handoff`, one listener accepted on the
 * main thread, each connection handed to a worker (the only way on macOS). See src/server/workers/workers.ts.
 */
export const BALANCES = ['kernel', 'handoff'] as const;
export type BalanceName = (typeof BALANCES)[number];

/** The most --workers: threads beyond the cores only add switching, and each costs a V8 isolate (~10 MB). */
export const MAX_WORKERS = 256;

export interface ServerOptions {
  host: string;
  /** 0 lets the OS choose; the "starting up on … port N" line shows the bound port. */
  port: number;
  backend: BackendName;
  /** The selector class of the `selectors` backend (`default`: DefaultSelector). */
  selector: SelectorName;
  driver: DriverName;
  /** Seconds without any event before "timed out, do some other work here" (the seeds' select timeout). */
  timeout: number | null;
  /** Log only start-up, errors and the summary. */
  quiet: boolean;
  /** Connections served at once; more are accepted and closed at once. */
  maxConnections: number;
  /** Unsent bytes per connection past which the server stops reading from it. */
  maxPending: number;
  /**
   * Unsent bytes of all connections together past which the server stops reading from the connections
   * holding the most, then from every connection holding any (0: no total budget).
   */
  maxTotalPending: number;
  /** Seconds of silence after which a connection is closed; null: never. */
  idleTimeout: number | null;
  /**
   * Bytes per second (read and sent together) a connection must average over each `rateWindow`, or it
   * is closed: the defence against clients that trickle a byte now and then to hold a slot (0: no rule).
   */
  minRate: number;
  /** Seconds over which --min-rate is measured. */
  rateWindow: number;
  /**
   * Serve as the PyMOTW tutorial's select server does: queue what is read and send it on the next writable
   * event, so the log reads received → sending → "output queue … is empty", one wake-up each.
   */
  tutorial: boolean;
  /** Threads serving, each with its own loop; 1 is the single-threaded server (no worker thread). */
  workers: number;
  /** With workers > 1: how connections reach them; null: `kernel` where the kernel balances, else `handoff`. */
  balance: BalanceName | null;
}

export const DEFAULTS: ServerOptions = {
  host: '127.0.0.1',
  port: 10000,
  backend: 'default',
  selector: 'default',
  driver: 'blocking',
  timeout: null,
  quiet: false,
  maxConnections: Number.POSITIVE_INFINITY,
  maxPending: 1024 * 1024,
  // The queues' share of a server meant to stay within ~256 MiB resident: Node and the server take ~55 MiB
  // at rest, and the budget can be passed by one read per connection that held nothing (see docs/cli.md).
  maxTotalPending: 128 * 1024 * 1024,
  // Production defaults against slow clients, in the spirit of nginx (client_body_timeout/send_timeout 60 s)
  // and Apache's mod_reqtimeout (MinRate): see docs/cli.md, "Slow clients".
  idleTimeout: 60,
  minRate: 1,
  rateWindow: 60,
  tutorial: false,
  workers: 1,
  balance: null,
};
