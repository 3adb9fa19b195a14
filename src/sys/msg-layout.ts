/**
 * The sendmsg/recvmsg view of a platform table (src/sys/<platform>/abi.ts): where the fields of
 * `struct msghdr`, `struct iovec` and `struct cmsghdr` sit, with the constants that go with them, and the
 * CMSG_* macros computed from that. Plain numbers (no koffi), so the tables of platforms that cannot run here
 * are unit-tested on Linux.
 */
import type { PlatformAbi } from './abi.js';

export interface MsgLayout extends Readonly<PlatformAbi['layout']['msg']> {
  /** The platform the table describes, for messages. */
  readonly platform: string;
  /** The largest value a socklen_t length may take as CPython counts it (SOCKLEN_T_LIMIT: INT_MAX). */
  readonly socklenLimit: number;
  readonly SOL_SOCKET: number;
  readonly SCM_RIGHTS: number;
  /** SCM_CREDENTIALS (Linux); null where the platform has none (macOS and FreeBSD have SCM_CREDS, another struct). */
  readonly SCM_CREDENTIALS: number | null;
  readonly MSG_CTRUNC: number;
  readonly MSG_TRUNC: number;
  /** MSG_CMSG_CLOEXEC (Linux, FreeBSD); null where the platform has none (macOS). */
  readonly MSG_CMSG_CLOEXEC: number | null;
}

/** The message layout of a platform table. */
export function msgLayoutOf(abi: PlatformAbi): MsgLayout {
  const S = abi.socket;
  return Object.freeze({
    ...abi.layout.msg,
    platform: `${abi.platform}/${abi.arch}`,
    socklenLimit: 0x7fffffff,
    SOL_SOCKET: S.SOL_SOCKET,
    SCM_RIGHTS: S.SCM_RIGHTS,
    SCM_CREDENTIALS: S.SCM_CREDENTIALS ?? null,
    MSG_CTRUNC: S.MSG_CTRUNC,
    MSG_TRUNC: S.MSG_TRUNC,
    MSG_CMSG_CLOEXEC: S.MSG_CMSG_CLOEXEC ?? null,
  });
}

// ─── The CMSG_* macros over a table ─────────────────────────────────────────────────────────────────────

/** CMSG_ALIGN(n). */
export function cmsgAlign(layout: MsgLayout, n: number): number {
  const a = layout.cmsgAlign; // a power of two
  // Integer arithmetic where it is exact (the sizes of real messages), floating point for the rest.
  return n >= 0 && n < 0x40000000 ? (n + a - 1) & -a : Math.ceil(n / a) * a;
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
