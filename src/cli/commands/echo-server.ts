/** `iomux echo-server`: the seeds' multiplexed echo server, on the backend of your choice. */
import { runEchoServer } from '../../server/run.js';
import { ServerStartError } from '../../server/start-error.js';
import { BACKENDS, BALANCES, DEFAULTS, DRIVERS, MAX_WORKERS, SELECTOR_CLASSES, type ServerOptions } from '../../server/options.js';
import { kernelBalances } from '../../server/workers/workers.js';
import {
  bytesOption, choiceOption, intOption, runCommand, secondsOption, stringOption, UsageError, type CommandSpec,
  type ParsedArgs,
} from '../../cmdline/args.js';
import { complain, errorText } from '../failures.js';

export const spec: CommandSpec = {
  name: 'echo-server',
  summary:
    'The echo server of the seeds: one thread serving many TCP clients by multiplexing, every byte echoed\n' +
    'back in order. The event log goes to stderr; SIGINT or SIGTERM closes everything and prints a summary.',
  options: {
    host: { type: 'string', metavar: 'HOST', help: 'address to listen on (default 127.0.0.1)' },
    port: { type: 'string', metavar: 'PORT', help: 'TCP port, 0 lets the OS choose (default 10000)' },
    backend: {
      type: 'string', metavar: 'NAME',
      help: `${BACKENDS.join('|')} (default: default; see below)`,
    },
    selector: {
      type: 'string', metavar: 'NAME',
      help: `selector class of --backend selectors: ${SELECTOR_CLASSES.join('|')} (default: default)`,
    },
    driver: {
      type: 'string', metavar: 'NAME',
      help: `${DRIVERS.join('|')}: the backend's blocking loop, or Node's event loop (default blocking)`,
    },
    timeout: { type: 'string', metavar: 'SEC', help: 'log "timed out, do some other work here" after SEC without events' },
    quiet: { type: 'boolean', short: 'q', help: 'log only start-up, errors and the final summary' },
    'max-connections': { type: 'string', metavar: 'N', help: 'serve at most N clients at once; more are accepted and closed (default: no limit)' },
    'max-pending': { type: 'string', metavar: 'BYTES', help: 'stop reading from a client while more than BYTES of its echo are unsent (default 1M)' },
    // ---- the abuse limits (memory budget, slow clients) and the tutorial log: kept together
    // ---- for the declarative-spec rewrite; parsed in `serverLimits` below.
    'max-total-pending': {
      type: 'string', metavar: 'BYTES',
      help: 'stop reading from the clients holding the most while more than BYTES of echo are unsent in all; 0: no total limit (default 128M)',
    },
    'idle-timeout': { type: 'string', metavar: 'SEC', help: 'close connections silent for SEC seconds; off: never (default 60)' },
    'min-rate': {
      type: 'string', metavar: 'BYTES',
      help: 'close connections that move fewer than BYTES a second over a --rate-window; 0: no rule (default 1)',
    },
    'rate-window': { type: 'string', metavar: 'SEC', help: 'the period --min-rate is measured over (default 60)' },
    tutorial: {
      type: 'boolean',
      help: 'send in the writable step as the PyMOTW select tutorial does, so the log follows its sequence (slower)',
    },
    // ---- end of the added options
    workers: {
      type: 'string', metavar: 'N',
      help: `serve on N threads, each with its own loop; limits and the summary count them all (default 1: this thread, 1..${MAX_WORKERS})`,
    },
    balance: {
      type: 'string', metavar: 'HOW',
      help: `with --workers: ${BALANCES.join('|')}, a listener per worker shared out by the kernel, or one accepting thread handing connections over (default: kernel on Linux and FreeBSD, handoff on macOS)`,
    },
  },
  epilog: `backends (each a loop written in its API's own idiom, sharing one connection core):
  select     select() with inputs/outputs lists; fds at or above 1024 are refused
  poll       poll() with an fd map and READ_ONLY/READ_WRITE masks switched by modify()
  epoll      epoll with register()/modify() and the allocation-free wait()/readyFd()/readyEvents()
  kqueue     kqueue with one filter per direction and the allocation-free wait()/readyIdent()/readyFilter()
             (macOS, FreeBSD; Linux through libkqueue)
  uring      io_uring (Linux 6.0+): a multishot recv per connection into shared provided buffers, echoed
             by sends from those buffers, all in one io_uring_enter per wake-up (see docs/uring.md)
  selectors  the selectors module with callbacks as each key's data (--selector picks the class)
  default    the same selectors loop on DefaultSelector (epoll on Linux, kqueue on macOS and FreeBSD)

drivers:
  blocking   the backend's own loop waits (in bounded steps, so signals are noticed within 0.2 s)
  loop       the selector is attached to Node's event loop (selectors and default backends only)

workers (--workers N, N > 1; each thread runs the chosen backend and driver; see docs/cli.md):
  kernel     N listeners on the address, shared out by the kernel (SO_REUSEPORT on Linux, SO_REUSEPORT_LB
             on FreeBSD)
  handoff    one listener accepted on the main thread, each connection handed to the worker with the
             fewest open (macOS, whose SO_REUSEPORT does not share connections out)`,
};

