/**
 * `iomux/socket`: Python's `socket` module on Linux over raw fds — TCP, UDP and unix sockets that block,
 * time out or raise BlockingIOError exactly as Python's do, plus allocation-free `recvInto`,
 * `tryRecvInto` and `trySend` for event loops.
 *
 * @module iomux/socket
 */
export { Socket } from './socket.js';
export type { SocketData } from './socket.js';
export { socketpair, createServer, createConnection, hasDualstackIpv6 } from './factories.js';
export type { CreateServerOptions } from './factories.js';
export { getaddrinfo } from './resolve.js';
export type { AddrInfo } from './resolve.js';
export { getdefaulttimeout, setdefaulttimeout } from './timeout.js';
export { gaierror } from './errors.js';
export type { AddressLike, InetAddress, Inet6Address, UnixAddress, SocketAddress } from './address.js';
export * from './constants.js';
export * from './more-constants.js';
export { CMSG_LEN, CMSG_SPACE } from './messages.js';
export type { AncillaryItem, AncillaryItemLike, RecvmsgResult, RecvmsgIntoResult } from './messages.js';
export { sendFds, recvFds, peerCredentials, packCredentials, unpackCredentials } from './fds.js';
export type { Credentials } from './fds.js';
export {
  getnameinfo, inetPton, inetNtop, inetAton, inetNtoa, ifNametoindex, ifIndextoname, ifNameindex, gethostname, fromfd,
  htons, ntohs, htonl, ntohl,
} from './helpers.js';
export type { NetlinkAddress, PacketAddress } from './address-linux.js';

import { Socket } from './socket.js';

/**
 * `socket(family, type, proto, fileno)`: the same as `new Socket(...)`, Python's spelling.
 *
 * @python socket.socket
 */
export function socket(family?: number, type?: number, proto?: number, fileno?: number | null): Socket {
  return new Socket(family, type, proto, fileno);
}
