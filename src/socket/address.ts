/**
 * Socket addresses, as Python writes them, to and from struct sockaddr: CPython's `getsockaddrarg` (with
 * `setipaddr` for host names) and `makesockaddr`, for AF_INET, AF_INET6 and AF_UNIX.
 */
import { OSError, OverflowError } from '../errors.js';
import { describe } from '../fileobj.js';
import { getaddrinfo, numericHost } from '../sys/netdb.js';
import * as sys from '../sys/socket.js';
import { isUint8Array } from '../sys/views.js';
import { decodeLinuxAddress, encodeLinuxAddress, isLinuxFamily, type NetlinkAddress, type PacketAddress } from './address-linux.js';
import { gaiError } from './errors.js';

/** `[host, port]`: an AF_INET address. */
export type InetAddress = [host: string, port: number];
/** `[host, port, flowinfo, scopeid]`: an AF_INET6 address. */
export type Inet6Address = [host: string, port: number, flowinfo: number, scopeid: number];
/**
 * An AF_UNIX address: a filesystem path as a string; an abstract name (first byte 0) comes back as a
 * Buffer, as Python returns bytes for it; an unnamed socket's address is ''.
 */
export type UnixAddress = string | Buffer;
/** Any address a socket call returns; families iomux does not decode come back as `[family, raw bytes]`. */
export type SocketAddress =
  | InetAddress | Inet6Address | UnixAddress | NetlinkAddress | PacketAddress | [family: number, data: Buffer];

/**
 * What socket calls accept as an address: `[host, port]` (AF_INET), `[host, port, flowinfo?, scopeid?]`
 * (AF_INET6), a path string or bytes (AF_UNIX; a leading '\0' names the abstract namespace). A host is a
 * numeric address, a name resolved with getaddrinfo, '' for the wildcard address or '<broadcast>'. Any
 * address a socket call returned can be passed back (the `[family, data]` form is refused at run time).
 */
export type AddressLike =
  | readonly [host: string | Uint8Array, port: number, flowinfo?: number, scopeid?: number]
  | string
  | Uint8Array
  | SocketAddress;

const ip4 = new Uint8Array(4);
const ip16 = new Uint8Array(16);

/**
 * Writes `address` for a socket of `family` into `out` (a sockaddr_storage's worth of bytes, owned by the
 * caller) and returns its length. `caller` names the method in error messages ("connect(): port must be
 * 0-65535.").
 */
export function encodeAddress(family: number, address: unknown, caller: string, out: Buffer): number {
  switch (family) {
    case sys.AF_INET:
      return encodeInet(address, caller, out);
    case sys.AF_INET6:
      return encodeInet6(address, caller, out);
    case sys.AF_UNIX:
      return encodeUnix(address, caller, out);
    default:
      if (isLinuxFamily(family)) return encodeLinuxAddress(out, family, address, caller);
      throw new OSError(null, `${caller}(): bad family ${family} (iomux handles AF_INET, AF_INET6 and AF_UNIX addresses)`);
  }
}

function encodeUnix(address: unknown, caller: string, out: Buffer): number {
  let path: Uint8Array;
  if (typeof address === 'string') path = Buffer.from(address, 'utf8');
  // An owned copy, by the view's internal slots: its own members (a lying length, a getter that re-enters
  // iomux) never run while the shared sockaddr is written.
  else if (isUint8Array(address)) path = new Uint8Array(address);
  else throw new TypeError(`${caller}(): AF_UNIX address must be a string or Buffer, not ${describe(address)}`);
  const abstract = path.length > 0 && path[0] === 0;
  // A path needs room for its terminating NUL; an abstract name may fill sun_path.
  if (abstract ? path.length > sys.SUN_PATH_BYTES : path.length >= sys.SUN_PATH_BYTES) {
    throw new OSError(null, `AF_UNIX path too long (${path.length} bytes; at most ${sys.SUN_PATH_BYTES - (abstract ? 0 : 1)})`);
  }
  return sys.writeSockaddrUn(out, path);
}

function encodeInet(address: unknown, caller: string, out: Buffer): number {
  if (!Array.isArray(address)) {
    throw new TypeError(`${caller}(): AF_INET address must be an array [host, port], not ${describe(address)}`);
  }
  if (address.length !== 2) {
    throw new TypeError(`${caller}(): AF_INET address must be a pair [host, port] (got ${address.length} items)`);
  }
  const host = hostArg(address[0], caller);
  const port = uintArg(address[1], 'port', caller);
  resolveHost(host, sys.AF_INET, caller);
  if (port > 0xffff) throw new OverflowError(`${caller}(): port must be 0-65535.`);
  return sys.writeSockaddrIn(out, ip4, port);
}

