/**
 * CPython's socket module functions around addresses and interfaces: getnameinfo, inet_pton/inet_ntop,
 * inet_aton/inet_ntoa, if_nametoindex/if_indextoname/if_nameindex, gethostname and fromfd — camelCased,
 * with CPython's error classes and messages.
 */
import { OSError, OverflowError, ValueError, raiseErrno } from '../errors.js';
import { describe } from '../fileobj.js';
import { close as closeFd, dupCloexec } from '../sys/index.js';
import { AI_NUMERICHOST, getaddrinfo as getaddrinfoNative } from '../sys/netdb.js';
import * as net from '../sys/netinfo.js';
import * as sys from '../sys/socket.js';
import { intArg } from '../args.js';
import { gaiError } from './errors.js';
import { Socket } from './socket.js';

/** getnameinfo's sockaddr, built here and read by the native call within the same function. */
const sockaddr = Buffer.alloc(sys.SOCKADDR_STORAGE_BYTES);

function textArg(value: unknown, fn: string, what = 'argument'): string {
  if (typeof value !== 'string') throw new TypeError(`${fn}() ${what} must be str, not ${describe(value)}`);
  if (value.includes('\0')) throw new ValueError('embedded null character');
  return value;
}

function bytesLike(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`a bytes-like object is required, not ${describe(value)}`);
}

function uint32Arg(value: unknown, message: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`getnameinfo(): illegal sockaddr argument (got ${describe(value)})`);
  if (value < 0 || value > 0xffffffff) throw new OverflowError(message);
  return value;
}

/**
 * getnameinfo([host, port, flowinfo?, scopeid?], flags): `[host, service]` (CPython's socket.getnameinfo).
 * `host` must be a numeric address (it is parsed with AI_NUMERICHOST, never looked up); `flags` are the
 * NI_* bits. Failures raise gaierror, as in CPython. Unlike CPython, a flowinfo or scopeid outside
 * 0-4294967295 raises OverflowError instead of being silently wrapped to 32 bits.
 *
 * @python socket.getnameinfo
 */
export function getnameinfo(sockaddrArg: readonly [string, number, number?, number?], flags: number): [string, string] {
  if (!Array.isArray(sockaddrArg)) throw new TypeError(`getnameinfo() argument 1 must be an array, not ${describe(sockaddrArg)}`);
  const nif = intArg(flags, 'flags');
  if (sockaddrArg.length < 2 || sockaddrArg.length > 4 || typeof sockaddrArg[0] !== 'string') {
    throw new TypeError('getnameinfo(): illegal sockaddr argument');
  }
  const host = textArg(sockaddrArg[0], 'getnameinfo', 'host');
  const port = intArg(sockaddrArg[1], 'port');
  const flowinfo = sockaddrArg.length > 2 ? uint32Arg(sockaddrArg[2], 'getnameinfo(): flowinfo must be 0-1048575.') : 0;
  if (flowinfo > 0xfffff) throw new OverflowError('getnameinfo(): flowinfo must be 0-1048575.');
  const scopeId = sockaddrArg.length > 3 ? uint32Arg(sockaddrArg[3], 'getnameinfo(): scopeid must be 0-4294967295.') : 0;
  const found = getaddrinfoNative(host, String(port), sys.AF_UNSPEC, sys.SOCK_DGRAM, 0, AI_NUMERICHOST);
  if (!Array.isArray(found)) throw gaiError(found);
  if (found.length > 1) throw new OSError(null, 'sockaddr resolved to multiple addresses');
  const entry = found[0];
  if (entry === undefined) throw new OSError(null, 'getaddrinfo returned no address');
  let len = entry.address.length;
  if (entry.family === sys.AF_INET) {
    if (sockaddrArg.length !== 2) throw new OSError(null, 'IPv4 sockaddr must be 2 tuple');
    entry.address.copy(sockaddr, 0, 0, len);
  } else if (entry.family === sys.AF_INET6) {
    const bytes = sys.sockaddrIn6Bytes(entry.address);
    len = sys.writeSockaddrIn6(sockaddr, bytes, sys.sockaddrPort(entry.address), flowinfo, scopeId);
  } else {
    entry.address.copy(sockaddr, 0, 0, len);
  }
  const result = net.getnameinfo(sockaddr, len, nif);
  if (!Array.isArray(result)) throw gaiError(result);
  return result;
}

/**
 * inet_pton(family, text): the packed address (4 or 16 bytes) as a Buffer.
 *
 * @python socket.inet_pton
 */
export function inetPton(family: number, text: string): Buffer {
  const af = intArg(family, 'family');
  const ip = textArg(text, 'inetPton', 'argument 2');
  const out = Buffer.alloc(16);
  const r = sys.inetPton(af, ip, out);
  if (r < 0) raiseErrno(r);
  if (r === 0) throw new OSError(null, 'illegal IP address string passed to inet_pton');
  return af === sys.AF_INET ? out.subarray(0, 4) : out;
}

/**
 * inet_ntop(family, packed): the text of a packed IPv4 (4 bytes) or IPv6 (16 bytes) address.
 *
 * @python socket.inet_ntop
 */
