/**
 * BSD socket syscalls and the sockaddr layouts they read and write (the platform table's). Every function returns its C
 * result when it is non-negative and `-errno` when the call failed. Buffers belong to the caller, so the
 * socket layer can keep one sockaddr scratch buffer and one socklen cell for every call it makes.
 */
import { nativeSpan } from './views.js';
import { getNet16, getNet32, getU16, getU32, putNet16, putNet32, putU16, putU32 } from './bytes.js';
import { abi, libc, natives } from './lib.js';
import { orErrno } from './errno.js';

type Bytes = Uint8Array;

// --- Constants: the running platform's values (src/sys/<platform>/abi.ts). Those a platform lacks are
// undefined there, as CPython then has no such attribute.

const C = abi.socket;

export const AF_UNSPEC = C.AF_UNSPEC;
export const AF_UNIX = C.AF_UNIX;
export const AF_INET = C.AF_INET;
export const AF_INET6 = C.AF_INET6;
export const SOCK_STREAM = C.SOCK_STREAM;
export const SOCK_DGRAM = C.SOCK_DGRAM;
export const SOCK_RAW = C.SOCK_RAW;
export const SOCK_SEQPACKET = C.SOCK_SEQPACKET;
export const SOCK_NONBLOCK = C.SOCK_NONBLOCK;
export const SOCK_CLOEXEC = C.SOCK_CLOEXEC;
export const SOL_SOCKET = C.SOL_SOCKET;
export const SO_DEBUG = C.SO_DEBUG;
export const SO_REUSEADDR = C.SO_REUSEADDR;
export const SO_TYPE = C.SO_TYPE;
export const SO_ERROR = C.SO_ERROR;
export const SO_DONTROUTE = C.SO_DONTROUTE;
export const SO_BROADCAST = C.SO_BROADCAST;
export const SO_SNDBUF = C.SO_SNDBUF;
export const SO_RCVBUF = C.SO_RCVBUF;
export const SO_KEEPALIVE = C.SO_KEEPALIVE;
export const SO_OOBINLINE = C.SO_OOBINLINE;
export const SO_LINGER = C.SO_LINGER;
export const SO_REUSEPORT = C.SO_REUSEPORT;
export const SO_REUSEPORT_LB: number | undefined = C.SO_REUSEPORT_LB;
export const LISTENER_BALANCING: number | undefined = C.LISTENER_BALANCING;
export const SO_PASSCRED: number | undefined = C.SO_PASSCRED;
export const SO_PEERCRED: number | undefined = C.SO_PEERCRED;
export const SO_RCVLOWAT = C.SO_RCVLOWAT;
export const SO_SNDLOWAT = C.SO_SNDLOWAT;
export const SO_RCVTIMEO = C.SO_RCVTIMEO;
export const SO_SNDTIMEO = C.SO_SNDTIMEO;
export const SO_ACCEPTCONN = C.SO_ACCEPTCONN;
export const SO_PROTOCOL: number | undefined = C.SO_PROTOCOL;
export const SO_DOMAIN: number | undefined = C.SO_DOMAIN;
export const IPPROTO_IP = C.IPPROTO_IP;
export const IPPROTO_TCP = C.IPPROTO_TCP;
export const IPPROTO_UDP = C.IPPROTO_UDP;
export const IPPROTO_IPV6 = C.IPPROTO_IPV6;
export const IPV6_V6ONLY = C.IPV6_V6ONLY;
export const TCP_NODELAY = C.TCP_NODELAY;
export const TCP_KEEPIDLE: number | undefined = C.TCP_KEEPIDLE;
export const TCP_KEEPINTVL = C.TCP_KEEPINTVL;
export const TCP_KEEPCNT = C.TCP_KEEPCNT;
export const SHUT_RD = C.SHUT_RD;
export const SHUT_WR = C.SHUT_WR;
export const SHUT_RDWR = C.SHUT_RDWR;
export const MSG_OOB = C.MSG_OOB;
export const MSG_PEEK = C.MSG_PEEK;
export const MSG_DONTROUTE = C.MSG_DONTROUTE;
export const MSG_TRUNC = C.MSG_TRUNC;
export const MSG_DONTWAIT = C.MSG_DONTWAIT;
export const MSG_EOR = C.MSG_EOR;
export const MSG_WAITALL = C.MSG_WAITALL;
export const MSG_NOSIGNAL: number | undefined = C.MSG_NOSIGNAL;
export const MSG_CMSG_CLOEXEC: number | undefined = C.MSG_CMSG_CLOEXEC;
export const SOMAXCONN = C.SOMAXCONN;
export const MSG_CTRUNC = C.MSG_CTRUNC;
/** SO_NOSIGPIPE where the platform has it (macOS, FreeBSD). */
export const SO_NOSIGPIPE: number | undefined = C.SO_NOSIGPIPE;
/**
 * The flag every send passes so a closed peer is EPIPE, never SIGPIPE: MSG_NOSIGNAL where it exists, 0 on
 * macOS, whose sockets get SO_NOSIGPIPE when natives.socket()/accept() create them.
 */
