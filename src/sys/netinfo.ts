/**
 * The C library's address and interface helpers behind CPython's socket module functions: getnameinfo(3)
 * with both host and service, inet_ntop(3), inet_aton(3), if_nametoindex(3), if_indextoname(3),
 * if_nameindex(3), gethostname(2); and `struct ucred` (SO_PEERCRED, SCM_CREDENTIALS) and the Linux-only
 * sockaddr layouts sockaddr_nl (AF_NETLINK) and sockaddr_ll (AF_PACKET).
 */
import { abi, errno, koffi, libc } from './lib.js';

type Bytes = Uint8Array;

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function viewOf(buf: Bytes): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function cString(buf: Bytes, encoding: BufferEncoding = 'utf8'): string {
  const end = buf.indexOf(0);
  return Buffer.from(buf.buffer, buf.byteOffset, end < 0 ? buf.length : end).toString(encoding);
}

// ─── Platform values ─────────────────────────────────────────────────────────────────────────────────────

/** Linux's netlink and packet families (undefined elsewhere, as CPython has no such attributes there). */
export const AF_NETLINK: number | undefined = abi.socket.AF_NETLINK;
export const AF_PACKET: number | undefined = abi.socket.AF_PACKET;
// The protocol numbers and sockaddr_nl/sockaddr_ll layouts below are Linux's <linux/netlink.h>,
// <linux/if_packet.h> and <linux/if_ether.h>; they mean something only where the families above exist.
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
/** IF_NAMESIZE: interface names are at most 15 bytes plus the NUL. */
export const IF_NAMESIZE = 16;
/** INET_ADDRSTRLEN / INET6_ADDRSTRLEN. */
const INET6_ADDRSTRLEN = 46;
/** sizeof(struct ucred): pid_t pid, uid_t uid, gid_t gid. */
export const UCRED_BYTES = 12;
/** sizeof(struct sockaddr_nl): family, pad, pid, groups. */
export const SOCKADDR_NL_BYTES = 12;
/** sizeof(struct sockaddr_ll); sll_addr holds at most 8 bytes. */
export const SOCKADDR_LL_BYTES = 20;
export const SLL_ADDR_BYTES = 8;
/** Host name limit of gethostname (HOST_NAME_MAX + 1 with room to spare). */
const HOST_NAME_BYTES = 1024;

// ─── Natives ─────────────────────────────────────────────────────────────────────────────────────────────

const getnameinfoNative = libc.func(
  'int getnameinfo(const void *, uint32_t, _Out_ uint8_t *host, uint32_t, _Out_ uint8_t *serv, uint32_t, int)',
) as (sa: Bytes, salen: number, host: Bytes, hostlen: number, serv: Bytes, servlen: number, flags: number) => number;
const inetNtopNative = libc.func('const char *inet_ntop(int, const void *, _Out_ uint8_t *dst, uint32_t)') as (
  af: number, src: Bytes, dst: Bytes, size: number) => string | null;
const inetAtonNative = libc.func('int inet_aton(const char *, _Out_ uint8_t *inp)') as (cp: string, out: Bytes) => number;
const ifNametoindexNative = libc.func('unsigned int if_nametoindex(const char *)') as (name: string) => number;
const ifIndextonameNative = libc.func('const char *if_indextoname(unsigned int, _Out_ uint8_t *ifname)') as (
  index: number, out: Bytes) => string | null;
const ifNameindexNative = libc.func('void *if_nameindex(void)') as () => unknown;
const ifFreenameindexNative = libc.func('void if_freenameindex(void *)') as (p: unknown) => void;
const gethostnameNative = libc.func('int gethostname(_Out_ uint8_t *name, size_t)') as (out: Bytes, len: number) => number;

const IfNameindex = koffi.struct({ if_index: 'unsigned int', if_name: 'char *' });
const IF_NAMEINDEX_BYTES = koffi.sizeof(IfNameindex);

/** NI_MAXHOST, NI_MAXSERV. */
const hostOut = Buffer.alloc(1025);
const servOut = Buffer.alloc(32);

/** getnameinfo(3): `[host, service]`, or the EAI_* code (and errno, meaningful for EAI_SYSTEM). */
export function getnameinfo(addr: Bytes, len: number, flags: number): [string, string] | { code: number; errno: number } {
  const code = getnameinfoNative(addr, len, hostOut, hostOut.length, servOut, servOut.length, flags);
  if (code !== 0) return { code, errno: errno() };
  return [cString(hostOut), cString(servOut)];
}

const ntopOut = Buffer.alloc(INET6_ADDRSTRLEN);

/** inet_ntop(3) of the packed address in `src`: its text, or -errno. */
export function inetNtop(family: number, src: Bytes): string | number {
  const r = inetNtopNative(family, src, ntopOut, ntopOut.length);
  return r === null ? -errno() : r;
}

