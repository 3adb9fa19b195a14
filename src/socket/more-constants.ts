/**
 * The socket module constants for messages with ancillary data, netlink and packet sockets (the platform's
 * values, from src/sys). A constant the platform does not have is absent (undefined), as in CPython.
 */
import { MSG } from '../sys/msg.js';

export const SCM_RIGHTS: number = MSG.SCM_RIGHTS;
/** Linux only. */
export const SCM_CREDENTIALS: number | undefined = MSG.SCM_CREDENTIALS ?? undefined;
export const MSG_CTRUNC: number = MSG.MSG_CTRUNC;

export { AF_NETLINK, AF_PACKET, NETLINK_ROUTE } from '../sys/netinfo.js';
export {
  NETLINK_USERSOCK, NETLINK_FIREWALL, NETLINK_NFLOG, NETLINK_XFRM, NETLINK_IP6_FW, NETLINK_DNRTMSG, NETLINK_CRYPTO,
  PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING, ETH_P_ALL,
} from '../sys/netinfo.js';