export const SEND_NOSIGNAL = C.MSG_NOSIGNAL ?? 0;

// --- struct sockaddr layouts.

const SA = abi.layout.sockaddr;
/** sizeof(struct sockaddr_storage): room for any address. */
export const SOCKADDR_STORAGE_BYTES = SA.storageBytes;
/** sizeof(struct sockaddr_in). */
const SOCKADDR_IN_BYTES = SA.inBytes;
/** sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN6_BYTES = SA.in6Bytes;
/** offsetof(struct sockaddr_un, sun_path): the family (and on the BSDs the length byte) comes first. */
const SUN_PATH_OFFSET = SA.sunPathOffset;
/** sizeof(((struct sockaddr_un *)0)->sun_path): 108 on Linux, 104 on the BSDs and macOS. */
export const SUN_PATH_BYTES = SA.sunPathBytes;

// Linux: sa_family_t is a host-order uint16 at offset 0. BSD: a uint8 length at 0 and a uint8 family at 1.
// Ports and IPv4 addresses are in network order; sin6_flowinfo is network order, sin6_scope_id host order.
const LENGTH_BYTE = SA.lengthByte;
const PORT_AT = 2;
const IN_ADDR_AT = 4;
const IN6_FLOWINFO_AT = 4;
const IN6_ADDR_AT = 8;
const IN6_SCOPE_AT = 24;

function putFamily(buf: Bytes, family: number, length: number): void {
  if (LENGTH_BYTE) {
    buf[0] = length;
    buf[1] = family;
  } else {
    putU16(buf, 0, family);
  }
}

/** Writes a sockaddr_in (the 4 address bytes in network order) and returns its length. */
export function writeSockaddrIn(buf: Bytes, addr4: Bytes, port: number): number {
  buf.fill(0, 0, SOCKADDR_IN_BYTES);
  putFamily(buf, AF_INET, SOCKADDR_IN_BYTES);
  putNet16(buf, PORT_AT, port);
  buf.set(addr4.subarray(0, 4), IN_ADDR_AT);
  return SOCKADDR_IN_BYTES;
}

/** Writes a sockaddr_in6 and returns its length. */
export function writeSockaddrIn6(buf: Bytes, addr16: Bytes, port: number, flowinfo: number, scopeId: number): number {
  buf.fill(0, 0, SOCKADDR_IN6_BYTES);
  putFamily(buf, AF_INET6, SOCKADDR_IN6_BYTES);
  putNet16(buf, PORT_AT, port);
  putNet32(buf, IN6_FLOWINFO_AT, flowinfo);
  buf.set(addr16.subarray(0, 16), IN6_ADDR_AT);
  putU32(buf, IN6_SCOPE_AT, scopeId);
  return SOCKADDR_IN6_BYTES;
}

/**
 * Writes a sockaddr_un for `path` (at most SUN_PATH_BYTES bytes; the caller checks) and returns the length
 * to pass to the kernel: a filesystem path gets its terminating NUL counted, an abstract name (first byte 0)
 * is exactly its bytes, as Linux and CPython count them.
 */
export function writeSockaddrUn(buf: Bytes, path: Bytes): number {
  buf.fill(0, 0, SUN_PATH_OFFSET + SUN_PATH_BYTES);
  buf.set(path, SUN_PATH_OFFSET);
  const abstract = path.length > 0 && path[0] === 0;
  const length = SUN_PATH_OFFSET + path.length + (abstract ? 0 : 1);
  putFamily(buf, AF_UNIX, length);
  return length;
}

/** The sa_family of a sockaddr. */
export function sockaddrFamily(buf: Bytes): number {
  return LENGTH_BYTE ? buf[1]! : getU16(buf, 0);
}

/** The port of a sockaddr_in or sockaddr_in6 (host order). */
export function sockaddrPort(buf: Bytes): number {
  return getNet16(buf, PORT_AT);
}

