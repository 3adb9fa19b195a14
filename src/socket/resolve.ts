/** Python's `socket.getaddrinfo`: names and services to the addresses a socket can use. */
import { describe } from '../fileobj.js';
import { getaddrinfo as getaddrinfoNative } from '../sys/netdb.js';
import { decodeAddress, type SocketAddress } from './address.js';
import { intArg } from '../args.js';
import { gaiError } from './errors.js';

/** One answer: `[family, type, proto, canonname, sockaddr]`, as Python returns it. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: SocketAddress];

/**
 * getaddrinfo(3) with Python's arguments: `host` a name, a numeric address or null; `port` a number, a
 * service name or null; `family`/`type`/`proto`/`flags` narrow the answers (0: any). The answers keep the
 * resolver's order (with AF_UNSPEC, 'localhost' may give ::1 first). A failed lookup raises `gaierror`.
 *
 * @python socket.getaddrinfo
 */
export function getaddrinfo(
  host: string | Uint8Array | null,
  port: number | string | Uint8Array | null,
  family: number = 0,
  type: number = 0,
  proto: number = 0,
  flags: number = 0,
): AddrInfo[] {
  const node = textArg(host, 'host');
  let service: string | null;
  if (typeof port === 'number') service = String(intArg(port, 'port'));
  else if (port === null || port === undefined || typeof port === 'string' || port instanceof Uint8Array) service = textArg(port, 'port');
  else throw new TypeError(`getaddrinfo(): port must be an integer, a string or null (got ${describe(port)})`);
  const found = getaddrinfoNative(
    node, service, intArg(family, 'family'), intArg(type, 'type'), intArg(proto, 'proto'), intArg(flags, 'flags'),
  );
  if (!Array.isArray(found)) throw gaiError(found);
  return found.map((e) => [e.family, e.socktype, e.protocol, e.canonname, decodeAddress(e.address, e.address.length) ?? '']);
}

function textArg(value: unknown, name: string): string | null {
  if (value === null || value === undefined) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  else throw new TypeError(`getaddrinfo(): ${name} must be a string or null (got ${describe(value)})`);
  if (text.includes('\0')) throw new TypeError(`getaddrinfo(): ${name} must not contain null character`);
  return text;
}
