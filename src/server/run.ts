/** Starting, running and stopping the echo server: the listener, the backend, signals and the summary. */
import { AF_INET, AF_INET6, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, Socket } from '../socket/index.js';
import { epollBackend } from './backends/epoll.js';
import { kqueueBackend } from './backends/kqueue.js';
import { pollBackend } from './backends/poll.js';
import { selectBackend } from './backends/select.js';
import { attachedSelectorsBackend } from './backends/attached.js';
import { selectorsBackend } from './backends/selectors.js';
import { EchoCore, type Backend } from './core/echo-core.js';
import { EventLog } from './log/event-log.js';
import type { ServerOptions } from './options.js';
import { runWorkers } from './workers/workers.js';

/** The kernel caps it at net.core.somaxconn; thousands of clients connecting at once must not see drops. */
const LISTEN_BACKLOG = 4096;

/**
 * A non-blocking listening TCP socket on host:port (IPv6 when the host is an IPv6 address). `share`: a
 * SOL_SOCKET option to set before binding, so that several listeners can share the address (--workers).
 */
export function openListener(host: string, port: number, share?: number): Socket {
  const listener = new Socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
  try {
    listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (share !== undefined) listener.setsockopt(SOL_SOCKET, share, 1);
    listener.bind([host, port]);
    listener.listen(LISTEN_BACKLOG);
    listener.setblocking(false);
    return listener;
  } catch (err) {
    listener.close();
    throw err;
  }
}

export function createBackend(core: EchoCore): Backend {
  const { backend, selector, driver } = core.options;
  if (driver === 'loop') {
    if (backend === 'selectors') return attachedSelectorsBackend(core, selector, 'selectors');
    if (backend === 'default') return attachedSelectorsBackend(core, 'default', 'default');
    throw new Error(`--driver loop needs a selectors backend (got ${backend})`);
  }
  switch (backend) {
    case 'select':
      return selectBackend(core);
    case 'poll':
      return pollBackend(core);
    case 'epoll':
      return epollBackend(core);
    case 'kqueue':
      return kqueueBackend(core);
    case 'selectors':
      return selectorsBackend(core, selector, 'selectors');
    case 'default':
      return selectorsBackend(core, 'default', 'default');
  }
}

/**
 * Runs the server until SIGINT or SIGTERM, then closes everything, prints the summary and resolves with
 * the exit status (0; 1 if the listener cannot be opened). With --workers N > 1 the serving is done by N
 * threads (workers.ts); with 1, here on the main thread.
 */
export async function runEchoServer(options: ServerOptions, log = new EventLog(!options.quiet)): Promise<number> {
  if (options.workers > 1) return runWorkers(options, log);
  let listener: Socket;
  try {
    listener = openListener(options.host, options.port);
  } catch (err) {
    log.error(`cannot listen on ${options.host} port ${options.port}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const core = new EchoCore(options, listener, log);
  let backend: Backend;
  try {
    backend = createBackend(core);
  } catch (err) {
    listener.close();
    throw err;
  }
  core.attach(backend);
  const [, port] = listener.getsockname() as [string, number];
  log.info(`starting up on ${options.host} port ${port} (backend ${backend.name})`);

  const onSignal = (signal: NodeJS.Signals): void => core.stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await backend.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    core.shutdown();
    backend.close();
  }
  return 0;
}