/** The IPv4 address of a sockaddr_in in dotted-quad text. */
export function sockaddrInHost(buf: Bytes): string {
  return `${buf[IN_ADDR_AT]}.${buf[IN_ADDR_AT + 1]}.${buf[IN_ADDR_AT + 2]}.${buf[IN_ADDR_AT + 3]}`;
}

/** The 4 address bytes of a sockaddr_in (a view into `buf`). */
export function sockaddrInBytes(buf: Bytes): Bytes {
  return buf.subarray(IN_ADDR_AT, IN_ADDR_AT + 4);
}

/** sin6_flowinfo (host order). */
export function sockaddrIn6Flowinfo(buf: Bytes): number {
  return getNet32(buf, IN6_FLOWINFO_AT);
}

/** sin6_scope_id. */
export function sockaddrIn6ScopeId(buf: Bytes): number {
  return getU32(buf, IN6_SCOPE_AT);
}

/** The 16 address bytes of a sockaddr_in6 (a view into `buf`). */
export function sockaddrIn6Bytes(buf: Bytes): Bytes {
  return buf.subarray(IN6_ADDR_AT, IN6_ADDR_AT + 16);
}

/** The sun_path bytes of a sockaddr_un of `len` bytes (a view into `buf`; may include a trailing NUL). */
export function sockaddrUnPath(buf: Bytes, len: number): Bytes {
  const end = Math.min(Math.max(len, SUN_PATH_OFFSET), SUN_PATH_OFFSET + SUN_PATH_BYTES);
  return buf.subarray(SUN_PATH_OFFSET, end);
}

// --- Natives. Pointers to socklen_t are passed as a one-cell Uint32Array the caller owns.

const bindNative = libc.func('int bind(int, const void *, uint32_t)') as (fd: number, a: Bytes, l: number) => number;
const listenNative = libc.func('int listen(int, int)') as (fd: number, backlog: number) => number;
const connectNative = libc.func('int connect(int, const void *, uint32_t)') as (fd: number, a: Bytes, l: number) => number;
// recv and send have their own prototypes although glibc turns them into recvfrom/sendto: koffi marshals
// two arguments fewer, which is measurable (about 50-100 ns a call) on the echo hot path.
const recvNative = libc.func('long recv(int, void *, unsigned long, int)') as (
  fd: number, buf: Bytes, len: number, flags: number) => number;
const sendNative = libc.func('long send(int, const void *, unsigned long, int)') as (
  fd: number, buf: Bytes, len: number, flags: number) => number;
const recvfromNative = libc.func('long recvfrom(int, void *, unsigned long, int, void *, void *)') as (
  fd: number, b: Bytes, n: number, flags: number, a: Bytes | null, l: Uint32Array | null,
) => number;
const sendtoNative = libc.func('long sendto(int, const void *, unsigned long, int, const void *, uint32_t)') as (
  fd: number, b: Bytes, n: number, flags: number, a: Bytes | null, l: number,
) => number;
const shutdownNative = libc.func('int shutdown(int, int)') as (fd: number, how: number) => number;
const getsockoptNative = libc.func('int getsockopt(int, int, int, void *, void *)') as (
  fd: number, level: number, name: number, v: Bytes | Int32Array, l: Uint32Array,
) => number;
const setsockoptNative = libc.func('int setsockopt(int, int, int, const void *, uint32_t)') as (
  fd: number, level: number, name: number, v: Bytes | Int32Array | null, l: number,
) => number;
const getsocknameNative = libc.func('int getsockname(int, void *, void *)') as (
  fd: number, a: Bytes, l: Uint32Array,
) => number;
const getpeernameNative = libc.func('int getpeername(int, void *, void *)') as (
  fd: number, a: Bytes, l: Uint32Array,
) => number;
const inetPtonNative = libc.func('int inet_pton(int, const char *, void *)') as (af: number, s: string, out: Bytes) => number;

/**
 * socket(2), close-on-exec, and non-blocking when `type` has SOCK_NONBLOCK; sends on it never raise SIGPIPE
 * when SEND_NOSIGNAL is passed. One call on Linux and FreeBSD, socket + fcntl (+ SO_NOSIGPIPE) on macOS.
 */
export function socketCloexec(family: number, type: number, proto: number): number {
  return natives.socket(family, type, proto);
}

/** socketpair(2) with socketCloexec's rules for both ends: fills `out` with the two connected fds. */
export function socketpairCloexec(family: number, type: number, proto: number, out: Int32Array): number {
  const r = natives.socketpair(family, type, proto, out);
  return r < 0 ? r : 0;
}