/** The abuse limits and the tutorial log, parsed in one place (see the spec's delimited block). */
function serverLimits(args: ParsedArgs): Pick<ServerOptions, 'maxTotalPending' | 'idleTimeout' | 'minRate' | 'rateWindow' | 'tutorial'> {
  const total = bytesOption(args, 'max-total-pending', DEFAULTS.maxTotalPending, 0, 2 ** 50);
  return {
    maxTotalPending: total === 0 ? Number.POSITIVE_INFINITY : total,
    idleTimeout: args.values['idle-timeout'] === 'off'
      ? null
      : secondsOption(args, 'idle-timeout', DEFAULTS.idleTimeout ?? 0, 0, 86400 * 365, true),
    minRate: bytesOption(args, 'min-rate', DEFAULTS.minRate, 0, 2 ** 40),
    rateWindow: secondsOption(args, 'rate-window', DEFAULTS.rateWindow, 0, 86400, true),
    tutorial: args.values.tutorial === true,
  };
}

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const options: ServerOptions = {
      host: stringOption(args, 'host', DEFAULTS.host),
      port: intOption(args, 'port', DEFAULTS.port, 0, 65535),
      backend: choiceOption(args, 'backend', DEFAULTS.backend, BACKENDS),
      selector: choiceOption(args, 'selector', DEFAULTS.selector, SELECTOR_CLASSES),
      driver: choiceOption(args, 'driver', DEFAULTS.driver, DRIVERS),
      timeout: args.values.timeout === undefined ? null : secondsOption(args, 'timeout', 0, 0, 86400, true),
      quiet: args.values.quiet === true,
      maxConnections: args.values['max-connections'] === undefined
        ? DEFAULTS.maxConnections
        : intOption(args, 'max-connections', 0, 1, 10_000_000),
      maxPending: bytesOption(args, 'max-pending', DEFAULTS.maxPending, 1, 2 ** 40),
      ...serverLimits(args),
      workers: intOption(args, 'workers', DEFAULTS.workers, 1, MAX_WORKERS),
      balance: args.values.balance === undefined ? DEFAULTS.balance : choiceOption(args, 'balance', 'kernel', BALANCES),
    };
    if (options.balance !== null && options.workers === 1) {
      throw new UsageError(`--balance only applies with --workers 2 or more (got --workers ${options.workers})`);
    }
    if (options.balance === 'kernel' && !kernelBalances()) {
      throw new UsageError("--balance kernel: this system's kernel does not share a port's connections out among listeners (use --balance handoff)");
    }
    if (args.values.selector !== undefined && options.backend !== 'selectors') {
      throw new UsageError(`--selector only applies to --backend selectors (got --backend ${options.backend})`);
    }
    if (options.driver === 'loop' && options.backend !== 'selectors' && options.backend !== 'default') {
      throw new UsageError(`--driver loop needs a selectors backend (--backend default or selectors; got --backend ${options.backend})`);
    }
    try {
      return await runEchoServer(options);
    } catch (err) {
      if (!(err instanceof ServerStartError)) throw err;
      complain(spec.name, err.cause === null || err.cause === undefined ? err.message : `${err.message}: ${errorText(err.cause)}`);
      return 1;
    }
  });
}
