/**
 * `iomux echo-server --workers N`: N worker_threads, each a complete server with its own loop (worker-main.ts),
 * and the main thread, which opens the listeners, catches the signals, writes the log and the summary.
 *
 * How connections reach the workers (--balance):
 * - `kernel` (default where available): N listeners bound to the same address with the option that makes
 *   the kernel share the incoming connections out among them — SO_REUSEPORT on Linux (by a hash of the
 *   connection's addresses and ports), SO_REUSEPORT_LB on FreeBSD ≥ 12 — one per worker. The main thread
 *   opens them (so a busy port is reported before any thread starts) and passes each fd number to its worker.
 * - `handoff` (default elsewhere, i.e. macOS, whose SO_REUSEPORT lets several listeners bind but gives every
 *   connection to one of them): one listener, watched on the main thread's Node event loop; each accepted
 *   fd goes to the worker with the fewest open connections (worker-handoff.ts). Selectable everywhere, so
 *   both paths run on Linux.
 *
 * --max-connections and --max-total-pending count over all workers (shared-tally.ts). SIGINT/SIGTERM: the
 * main thread posts `stop` to every worker; each finishes within a tick of its wait (0.2 s), closes its
 * connections and reports its counts; the main thread prints the summed summary. A worker that throws is
 * reported, the others are stopped, and the exit status is 1; one that does not stop within STOP_GRACE_MS
 * is terminated.
 */
import { Worker } from 'node:worker_threads';
import { OSError } from '../../errors.js';
import { LISTENER_BALANCING } from '../../socket/factories.js';
import type { EventLog } from '../log/event-log.js';
import type { BalanceName, ServerOptions } from '../options.js';
import { openListeners } from '../listener.js';
import { ServerStartError } from '../start-error.js';
import { sharedTallyBuffer, TallyReader } from './shared-tally.js';
import { closeQuietly, HandoffAcceptor } from './worker-handoff.js';
import type { FromWorker, ToWorker, WorkerCounts, WorkerData } from './worker-messages.js';

/** How long stopped workers may take before they are terminated (each needs one tick, 0.2 s). */
const STOP_GRACE_MS = 3000;
const WORKER_MAIN = new URL('./worker-main.js', import.meta.url);

/** Whether this system's kernel shares a listening address's connections out among several listeners. */
export function kernelBalances(): boolean {
  return LISTENER_BALANCING !== undefined;
}

/** --balance as given, or this system's default. */
export function balanceOf(options: ServerOptions): BalanceName {
  return options.balance ?? (kernelBalances() ? 'kernel' : 'handoff');
}

interface Thread {
  readonly worker: Worker;
  readonly number: number;
  ready: boolean;
  exited: boolean;
  counts: WorkerCounts | null;
}

/** A worker's log text as the main thread writes it: each line prefixed, the seeds' blank separator lines left out. */
function workerLines(prefix: string, text: string): string[] {
  return text.split('\n').filter((line) => line !== '').map((line) => prefix + line);
}

/**
 * Serves until SIGINT/SIGTERM (or a worker fails) and resolves with the exit status. Rejects with a
 * ServerStartError, once every thread has ended, when the listeners cannot be opened or a worker fails
 * before all are serving (its backend cannot be made: no libkqueue, say). `workerMain`: the workers' entry
 * module (a test wraps worker-main.js to make one fail).
 */
