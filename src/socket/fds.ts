/**
 * Passing fds and credentials over AF_UNIX sockets: CPython's `socket.send_fds`/`recv_fds`, with two
 * deliberate differences — `flags` and `address` are honoured (CPython ignores them: cpython#107898), and
 * `recvFds` always receives the fds close-on-exec (MSG_CMSG_CLOEXEC) — plus SO_PEERCRED/SCM_CREDENTIALS
 * helpers that turn `struct ucred` bytes into `{ pid, uid, gid }`.
 */
import { OSError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';
import { MSG } from '../sys/msg.js';
import { readUcred, UCRED_BYTES, writeUcred } from '../sys/netinfo.js';
import * as sys from '../sys/socket.js';
import type { AddressLike, SocketAddress } from './address.js';
import { intArg } from '../args.js';
import { CMSG_LEN, packFds, unpackFds } from './messages.js';
import type { Socket, SocketData } from './socket.js';

/**
 * Sends `buffers` with the fds `fds` in one SCM_RIGHTS item (CPython's send_fds) and returns the bytes sent.
 * Unlike CPython, `flags` and `address` are passed on to sendmsg. The fds stay open and the caller's.
 *
 * @python socket.send_fds
 */
export function sendFds(
  sock: Socket, buffers: Iterable<SocketData>, fds: Iterable<number>, flags: number = 0, address?: AddressLike | null,
): number {
  return sock.sendmsg(buffers, [[MSG.SOL_SOCKET, MSG.SCM_RIGHTS, packFds(fds)]], flags, address);
}

/**
 * Receives up to `bufsize` bytes and up to `maxfds` fds (CPython's recv_fds): `[data, fds, msgFlags,
 * address]`. Unlike CPython, `flags` is passed on, and MSG_CMSG_CLOEXEC is always added: the fds arrive
 * non-inheritable, like every fd iomux creates (os.setInheritable(fd, true) before handing one to a child).
 * More fds than `maxfds` are closed by the kernel and reported as MSG_CTRUNC. Ancillary items other than
 * SCM_RIGHTS (SCM_CREDENTIALS with SO_PASSCRED) are dropped, as in CPython.
 *
 * @python socket.recv_fds
 */
export function recvFds(sock: Socket, bufsize: number, maxfds: number, flags: number = 0): [Buffer, number[], number, SocketAddress | null] {
  const max = intArg(maxfds, 'maxfds');
  if (max < 0) throw new ValueError(`maxfds must be non-negative (got ${max})`);
  const f = flags === 0 ? 0 : intArg(flags, 'flags');
  const cloexec = MSG.MSG_CMSG_CLOEXEC ?? 0;
  const [data, ancdata, rawFlags, address] = sock.recvmsg(bufsize, CMSG_LEN(max * 4), f | cloexec);
  // Linux echoes MSG_CMSG_CLOEXEC into msg_flags; report it only when the caller asked for it.
  const msgFlags = (f & cloexec) !== 0 ? rawFlags : rawFlags & ~cloexec;
  const fds: number[] = [];
  for (const [level, type, item] of ancdata) {
    if (level === MSG.SOL_SOCKET && type === MSG.SCM_RIGHTS) fds.push(...unpackFds(item));
  }
  return [data, fds, msgFlags, address];
}

/** A process' credentials: `struct ucred`. */
export interface Credentials {
  /** The process id. */
  pid: number;
  /** The user id. */
  uid: number;
  /** The group id. */
  gid: number;
}

/**
 * The credentials of the peer of a connected AF_UNIX socket (SO_PEERCRED): who was at the other end when
 * it connected (or called socketpair). `sock.getsockopt(SOL_SOCKET, SO_PEERCRED, 12)` gives the raw bytes.
 */
export function peerCredentials(sock: Socket): Credentials {
  if (sys.SO_PEERCRED === undefined) throw new OSError(null, 'peerCredentials(): SO_PEERCRED is Linux only');
  return unpackCredentials(sock.getsockopt(sys.SOL_SOCKET, sys.SO_PEERCRED, UCRED_BYTES));
}

/** `struct ucred` bytes (SO_PEERCRED's value, SCM_CREDENTIALS' data) as `{ pid, uid, gid }`. */
export function unpackCredentials(data: Uint8Array): Credentials {
  if (!(data instanceof Uint8Array) || data.length < UCRED_BYTES) {
    throw new ValueError(`credentials must be ${UCRED_BYTES} bytes of struct ucred (got ${describe(data)})`);
  }
  return readUcred(data);
}

/**
 * `{ pid, uid, gid }` as `struct ucred` bytes, the data of an SCM_CREDENTIALS item: the kernel checks them
 * (your own pid, uid and gid pass; root may send others).
 */
export function packCredentials(creds: Credentials): Buffer {
  const pid = intArg(creds.pid, 'pid');
  const uid = creds.uid;
  const gid = creds.gid;
  for (const [name, v] of [['uid', uid], ['gid', gid]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new ValueError(`${name} must be an integer from 0 to 4294967295 (got ${describe(v)})`);
    }
  }
  return writeUcred(pid, uid, gid);
}