function encodeInet6(address: unknown, caller: string, out: Buffer): number {
  if (!Array.isArray(address)) {
    throw new TypeError(`${caller}(): AF_INET6 address must be an array [host, port, flowinfo?, scopeid?], not ${describe(address)}`);
  }
  if (address.length < 2 || address.length > 4) {
    throw new TypeError(
      `${caller}(): AF_INET6 address must be [host, port, flowinfo?, scopeid?] (got ${address.length} items)`,
    );
  }
  const host = hostArg(address[0], caller);
  const port = uintArg(address[1], 'port', caller);
  const flowinfo = address.length > 2 ? uintArg(address[2], 'flowinfo', caller) : 0;
  const scopeId = address.length > 3 ? uintArg(address[3], 'scopeid', caller) : 0;
  resolveHost(host, sys.AF_INET6, caller);
  if (port > 0xffff) throw new OverflowError(`${caller}(): port must be 0-65535.`);
  if (flowinfo > 0xfffff) throw new OverflowError(`${caller}(): flowinfo must be 0-1048575.`);
  if (scopeId > 0xffffffff) throw new OverflowError(`${caller}(): scopeid must be 0-4294967295.`);
  // As in CPython, the tuple's scope id wins over one resolved from a "%interface" suffix.
  return sys.writeSockaddrIn6(out, ip16, port, flowinfo, scopeId);
}

function hostArg(host: unknown, caller: string): string {
  let text: string;
  if (typeof host === 'string') text = host;
  else if (host instanceof Uint8Array) text = Buffer.from(host.buffer, host.byteOffset, host.byteLength).toString('latin1');
  else throw new TypeError(`${caller}(): host must be a string or Buffer, not ${describe(host)}`);
  if (text.includes('\0')) throw new TypeError(`${caller}(): host name must not contain null character`);
  return text;
}

function uintArg(value: unknown, name: string, caller: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${caller}(): ${name} must be an integer, not ${describe(value)}`);
  }
  if (value < 0) {
    if (name === 'port') throw new OverflowError(`${caller}(): port must be 0-65535.`);
    if (name === 'flowinfo') throw new OverflowError(`${caller}(): flowinfo must be 0-1048575.`);
    throw new OverflowError(`${caller}(): ${name} must be 0-4294967295.`);
  }
  return value;
}

/**
 * CPython's setipaddr: the address bytes of `host` for `family`, into `ip4` or `ip16`. '' is the wildcard
 * address, '<broadcast>' 255.255.255.255 (AF_INET only); numeric addresses are parsed without a lookup;
 * anything else is the first answer of getaddrinfo for that family.
 */
function resolveHost(host: string, family: number, caller: string): void {
  const out = family === sys.AF_INET ? ip4 : ip16;
  if (host === '') {
    out.fill(0);
    return;
  }
  if (host === '<broadcast>') {
    if (family !== sys.AF_INET) throw new OSError(null, `${caller}(): address family mismatched ('<broadcast>' is AF_INET only)`);
    out.fill(0xff);
    return;
  }
  if (family === sys.AF_INET ? parseIPv4(host, ip4) : !host.includes('%') && sys.inetPton(sys.AF_INET6, host, ip16) === 1) {
    return;
  }
  const found = getaddrinfo(host, null, family, 0, 0, 0);
  if (!Array.isArray(found)) throw gaiError(found);
  const first = found[0];
  if (first === undefined) throw new OSError(null, `${caller}(): getaddrinfo returned no address for ${describe(host)}`);
  if (first.family === sys.AF_INET) out.set(sys.sockaddrInBytes(first.address));
  else if (first.family === sys.AF_INET6) out.set(sys.sockaddrIn6Bytes(first.address));
  else throw new OSError(null, `${caller}(): ${describe(host)} resolved to an address of family ${first.family}`);
}

/** Strict dotted-quad IPv4 text (as inet_pton(AF_INET) accepts it) into 4 bytes, without allocating. */
function parseIPv4(text: string, out: Uint8Array): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // no leading zeros
      value = value * 10 + (c - 48);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[3] = value;
  return true;
}

/** CPython's makesockaddr: the address in the first `len` bytes of `buf`, or null when there is none. */
export function decodeAddress(buf: Buffer, len: number): SocketAddress | null {
  if (len <= 0) return null;
  const family = sys.sockaddrFamily(buf);
  switch (family) {
    case sys.AF_INET:
      return [sys.sockaddrInHost(buf), sys.sockaddrPort(buf)];
    case sys.AF_INET6: {
      const host = numericHost(buf, Math.min(len, sys.SOCKADDR_IN6_BYTES));
      if (typeof host !== 'string') throw gaiError({ code: host, errno: 0 });
      return [host, sys.sockaddrPort(buf), sys.sockaddrIn6Flowinfo(buf), sys.sockaddrIn6ScopeId(buf)];
    }
    case sys.AF_UNIX: {
      const path = sys.sockaddrUnPath(buf, len);
      if (path.length > 0 && path[0] === 0) return Buffer.from(path); // abstract: every byte counts
      const end = path.indexOf(0);
      return Buffer.from(path.buffer, path.byteOffset, end < 0 ? path.length : end).toString('utf8');
    }
    default:
      if (isLinuxFamily(family)) return decodeLinuxAddress(buf, family);
      return [family, Buffer.from(buf.subarray(2, Math.min(len, buf.length)))];
  }
}

/** An address as Python's repr shows it, for messages: ('127.0.0.1', 8080), '/tmp/sock'. */
export function formatAddress(address: unknown): string {
  if (Array.isArray(address)) return `(${address.map((v) => (typeof v === 'string' ? `'${v}'` : describe(v))).join(', ')})`;
  if (typeof address === 'string') return `'${address}'`;
  if (address instanceof Uint8Array) return `b'${Buffer.from(address).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
  return describe(address);
}