/** inet_aton(3): 1 and the 4 bytes in `out`, or 0 for text it does not accept. */
export function inetAton(text: string, out: Bytes): number {
  return inetAtonNative(text, out);
}

/** if_nametoindex(3): the index, or 0 when there is no such interface. */
export function ifNametoindex(name: string): number {
  return ifNametoindexNative(name);
}

const ifnameOut = Buffer.alloc(IF_NAMESIZE);

/** if_indextoname(3): the name, or -errno (ENXIO for no such index). */
export function ifIndextoname(index: number): string | number {
  const r = ifIndextonameNative(index, ifnameOut);
  return r === null ? -errno() : cString(ifnameOut);
}

/** if_nameindex(3): `[index, name]` for every interface, or -errno. */
export function ifNameindex(): Array<[number, string]> | number {
  const list = ifNameindexNative();
  if (!list) return -errno();
  const out: Array<[number, string]> = [];
  try {
    for (let i = 0; ; i++) {
      const entry = koffi.decode(list, i * IF_NAMEINDEX_BYTES, IfNameindex) as { if_index: number; if_name: string | null };
      if (entry.if_index === 0 && entry.if_name === null) break;
      out.push([entry.if_index, entry.if_name ?? '']);
    }
  } finally {
    ifFreenameindexNative(list);
  }
  return out;
}

const hostnameOut = Buffer.alloc(HOST_NAME_BYTES);

/** gethostname(2): the name, or -errno. */
export function gethostname(): string | number {
  hostnameOut.fill(0);
  if (gethostnameNative(hostnameOut, hostnameOut.length - 1) < 0) return -errno();
  return cString(hostnameOut);
}

// ─── struct ucred ────────────────────────────────────────────────────────────────────────────────────────

/** The pid, uid and gid of a `struct ucred` in `buf` (at least UCRED_BYTES). */
export function readUcred(buf: Bytes): { pid: number; uid: number; gid: number } {
  const v = viewOf(buf);
  return { pid: v.getInt32(0, LE), uid: v.getUint32(4, LE), gid: v.getUint32(8, LE) };
}

/** A `struct ucred` as bytes. */
export function writeUcred(pid: number, uid: number, gid: number): Buffer {
  const buf = Buffer.alloc(UCRED_BYTES);
  const v = viewOf(buf);
  v.setInt32(0, pid, LE);
  v.setUint32(4, uid, LE);
  v.setUint32(8, gid, LE);
  return buf;
}

// ─── sockaddr_nl and sockaddr_ll (Linux) ─────────────────────────────────────────────────────────────────

/** Writes a sockaddr_nl and returns its length. */
export function writeSockaddrNl(buf: Bytes, pid: number, groups: number): number {
  buf.fill(0, 0, SOCKADDR_NL_BYTES);
  const v = viewOf(buf);
  v.setUint16(0, AF_NETLINK ?? 0, LE);
  v.setUint32(4, pid, LE);
  v.setUint32(8, groups, LE);
  return SOCKADDR_NL_BYTES;
}

/** nl_pid and nl_groups of a sockaddr_nl. */
export function readSockaddrNl(buf: Bytes): [pid: number, groups: number] {
  const v = viewOf(buf);
  return [v.getUint32(4, LE), v.getUint32(8, LE)];
}

/** Writes a sockaddr_ll (protocol in host order; stored in network order) and returns its length. */
export function writeSockaddrLl(
  buf: Bytes, ifindex: number, protocol: number, pkttype: number, hatype: number, addr: Bytes,
): number {
  buf.fill(0, 0, SOCKADDR_LL_BYTES);
  const v = viewOf(buf);
  v.setUint16(0, AF_PACKET ?? 0, LE);
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, LE);
  v.setUint16(8, hatype, LE);
  v.setUint8(10, pkttype);
  v.setUint8(11, addr.length);
  buf.set(addr.subarray(0, SLL_ADDR_BYTES), 12);
  return SOCKADDR_LL_BYTES;
}

/** The fields of a sockaddr_ll: ifindex, protocol (host order), pkttype, hatype and the hardware address. */
export function readSockaddrLl(buf: Bytes): { ifindex: number; protocol: number; pkttype: number; hatype: number; addr: Buffer } {
  const v = viewOf(buf);
  const halen = Math.min(v.getUint8(11), SLL_ADDR_BYTES);
  return {
    protocol: v.getUint16(2, false),
    ifindex: v.getInt32(4, LE),
    hatype: v.getUint16(8, LE),
    pkttype: v.getUint8(10),
    addr: Buffer.from(buf.subarray(12, 12 + halen)),
  };
}