export function bind(fd: number, addr: Bytes, len: number): number {
  return orErrno(bindNative(fd, addr, len));
}

export function listen(fd: number, backlog: number): number {
  return orErrno(listenNative(fd, backlog));
}

/**
 * accept(2) of a connection as a close-on-exec, blocking fd (accept4(SOCK_CLOEXEC), or accept + fcntl).
 * `addrlen[0]` is the room in `addr` on entry and the address length on return; pass nulls for both when the
 * peer's address is not wanted.
 */
export function acceptCloexec(fd: number, addr: Bytes | null, addrlen: Uint32Array | null): number {
  return natives.accept(fd, addr, addrlen);
}

export function connect(fd: number, addr: Bytes, len: number): number {
  return orErrno(connectNative(fd, addr, len));
}

/** `buf` from `offset` on; the usual offset 0 makes no new view, so the hot path allocates nothing. */

/**
 * recv(2) into `buf[offset, offset + length)`.
 */
export function recv(fd: number, buf: Bytes, offset: number, length: number, flags: number): number {
  return orErrno(recvNative(fd, nativeSpan(buf, offset, length), length, flags));
}

/**
 * recvfrom(2) into `buf[offset, offset + length)`; the sender's address goes to `addr`/`addrlen` as in
 * accept4 (nulls for both when it is not wanted).
 */
export function recvfrom(
  fd: number, buf: Bytes, offset: number, length: number, flags: number, addr: Bytes | null, addrlen: Uint32Array | null,
): number {
  return orErrno(recvfromNative(fd, nativeSpan(buf, offset, length), length, flags, addr, addrlen));
}

/**
 * send(2) from `buf[offset, offset + length)`.
 */
export function send(fd: number, buf: Bytes, offset: number, length: number, flags: number): number {
  return orErrno(sendNative(fd, nativeSpan(buf, offset, length), length, flags));
}

/** sendto(2) from `buf[offset, offset + length)` to the `addrLen`-byte sockaddr in `addr` (null: none). */
export function sendto(
  fd: number, buf: Bytes, offset: number, length: number, flags: number, addr: Bytes | null, addrLen: number,
): number {
  return orErrno(sendtoNative(fd, nativeSpan(buf, offset, length), length, flags, addr, addrLen));
}

export function shutdown(fd: number, how: number): number {
  return orErrno(shutdownNative(fd, how));
}

const intOption = new Int32Array(1);
const optionLength = new Uint32Array(1);

/** getsockopt(2) of a C int option into `out[0]` (which may be negative). Returns 0 or -errno. */
export function getsockoptInt(fd: number, level: number, name: number, out: Int32Array): number {
  out[0] = 0;
  optionLength[0] = 4;
  return orErrno(getsockoptNative(fd, level, name, out, optionLength));
}

/** getsockopt(2) into `buf`; returns the option's length in bytes. */
export function getsockoptBytes(fd: number, level: number, name: number, buf: Bytes): number {
  optionLength[0] = buf.length;
  const r = orErrno(getsockoptNative(fd, level, name, buf, optionLength));
  return r < 0 ? r : optionLength[0]!;
}

/** setsockopt(2) with a C int value. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): number {
  intOption[0] = value;
  return orErrno(setsockoptNative(fd, level, name, intOption, 4));
}

/** setsockopt(2) with raw bytes (`null` and a length for a NULL option value, as CPython allows). */
export function setsockoptBytes(fd: number, level: number, name: number, value: Bytes | null, length: number): number {
  return orErrno(setsockoptNative(fd, level, name, value === null ? null : nativeSpan(value, 0, length), length));
}

/** getsockname(2); `addrlen[0]` in/out as in accept4. */
export function getsockname(fd: number, addr: Bytes, addrlen: Uint32Array): number {
  return orErrno(getsocknameNative(fd, addr, addrlen));
}

/** getpeername(2); `addrlen[0]` in/out as in accept4. */
export function getpeername(fd: number, addr: Bytes, addrlen: Uint32Array): number {
  return orErrno(getpeernameNative(fd, addr, addrlen));
}

/**
 * inet_pton(3) for AF_INET (4 bytes into `out`) or AF_INET6 (16 bytes): 1 when `text` is a valid
 * address, 0 when it is not.
 */
export function inetPton(family: number, text: string, out: Bytes): number {
  return orErrno(inetPtonNative(family, text, out));
}
