/**
 * The echo server's listening sockets: one for a single server, and for --workers either one per worker
 * sharing the address (--balance kernel) or one the main thread accepts on (--balance handoff).
 */
import { OSError } from '../errors.js';
import { AF_INET, AF_INET6, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, Socket } from '../socket/index.js';
import { LISTENER_BALANCING } from '../socket/factories.js';
import type { BalanceName, ServerOptions } from './options.js';
import { ServerStartError } from './start-error.js';

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

/**
 * A listener sharing the address would silently join another server's group of SO_REUSEPORT listeners on
 * the port (its own earlier run, say) and split that server's connections with it. So the port is first
 * bound once without the option, which fails as a single listener would when anything holds the port, and
 * for port 0 picks a free one. Returns the port.
 */
function claimPort(host: string, port: number): number {
  using probe = new Socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
  probe.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  probe.bind([host, port]);
  return (probe.getsockname() as [string, number])[1];
}

/** Opens the listeners: one per worker sharing the address (kernel), or one (handoff); ServerStartError when it cannot. */
export function openListeners(options: ServerOptions, balance: BalanceName): { listeners: Socket[]; port: number } {
  const listeners: Socket[] = [];
  let port = options.port;
  try {
    if (balance === 'kernel') port = claimPort(options.host, port);
    const count = balance === 'kernel' ? options.workers : 1;
    for (let i = 0; i < count; i++) {
      listeners.push(openListener(options.host, port, balance === 'kernel' ? LISTENER_BALANCING : undefined));
      port = (listeners[0]!.getsockname() as [string, number])[1];
    }
    return { listeners, port };
  } catch (err) {
    for (const listener of listeners) listener.close();
    if (!(err instanceof OSError)) throw err;
    throw new ServerStartError(`cannot listen on ${options.host} port ${options.port}`, err);
  }
}
