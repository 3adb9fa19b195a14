/**
 * Name resolution: getaddrinfo(3) with its linked list of struct addrinfo, gai_strerror(3), and numeric
 * getnameinfo(3). getaddrinfo reports failures as EAI_* codes (negative on glibc), not errno; EAI_SYSTEM
 * means "see errno", which is why failures come back as a `GaiFailure` carrying both.
 */
import { errno, koffi, libc } from './lib.js';

type Bytes = Uint8Array;

export const AI_PASSIVE = 0x1;
export const AI_CANONNAME = 0x2;
export const AI_NUMERICHOST = 0x4;
export const AI_V4MAPPED = 0x8;
export const AI_ALL = 0x10;
export const AI_ADDRCONFIG = 0x20;
export const AI_NUMERICSERV = 0x400;

export const NI_NUMERICHOST = 1;
export const NI_NUMERICSERV = 2;
export const NI_NOFQDN = 4;
export const NI_NAMEREQD = 8;
export const NI_DGRAM = 16;
export const NI_MAXHOST = 1025;
export const NI_MAXSERV = 32;

export const EAI_BADFLAGS = -1;
export const EAI_NONAME = -2;
export const EAI_AGAIN = -3;
export const EAI_FAIL = -4;
export const EAI_FAMILY = -6;
export const EAI_SOCKTYPE = -7;
export const EAI_SERVICE = -8;
export const EAI_MEMORY = -10;
export const EAI_SYSTEM = -11;
export const EAI_OVERFLOW = -12;
export const EAI_NODATA = -5;
export const EAI_ADDRFAMILY = -9;

const AddrInfo = koffi.struct('iomux_addrinfo', {
  ai_flags: 'int',
  ai_family: 'int',
  ai_socktype: 'int',
  ai_protocol: 'int',
  ai_addrlen: 'uint32_t',
  ai_addr: 'void *',
  ai_canonname: 'char *',
  ai_next: 'void *',
});
const ADDRINFO_BYTES = koffi.sizeof(AddrInfo);
const FLAGS_AT = koffi.offsetof(AddrInfo, 'ai_flags');
const FAMILY_AT = koffi.offsetof(AddrInfo, 'ai_family');
const SOCKTYPE_AT = koffi.offsetof(AddrInfo, 'ai_socktype');
const PROTOCOL_AT = koffi.offsetof(AddrInfo, 'ai_protocol');

interface RawAddrInfo {
  ai_family: number;
  ai_socktype: number;
  ai_protocol: number;
  ai_addrlen: number;
  ai_addr: unknown;
  ai_canonname: string | null;
  ai_next: unknown;
}

const getaddrinfoNative = libc.func('int getaddrinfo(const char *, const char *, const void *, _Out_ void **res)') as (
  node: string | null, service: string | null, hints: Bytes, res: unknown[],
) => number;
const freeaddrinfoNative = libc.func('void freeaddrinfo(void *)') as (res: unknown) => void;
const gaiStrerrorNative = libc.func('const char *gai_strerror(int)') as (code: number) => string | null;
const getnameinfoNative = libc.func(
  'int getnameinfo(const void *, uint32_t, _Out_ uint8_t *host, uint32_t, void *, uint32_t, int)',
) as (sa: Bytes, salen: number, host: Bytes, hostlen: number, serv: null, servlen: number, flags: number) => number;

/** One entry of getaddrinfo's answer; `address` is a copy of the sockaddr (`ai_addrlen` bytes). */
export interface AddrInfoEntry {
  family: number;
  socktype: number;
  protocol: number;
  canonname: string;
  address: Buffer;
}

/** A failed lookup: `code` is the EAI_* value, `errno` the thread's errno (meaningful for EAI_SYSTEM). */
export interface GaiFailure {
  code: number;
  errno: number;
}

const hints = Buffer.alloc(ADDRINFO_BYTES);
const resultCell: unknown[] = [null];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function putInt(buf: Buffer, at: number, v: number): void {
  if (LITTLE_ENDIAN) buf.writeInt32LE(v, at);
  else buf.writeInt32BE(v, at);
}

/**
 * getaddrinfo(3): the entries in the resolver's order (for AF_UNSPEC the first may be IPv6), or a
 * `GaiFailure`. `node`/`service` null mean NULL.
 */
export function getaddrinfo(
  node: string | null, service: string | null, family: number, socktype: number, protocol: number, flags: number,
): AddrInfoEntry[] | GaiFailure {
  hints.fill(0);
  putInt(hints, FLAGS_AT, flags);
  putInt(hints, FAMILY_AT, family);
  putInt(hints, SOCKTYPE_AT, socktype);
  putInt(hints, PROTOCOL_AT, protocol);
  resultCell[0] = null;
  const code = getaddrinfoNative(node, service, hints, resultCell);
  if (code !== 0) return { code, errno: code === EAI_SYSTEM ? errno() : 0 };
  const head = resultCell[0];
  const out: AddrInfoEntry[] = [];
  try {
    for (let p = head; p; ) {
      const ai = koffi.decode(p, AddrInfo) as RawAddrInfo;
      out.push({
        family: ai.ai_family,
        socktype: ai.ai_socktype,
        protocol: ai.ai_protocol,
        canonname: ai.ai_canonname ?? '',
        address: ai.ai_addr && ai.ai_addrlen > 0 ? Buffer.from(koffi.view(ai.ai_addr, ai.ai_addrlen).slice(0)) : Buffer.alloc(0),
      });
      p = ai.ai_next;
    }
  } finally {
    if (head) freeaddrinfoNative(head);
  }
  return out;
}

/** gai_strerror(3): "Name or service not known" for EAI_NONAME. */
export function gaiStrerror(code: number): string {
  return gaiStrerrorNative(code) ?? `Unknown getaddrinfo error ${code}`;
}

const hostText = Buffer.alloc(NI_MAXHOST);

/**
 * getnameinfo(3) with NI_NUMERICHOST: the numeric host text of the `len`-byte sockaddr in `addr` (an IPv6
 * link-local address gets its "%interface" suffix, as CPython shows it). Returns a string, or an EAI code.
 */
export function numericHost(addr: Bytes, len: number): string | number {
  const code = getnameinfoNative(addr, len, hostText, NI_MAXHOST, null, 0, NI_NUMERICHOST);
  if (code !== 0) return code;
  const end = hostText.indexOf(0);
  return hostText.toString('latin1', 0, end < 0 ? NI_MAXHOST : end);
}
