/**
 * Name resolution: getaddrinfo(3) with its linked list of struct addrinfo, gai_strerror(3), and numeric
 * getnameinfo(3). getaddrinfo reports failures as EAI_* codes (negative on glibc, positive on the BSDs), not errno; EAI_SYSTEM
 * means "see errno", which is why failures come back as a `GaiFailure` carrying both.
 */
import { putU32 } from './bytes.js';
import { abi, koffi, libc } from './lib.js';
import { errno } from './errno.js';

type Bytes = Uint8Array;

const N = abi.netdb;

export const AI_PASSIVE = N.AI_PASSIVE;
export const AI_CANONNAME = N.AI_CANONNAME;
export const AI_NUMERICHOST = N.AI_NUMERICHOST;
export const AI_V4MAPPED = N.AI_V4MAPPED;
export const AI_ALL = N.AI_ALL;
export const AI_ADDRCONFIG = N.AI_ADDRCONFIG;
export const AI_NUMERICSERV = N.AI_NUMERICSERV;
export const NI_NUMERICHOST = N.NI_NUMERICHOST;
export const NI_NUMERICSERV = N.NI_NUMERICSERV;
export const NI_NOFQDN = N.NI_NOFQDN;
export const NI_NAMEREQD = N.NI_NAMEREQD;
export const NI_DGRAM = N.NI_DGRAM;
export const NI_MAXHOST = N.NI_MAXHOST;
export const NI_MAXSERV = N.NI_MAXSERV;
export const EAI_BADFLAGS = N.EAI_BADFLAGS;
export const EAI_NONAME = N.EAI_NONAME;
export const EAI_AGAIN = N.EAI_AGAIN;
export const EAI_FAIL = N.EAI_FAIL;
export const EAI_FAMILY = N.EAI_FAMILY;
export const EAI_SOCKTYPE = N.EAI_SOCKTYPE;
export const EAI_SERVICE = N.EAI_SERVICE;
export const EAI_MEMORY = N.EAI_MEMORY;
export const EAI_SYSTEM = N.EAI_SYSTEM;
export const EAI_OVERFLOW = N.EAI_OVERFLOW;
export const EAI_NODATA: number | undefined = N.EAI_NODATA;
export const EAI_ADDRFAMILY: number | undefined = N.EAI_ADDRFAMILY;

const eaiNames = new Map<number, string>();
for (const [name, value] of Object.entries(N)) if (name.startsWith('EAI_') && value !== undefined) eaiNames.set(value, name);

/** The name of a getaddrinfo error code ('EAI_NONAME'), or undefined. */
export function eaiName(code: number): string | undefined {
  return eaiNames.get(code);
}

// glibc: ai_addr then ai_canonname; the BSDs and macOS: ai_canonname then ai_addr.
const AddrInfo = koffi.struct(abi.layout.addrinfoCanonnameFirst
  ? {
    ai_flags: 'int', ai_family: 'int', ai_socktype: 'int', ai_protocol: 'int', ai_addrlen: 'uint32_t',
    ai_canonname: 'char *', ai_addr: 'void *', ai_next: 'void *',
  }
  : {
    ai_flags: 'int', ai_family: 'int', ai_socktype: 'int', ai_protocol: 'int', ai_addrlen: 'uint32_t',
    ai_addr: 'void *', ai_canonname: 'char *', ai_next: 'void *',
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

/**
 * getaddrinfo(3): the entries in the resolver's order (for AF_UNSPEC the first may be IPv6), or a
 * `GaiFailure`. `node`/`service` null mean NULL.
 */
export function getaddrinfo(
  node: string | null, service: string | null, family: number, socktype: number, protocol: number, flags: number,
): AddrInfoEntry[] | GaiFailure {
  hints.fill(0);
  putU32(hints, FLAGS_AT, flags);
  putU32(hints, FAMILY_AT, family);
  putU32(hints, SOCKTYPE_AT, socktype);
  putU32(hints, PROTOCOL_AT, protocol);
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
