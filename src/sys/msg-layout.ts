/**
 * Where the fields of `struct msghdr`, `struct iovec` and `struct cmsghdr` sit, per platform, and the
 * CMSG_* macros computed from that. This file holds only numbers (no koffi), so the tables of platforms
 * that cannot run here are unit-tested against their header values on Linux.
 *
 * ─── PLATFORM TABLES ─────────────────────────────────────────────────────────────────────────────────────
 * Everything platform-specific about messages with ancillary data is in the two tables below; the code
 * under them only reads the table it is given.
 */

export interface MsgLayout {
  /** The platform the table describes, for messages. */
  readonly platform: string;
  /** sizeof(void *). */
  readonly pointerBytes: number;
  // struct msghdr
  readonly msghdrBytes: number;
  readonly nameAt: number;
  readonly namelenAt: number; // socklen_t (4 bytes) everywhere
  readonly iovAt: number;
  readonly iovlenAt: number;
  readonly iovlenBytes: number; // size_t on Linux, int on macOS
  readonly controlAt: number;
  readonly controllenAt: number;
  readonly controllenBytes: number; // size_t on Linux, socklen_t on macOS
  readonly flagsAt: number;
  // struct iovec
  readonly iovecBytes: number;
  readonly iovBaseAt: number;
  readonly iovLenAt: number;
  readonly iovLenBytes: number;
  // struct cmsghdr
  readonly cmsghdrBytes: number;
  readonly cmsgLenBytes: number; // size_t on Linux, socklen_t on macOS
  readonly cmsgLevelAt: number;
  readonly cmsgTypeAt: number;
  /** CMSG_ALIGN's unit: sizeof(size_t) on Linux (glibc, musl), 4 on macOS (__DARWIN_ALIGN32). */
  readonly cmsgAlign: number;
  /** The largest value a socklen_t length may take as CPython counts it (SOCKLEN_T_LIMIT: INT_MAX). */
  readonly socklenLimit: number;
  // constants of <sys/socket.h> that belong with these structs
  readonly SOL_SOCKET: number;
  readonly SCM_RIGHTS: number;
  /** SCM_CREDENTIALS (Linux); null where the platform has none (macOS has SCM_CREDS with another struct). */
  readonly SCM_CREDENTIALS: number | null;
  readonly MSG_CTRUNC: number;
  readonly MSG_TRUNC: number;
  /** MSG_CMSG_CLOEXEC (Linux, FreeBSD); null where the platform has none (macOS). */
  readonly MSG_CMSG_CLOEXEC: number | null;
}

/**
 * Linux (glibc and musl, x86_64 and aarch64): <bits/socket.h>. msg_iovlen, msg_controllen and cmsg_len are
 * size_t; CMSG_ALIGN rounds to sizeof(size_t). Checked against koffi's C ABI view at load (src/sys/msg.ts).
 */
export const LINUX_64: MsgLayout = Object.freeze({
  platform: 'linux (64-bit)',
  pointerBytes: 8,
  msghdrBytes: 56,
  nameAt: 0,
  namelenAt: 8,
  iovAt: 16,
  iovlenAt: 24,
  iovlenBytes: 8,
  controlAt: 32,
  controllenAt: 40,
  controllenBytes: 8,
  flagsAt: 48,
  iovecBytes: 16,
  iovBaseAt: 0,
  iovLenAt: 8,
  iovLenBytes: 8,
  cmsghdrBytes: 16,
  cmsgLenBytes: 8,
  cmsgLevelAt: 8,
  cmsgTypeAt: 12,
  cmsgAlign: 8,
  socklenLimit: 0x7fffffff,
  SOL_SOCKET: 1,
  SCM_RIGHTS: 1,
  SCM_CREDENTIALS: 2,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_CMSG_CLOEXEC: 0x40000000,
});

/**
 * macOS (x86_64 and arm64): <sys/socket.h> of the macOS SDK. msg_namelen and msg_controllen are socklen_t,
 * msg_iovlen an int, cmsg_len a socklen_t; CMSG_DATA and CMSG_SPACE align to 4 bytes (__DARWIN_ALIGN32), so
 * the data of a 12-byte cmsghdr starts at offset 12. NOT YET RUN on macOS: written from the headers.
 */
export const DARWIN_64: MsgLayout = Object.freeze({
  platform: 'darwin (64-bit)',
  pointerBytes: 8,
  msghdrBytes: 48,
  nameAt: 0,
  namelenAt: 8,
  iovAt: 16,
  iovlenAt: 24,
  iovlenBytes: 4,
  controlAt: 32,
  controllenAt: 40,
  controllenBytes: 4,
  flagsAt: 44,
  iovecBytes: 16,
  iovBaseAt: 0,
  iovLenAt: 8,
  iovLenBytes: 8,
  cmsghdrBytes: 12,
  cmsgLenBytes: 4,
  cmsgLevelAt: 4,
  cmsgTypeAt: 8,
  cmsgAlign: 4,
  socklenLimit: 0x7fffffff,
  SOL_SOCKET: 0xffff,
  SCM_RIGHTS: 1,
  SCM_CREDENTIALS: null,
  MSG_CTRUNC: 0x20,
  MSG_TRUNC: 0x10,
  MSG_CMSG_CLOEXEC: null,
});

/** The table of the running platform, or null when iomux has none for it. */
export function layoutFor(platform: string, pointerBytes: number): MsgLayout | null {
  if (pointerBytes !== 8) return null;
  if (platform === 'linux') return LINUX_64;
  if (platform === 'darwin') return DARWIN_64;
  return null;
}

// ─── The CMSG_* macros over a table ─────────────────────────────────────────────────────────────────────

/** CMSG_ALIGN(n). */
export function cmsgAlign(layout: MsgLayout, n: number): number {
  const a = layout.cmsgAlign;
  return Math.ceil(n / a) * a;
}

/** Offset of the data in a control message: CMSG_DATA(cmsg) - cmsg, i.e. CMSG_LEN(0). */
export function cmsgDataAt(layout: MsgLayout): number {
  return cmsgAlign(layout, layout.cmsghdrBytes);
}

/** CMSG_LEN(n): the cmsg_len of an item with n data bytes. */
export function cmsgLen(layout: MsgLayout, n: number): number {
  return cmsgDataAt(layout) + n;
}

/** CMSG_SPACE(n): the room an item with n data bytes takes in the control buffer, padding included. */
export function cmsgSpace(layout: MsgLayout, n: number): number {
  return cmsgDataAt(layout) + cmsgAlign(layout, n);
}