export function inetNtop(family: number, packed: Uint8Array | ArrayBufferView | ArrayBuffer): string {
  const af = intArg(family, 'family');
  const bytes = bytesLike(packed);
  if (af === sys.AF_INET || af === sys.AF_INET6) {
    if (bytes.length !== (af === sys.AF_INET ? 4 : 16)) throw new ValueError('invalid length of packed IP address string');
  } else {
    throw new ValueError(`unknown address family ${af}`);
  }
  const r = net.inetNtop(af, bytes);
  if (typeof r === 'number') raiseErrno(r);
  return r;
}

/**
 * inet_aton(text): 4 bytes, accepting every form inet_aton(3) does ('127.1', '0x7f.1', '1').
 *
 * @python socket.inet_aton
 */
export function inetAton(text: string): Buffer {
  const ip = textArg(text, 'inetAton');
  const out = Buffer.alloc(4);
  if (net.inetAton(ip, out) === 0) throw new OSError(null, 'illegal IP address string passed to inet_aton');
  return out;
}

/**
 * inet_ntoa(packed): dotted-quad text of 4 bytes.
 *
 * @python socket.inet_ntoa
 */
export function inetNtoa(packed: Uint8Array | ArrayBufferView | ArrayBuffer): string {
  const b = bytesLike(packed);
  if (b.length !== 4) throw new OSError(null, 'packed IP wrong length for inet_ntoa');
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * if_nametoindex(name): the interface's index; OSError("no interface with this name") when there is none.
 *
 * @python socket.if_nametoindex
 */
export function ifNametoindex(name: string | Uint8Array): number {
  let text: string;
  if (typeof name === 'string') text = name;
  else if (name instanceof Uint8Array) text = Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('utf8');
  else throw new TypeError(`expected str, bytes or os.PathLike object, not ${describe(name)}`);
  if (text.includes('\0')) throw new ValueError('embedded null byte');
  const index = net.ifNametoindex(text);
  if (index === 0) throw new OSError(null, 'no interface with this name');
  return index;
}

/**
 * if_indextoname(index): the interface's name; OSError ENXIO when there is none.
 *
 * @python socket.if_indextoname
 */
export function ifIndextoname(index: number): string {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`an integer is required (got ${describe(index)})`);
  if (index < 0) throw new OverflowError("can't convert negative value to unsigned int");
  if (index > 0xffffffff) throw new OverflowError('index is too large');
  const r = net.ifIndextoname(index);
  if (typeof r === 'number') raiseErrno(r);
  return r;
}

/**
 * if_nameindex(): `[index, name]` for every network interface.
 *
 * @python socket.if_nameindex
 */
export function ifNameindex(): Array<[number, string]> {
  const r = net.ifNameindex();
  if (typeof r === 'number') raiseErrno(r);
  return r;
}

/**
 * gethostname(): the host's name.
 *
 * @python socket.gethostname
 */
export function gethostname(): string {
  const r = net.gethostname();
  if (typeof r === 'number') raiseErrno(r);
  return r;
}

/**
 * fromfd(fd, family, type, proto = 0): a Socket on a duplicate of `fd` (close-on-exec); `fd` stays the
 * caller's. OSError EBADF for a closed fd, ENOTSOCK for one that is not a socket, as in CPython.
 *
 * @python socket.fromfd
 */
export function fromfd(fd: number, family: number, type: number, proto: number = 0): Socket {
  const nfd = dupCloexec(intArg(fd, 'fd'));
  if (nfd < 0) raiseErrno(nfd);
  try {
    return new Socket(family, type, proto, nfd);
  } catch (err) {
    closeFd(nfd);
    throw err;
  }
}

// Host order is little-endian on every platform iomux runs on (src/sys/platform.ts refuses any other), so
// host ↔ network order is always a byte swap.
function swap16(fn: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new TypeError(`${fn}() argument must be an integer (got ${describe(x)})`);
  if (x < 0) throw new OverflowError(`${fn}: can't convert negative Python int to C 16-bit unsigned integer`);
  if (x > 0xffff) throw new OverflowError(`${fn}: Python int too large to convert to C 16-bit unsigned integer`);
  return ((x & 0xff) << 8) | (x >>> 8);
}

function swap32(fn: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new TypeError(`${fn}() argument must be an integer (got ${describe(x)})`);
  if (x < 0) throw new OverflowError("can't convert negative value to unsigned int");
  if (x > 0xffffffff) throw new OverflowError('int larger than 32 bits');
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * htons(x): a 16-bit number from host to network byte order (e.g. an AF_PACKET socket's protocol).
 *
 * @python socket.htons
 */
export function htons(x: number): number {
  return swap16('htons', x);
}

/**
 * ntohs(x): a 16-bit number from network to host byte order.
 *
 * @python socket.ntohs
 */
export function ntohs(x: number): number {
  return swap16('ntohs', x);
}

/**
 * htonl(x): a 32-bit number from host to network byte order.
 *
 * @python socket.htonl
 */
export function htonl(x: number): number {
  return swap32('htonl', x);
}

/**
 * ntohl(x): a 32-bit number from network to host byte order.
 *
 * @python socket.ntohl
 */
export function ntohl(x: number): number {
  return swap32('ntohl', x);
}
