/** Python's socket helpers: socketpair, create_server, create_connection (and has_dualstack_ipv6). */
import { OSError, OverflowError, ValueError, raiseErrno } from '../errors.js';
import { describe } from '../fileobj.js';
import { close as closeFd } from '../sys/index.js';
import * as sys from '../sys/socket.js';
import { formatAddress, type AddressLike } from './address.js';
import { intArg } from '../args.js';
import { checkOptionNames } from './args.js';
import { osErrorWithMessage } from './errors.js';
import { getaddrinfo } from './resolve.js';
import { adoptSocketFd, Socket } from './socket.js';
import { parseSocketTimeout } from './timeout.js';

const pairFds = new Int32Array(2);

/**
 * The SOL_SOCKET option with which listeners bound to one address share out its incoming connections:
 * SO_REUSEPORT on Linux, SO_REUSEPORT_LB on FreeBSD; undefined on macOS, whose SO_REUSEPORT gives each
 * connection to one listener. Internal (not exported by `iomux/socket`): the echo server's `--balance kernel`.
 */
export const LISTENER_BALANCING: number | undefined = sys.LISTENER_BALANCING;

/**
 * Two connected sockets (close-on-exec, blocking unless `type` includes SOCK_NONBLOCK). Linux only makes
 * AF_UNIX pairs: AF_INET raises OSError EOPNOTSUPP, as in Python on Linux.
 *
 * @python socket.socketpair
 */
export function socketpair(family: number = sys.AF_UNIX, type: number = sys.SOCK_STREAM, proto: number = 0): [Socket, Socket] {
  const fam = intArg(family, 'family');
  const typ = intArg(type, 'type');
  const pro = intArg(proto, 'proto');
  const r = sys.socketpairCloexec(fam, typ, pro, pairFds);
  if (r < 0) raiseErrno(r);
  const [fa, fb] = [pairFds[0]!, pairFds[1]!];
  let a: Socket | undefined;
  try {
    a = adoptSocketFd(fam, typ, pro, fa);
    return [a, adoptSocketFd(fam, typ, pro, fb)];
  } catch (err) {
    if (a) a.close();
    else closeFd(fa);
    closeFd(fb);
    throw err;
  }
}

/**
 * True when an AF_INET6 socket can also accept IPv4 connections (IPV6_V6ONLY can be cleared).
 *
 * @python socket.has_dualstack_ipv6
 */
export function hasDualstackIpv6(): boolean {
  try {
    using sock = new Socket(sys.AF_INET6, sys.SOCK_STREAM);
    sock.setsockopt(sys.IPPROTO_IPV6, sys.IPV6_V6ONLY, 0);
    return true;
  } catch (err) {
    if (err instanceof OSError) return false;
    throw err;
  }
}

/** Python's create_server keyword arguments, camelCased (`reuse_port` → `reusePort`). */
export interface CreateServerOptions {
  /** AF_INET (default), AF_INET6 or AF_UNIX. */
  family?: number;
  /** listen() backlog; the default is listen()'s. */
  backlog?: number | null;
  /** Sets SO_REUSEPORT, so several listeners can share the address. */
  reusePort?: boolean;
  /** With AF_INET6, accept IPv4 connections too (IPV6_V6ONLY off); otherwise an AF_INET6 server is IPv6-only. */
  dualstackIpv6?: boolean;
}

const CREATE_SERVER_OPTIONS: ReadonlySet<string> = new Set(['family', 'backlog', 'reusePort', 'dualstackIpv6']);

/**
 * A listening TCP socket bound to `address`, with SO_REUSEADDR set (Python's socket.create_server). An
 * option name it does not know raises TypeError, as an unknown keyword argument does in Python (a misspelt
 * option would otherwise be silently ignored). A bind failure raises the errno's OSError with the address
 * in the message; the socket is closed on any error.
 *
 * @python socket.create_server
 */
export function createServer(address: AddressLike, options: CreateServerOptions = {}): Socket {
  checkOptionNames('createServer', options, CREATE_SERVER_OPTIONS);
  const family = intArg(options.family ?? sys.AF_INET, 'family');
  const reusePort = options.reusePort ?? false;
  const dualstackIpv6 = options.dualstackIpv6 ?? false;
  if (dualstackIpv6) {
    if (family !== sys.AF_INET6) throw new ValueError('dualstackIpv6 requires the AF_INET6 family');
    if (!hasDualstackIpv6()) throw new ValueError('dualstack IPv6 is not supported on this platform');
  }
  const backlog = options.backlog === undefined || options.backlog === null ? undefined : intArg(options.backlog, 'backlog');
  const sock = new Socket(family, sys.SOCK_STREAM);
  try {
    try {
      sock.setsockopt(sys.SOL_SOCKET, sys.SO_REUSEADDR, 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err; // AF_UNIX may refuse it; Python ignores that too
    }
    if (reusePort) sock.setsockopt(sys.SOL_SOCKET, sys.SO_REUSEPORT, 1);
    if (family === sys.AF_INET6) sock.setsockopt(sys.IPPROTO_IPV6, sys.IPV6_V6ONLY, dualstackIpv6 ? 0 : 1);
    try {
      sock.bind(address);
    } catch (err) {
      if (err instanceof OSError && err.errno !== null) {
        throw osErrorWithMessage(err.errno, `${err.strerror} (while attempting to bind on address ${formatAddress(address)})`);
      }
      throw err;
    }
    sock.listen(backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}

/**
 * A connected TCP socket to `[host, port]` (Python's socket.create_connection). Every address the name
 * resolves to is tried in the resolver's order ('localhost' may give ::1 before 127.0.0.1); if all fail, the
 * last error is raised. `timeout` (seconds, null for blocking) applies to the connect and stays on the
 * socket; left undefined, the socket gets the default timeout. `sourceAddress` is bound first if given.
 * Unlike Python, a numeric port outside 0-65535 raises OverflowError instead of being wrapped by the resolver.
 *
 * @python socket.create_connection
 */
export function createConnection(
  address: readonly [host: string | null, port: number | string],
  timeout?: number | null,
  sourceAddress?: AddressLike | null,
): Socket {
  if (!Array.isArray(address) || address.length !== 2) {
    throw new TypeError(`createConnection(): address must be [host, port] (got ${describe(address)})`);
  }
  const [host, port] = address as [unknown, unknown];
  if (typeof port === 'number' && Number.isInteger(port) && (port < 0 || port > 0xffff)) {
    throw new OverflowError('createConnection(): port must be 0-65535.');
  }
  if (timeout !== undefined) parseSocketTimeout(timeout);
  const candidates = getaddrinfo(host as string | null, port as number | string, 0, sys.SOCK_STREAM);
  let lastError: unknown;
  for (const [family, type, proto, , sockaddr] of candidates) {
    let sock: Socket | undefined;
    try {
      sock = new Socket(family, type, proto);
      if (timeout !== undefined) sock.settimeout(timeout);
      if (sourceAddress) sock.bind(sourceAddress);
      sock.connect(sockaddr as AddressLike);
      return sock;
    } catch (err) {
      sock?.close();
      if (!(err instanceof OSError)) throw err;
      lastError = err;
    }
  }
  if (lastError !== undefined) throw lastError;
  throw new OSError(null, 'getaddrinfo returns an empty list');
}
