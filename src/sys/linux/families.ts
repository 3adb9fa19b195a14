/**
 * Linux-only socket layouts: `struct sockaddr_nl` (AF_NETLINK), `struct sockaddr_ll` (AF_PACKET) and
 * `struct ucred` (SO_PEERCRED, SCM_CREDENTIALS), with the protocol numbers that go with them
 * (<linux/netlink.h>, <linux/if_packet.h>, <linux/if_ether.h>, <bits/socket.h>). Plain layouts over bytes.ts;
 * the family values themselves are the platform table's (AF_NETLINK, AF_PACKET: undefined elsewhere, as
 * CPython then has no such attributes), passed in by the writers' callers.
 */
import { getI32, getNet16, getU16, getU32, putNet16, putU16, putU32 } from '../bytes.js';

type Bytes = Uint8Array;

export const NETLINK_ROUTE = 0;
export const NETLINK_USERSOCK = 2;
export const NETLINK_FIREWALL = 3;
export const NETLINK_NFLOG = 5;
export const NETLINK_XFRM = 6;
export const NETLINK_IP6_FW = 13;
export const NETLINK_DNRTMSG = 14;
export const NETLINK_CRYPTO = 21;
/** sll_pkttype values. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
/** Every protocol, for AF_PACKET sockets (socket.ETH_P_ALL since CPython 3.12). */
export const ETH_P_ALL = 3;
/** sizeof(struct ucred): pid_t pid, uid_t uid, gid_t gid. */
export const UCRED_BYTES = 12;
/** sizeof(struct sockaddr_nl): family, pad, pid, groups. */
const SOCKADDR_NL_BYTES = 12;
/** sizeof(struct sockaddr_ll); sll_addr holds at most 8 bytes. */
const SOCKADDR_LL_BYTES = 20;
export const SLL_ADDR_BYTES = 8;

// ─── struct ucred ────────────────────────────────────────────────────────────────────────────────────────

/** The pid, uid and gid of a `struct ucred` in `buf` (at least UCRED_BYTES). */
export function readUcred(buf: Bytes): { pid: number; uid: number; gid: number } {
  return { pid: getI32(buf, 0), uid: getU32(buf, 4), gid: getU32(buf, 8) };
}

/** A `struct ucred` as bytes. */
export function writeUcred(pid: number, uid: number, gid: number): Buffer {
  const buf = Buffer.alloc(UCRED_BYTES);
  putU32(buf, 0, pid);
  putU32(buf, 4, uid);
  putU32(buf, 8, gid);
  return buf;
}

// ─── sockaddr_nl and sockaddr_ll ─────────────────────────────────────────────────────────────────────────

/** Writes a sockaddr_nl of `family` (AF_NETLINK) and returns its length. */
export function writeSockaddrNl(buf: Bytes, family: number, pid: number, groups: number): number {
  buf.fill(0, 0, SOCKADDR_NL_BYTES);
  putU16(buf, 0, family);
  putU32(buf, 4, pid);
  putU32(buf, 8, groups);
  return SOCKADDR_NL_BYTES;
}

/** nl_pid and nl_groups of a sockaddr_nl. */
export function readSockaddrNl(buf: Bytes): [pid: number, groups: number] {
  return [getU32(buf, 4), getU32(buf, 8)];
}

/** Writes a sockaddr_ll of `family` (AF_PACKET; protocol in host order, stored in network order) and returns its length. */
export function writeSockaddrLl(
  buf: Bytes, family: number, ifindex: number, protocol: number, pkttype: number, hatype: number, addr: Bytes,
): number {
  buf.fill(0, 0, SOCKADDR_LL_BYTES);
  putU16(buf, 0, family);
  putNet16(buf, 2, protocol);
  putU32(buf, 4, ifindex);
  putU16(buf, 8, hatype);
  buf[10] = pkttype;
  buf[11] = addr.length;
  buf.set(addr.subarray(0, SLL_ADDR_BYTES), 12);
  return SOCKADDR_LL_BYTES;
}

/** The fields of a sockaddr_ll: ifindex, protocol (host order), pkttype, hatype and the hardware address. */
export function readSockaddrLl(buf: Bytes): { ifindex: number; protocol: number; pkttype: number; hatype: number; addr: Buffer } {
  const halen = Math.min(buf[11]!, SLL_ADDR_BYTES);
  return {
    protocol: getNet16(buf, 2),
    ifindex: getI32(buf, 4),
    hatype: getU16(buf, 8),
    pkttype: buf[10]!,
    addr: Buffer.from(buf.subarray(12, 12 + halen)),
  };
}
