/**
 * The C library's address and interface helpers behind CPython's socket module functions: getnameinfo(3)
 * with both host and service, inet_ntop(3), inet_aton(3), if_nametoindex(3), if_indextoname(3),
 * if_nameindex(3), gethostname(2); and the Linux-only layouts (linux/families.ts: `struct ucred`, sockaddr_nl
 * for AF_NETLINK and sockaddr_ll for AF_PACKET), whose families are the platform table's.
 */
import { abi, koffi, libc } from './lib.js';
import { errno, orErrno } from './errno.js';

type Bytes = Uint8Array;

function cString(buf: Bytes, encoding: BufferEncoding = 'utf8'): string {
  const end = buf.indexOf(0);
  return Buffer.from(buf.buffer, buf.byteOffset, end < 0 ? buf.length : end).toString(encoding);
}

// ─── Platform values ─────────────────────────────────────────────────────────────────────────────────────

/** Linux's netlink and packet families (undefined elsewhere, as CPython has no such attributes there). */
export const AF_NETLINK: number | undefined = abi.socket.AF_NETLINK;
export const AF_PACKET: number | undefined = abi.socket.AF_PACKET;
export * from './linux/families.js';
/** IF_NAMESIZE: interface names are at most 15 bytes plus the NUL. */
export const IF_NAMESIZE = 16;
/** INET_ADDRSTRLEN / INET6_ADDRSTRLEN. */
const INET6_ADDRSTRLEN = 46;
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
  const r = orErrno(gethostnameNative(hostnameOut, hostnameOut.length - 1));
  if (r < 0) return r;
  return cString(hostnameOut);
}