export async function runWorkers(options: ServerOptions, log: EventLog, workerMain: URL = WORKER_MAIN): Promise<number> {
  const balance = balanceOf(options);
  if (balance === 'kernel' && !kernelBalances()) {
    throw new ServerStartError('--balance kernel: this system\'s kernel does not share connections out among listeners (use --balance handoff)', null);
  }
  const { listeners, port } = openListeners(options, balance);
  const tallyBuffer = sharedTallyBuffer(options.workers);
  const tally = new TallyReader(tallyBuffer);
  let status = 0;

  let acceptor: HandoffAcceptor | null = null;
  if (balance === 'handoff') {
    try {
      acceptor = new HandoffAcceptor(listeners[0]!, options.workers, (i) => tally.openIn(i), (err) => {
        log.error(`accept failed: ${err.message}; retrying every 100 ms, other connections are still served`);
      });
    } catch (err) {
      listeners[0]!.close();
      if (!(err instanceof OSError)) throw err;
      throw new ServerStartError('cannot set up the hand-off to the workers', err);
    }
  }
  const fds = acceptor !== null ? acceptor.inboxFds : listeners.map((listener) => listener.detach());

  const threads: Thread[] = [];
  let stopping = false;
  let graceTimer: NodeJS.Timeout | undefined;
  // The workers' lines wait until "starting up" is out (a worker serves before the others are ready), and
  // are not written at all when starting fails: then the one line is the reason (startFailure).
  let started = false;
  const early: string[] = [];
  let startFailure: ServerStartError | null = null;
  const writeEarly = (): void => {
    started = true;
    for (const line of early.splice(0)) log.info(line);
  };
  const stopAll = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    const running = threads.filter((t) => !t.exited);
    if (startFailure === null) {
      writeEarly();
      log.info(`shutting down (${reason}): stopping ${running.length} ${running.length === 1 ? 'worker' : 'workers'}`);
    }
    log.finishing();
    acceptor?.close();
    for (const t of running) t.worker.postMessage({ type: 'stop', reason } satisfies ToWorker);
    graceTimer = setTimeout(() => {
      for (const t of threads) {
        if (t.exited) continue;
        log.error(`worker ${t.number} did not stop within ${STOP_GRACE_MS / 1000} s: terminating it`);
        status = 1;
        void t.worker.terminate();
      }
    }, STOP_GRACE_MS);
  };

  let backendName = '';
  let readyCount = 0;
  let allReady!: () => void;
  const ready = new Promise<void>((resolve) => (allReady = resolve));
  const exits: Array<Promise<void>> = [];
  const startFailures = new Set<string>();
  for (let i = 0; i < options.workers; i++) {
    const data: WorkerData = { index: i, options, balance, fd: fds[i]!, tally: tallyBuffer, taken: acceptor?.taken ?? null };
    const worker = new Worker(workerMain, { workerData: data });
    const thread: Thread = { worker, number: i + 1, ready: false, exited: false, counts: null };
    threads.push(thread);
    const prefix = `worker ${thread.number}: `;
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'log':
          for (const line of workerLines(prefix, message.text)) {
            if (started) log.info(line);
            else early.push(line);
          }
          break;
        case 'ready':
          thread.ready = true;
          backendName = message.backend;
          if (++readyCount === options.workers) allReady();
          break;
        case 'done':
          thread.counts = message;
          break;
      }
    });
    worker.on('error', (err) => {
      status = 1;
      if (startFailure !== null) {
        // Every worker fails alike when its backend cannot be made (no libkqueue, say): the first reason only.
      } else if (!started && !stopping) {
        startFailure = new ServerStartError(`worker ${thread.number} cannot start`, err);
      } else if (thread.ready) {
        log.error(`worker ${thread.number} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      } else {
        // Failing to start while stopping (a signal came first): each distinct reason once.
        const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        log.error(`worker ${thread.number} cannot start: ${startFailures.has(why) ? 'the same error' : why}`);
        startFailures.add(why);
      }
      stopAll(`worker ${thread.number} failed`);
    });
    exits.push(new Promise((resolve) => {
      worker.on('exit', (code) => {
        thread.exited = true;
        // Its listener or inbox stays the main thread's until it reports ready (worker-main.ts leaves it
        // open when it cannot start): one that never did would otherwise hold the port (or inbox) until exit.
        if (!thread.ready) closeQuietly(fds[i]!);
        // Whatever it did not give back itself (it died with connections open) no longer counts.
        const lost = tally.releaseWorker(i);
        if (lost > 0) log.error(`worker ${thread.number} ended with ${lost} ${lost === 1 ? 'connection' : 'connections'} still counted: released`);
        if (code !== 0) status = 1;
        if (!stopping && !started) {
          startFailure = new ServerStartError(`worker ${thread.number} exited (status ${code}) while starting`, null);
          stopAll(`worker ${thread.number} exited`);
        } else if (!stopping) {
          log.error(`worker ${thread.number} exited (status ${code})`);
          stopAll(`worker ${thread.number} exited`);
        }
        if (readyCount < options.workers) allReady(); // starting up is over either way
        resolve();
      });
    }));
  }

  const onSignal = (signal: NodeJS.Signals): void => stopAll(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await ready;
    if (!stopping) {
      log.info(`starting up on ${options.host} port ${port} (backend ${backendName}, ${options.workers} workers, --balance ${balance})`);
      writeEarly();
      acceptor?.start();
    }
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    clearTimeout(graceTimer);
    acceptor?.close();
  }
  if (startFailure !== null) throw startFailure;
  summarize(log, threads, tally.peak);
  return status;
}

function summarize(log: EventLog, threads: Thread[], peak: number): void {
  let served = 0;
  let refused = 0;
  let bytes = 0;
  for (const t of threads) {
    if (t.counts === null) continue;
    served += t.counts.served;
    refused += t.counts.refused;
    bytes += t.counts.bytesEchoed;
  }
  const missing = threads.filter((t) => t.counts === null).map((t) => t.number);
  log.info(
    `served ${served} ${served === 1 ? 'connection' : 'connections'} (${refused} refused), echoed ${bytes} ${bytes === 1 ? 'byte' : 'bytes'}, ` +
      `peak ${peak} concurrent ${peak === 1 ? 'connection' : 'connections'}`,
  );
  log.info(
    `served per worker: ${threads.map((t) => (t.counts === null ? '?' : String(t.counts.served))).join(' + ')}` +
      (missing.length === 1 ? ` (no counts from worker ${missing[0]}: it did not finish)` : '') +
      (missing.length > 1 ? ` (no counts from workers ${missing.join(', ')}: they did not finish)` : ''),
  );
  log.reportDropped();
}
