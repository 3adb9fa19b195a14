/**
 * sendmsg(2) and recvmsg(2): the first calls whose structs hold pointers. `struct msghdr` points to a name,
 * an iovec array and a control buffer, so all of them live in one block of native memory (koffi.alloc) whose
 * address never changes; the pointer fields are written once per block, and a call only writes the lengths.
 * The block is reused from call to call (grown when a call needs more, given back when it grew past
 * RETAINED_BYTES), so a message allocates nothing native on the hot path.
 *
 * The caller's scatter/gather buffers are copied into (sendmsg) or out of (recvmsg) the block's one data
 * region, so the kernel always sees a single iovec: the bytes on the wire are the same (a datagram is the
 * concatenation of its iovecs), and JavaScript memory never has to be pinned at a raw address.
 *
 * Field offsets come from the platform table in msg-layout.ts; the running platform's is checked against
 * koffi's own view of the C structs when this module loads.
 */
import { abi, errno, koffi, libc } from './lib.js';
import { cmsgAlign, cmsgDataAt, msgLayoutOf, type MsgLayout } from './msg-layout.js';

type Bytes = Uint8Array;

/** The running platform's message layout and constants. */
export const MSG: MsgLayout = msgLayoutOf(abi);

checkAgainstCompiler(MSG);

/** sizeof(struct sockaddr_storage): the room for a sender's address. */
const NAME_BYTES = 128;
/** Control and data regions start at a multiple of this (CMSG alignment is at most 8). */
const REGION_ALIGN = 16;
/** Smallest block: fits small messages with a few fds without ever growing. */
const INITIAL_DATA_BYTES = 64 * 1024;
const INITIAL_CONTROL_BYTES = 4096;
/** A block grown past this is freed after the call that needed it (a one-off 10 MB message stays one-off). */
const RETAINED_BYTES = 1024 * 1024;

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const sendmsgNative = libc.func('long sendmsg(int, void *, int)') as (fd: number, msg: unknown, flags: number) => number;
const recvmsgNative = libc.func('long recvmsg(int, void *, int)') as (fd: number, msg: unknown, flags: number) => number;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * One native block: [msghdr | one iovec | name | control | data]. `name`, `control` and `data` are Buffers
 * over the native memory: what JavaScript writes there is what the kernel reads, and back.
 */
export class MessageArea {
  readonly #ptr: unknown;
  readonly #view: DataView;
  readonly #withName: bigint;
  readonly #withControl: bigint;
  readonly name: Buffer;
  readonly control: Buffer;
  readonly data: Buffer;
  readonly totalBytes: number;
  #freed = false;

  constructor(dataBytes: number, controlBytes: number) {
    const L = MSG;
    const iovAt = alignUp(L.msghdrBytes, REGION_ALIGN);
    const nameAt = alignUp(iovAt + L.iovecBytes, REGION_ALIGN);
    const controlAt = alignUp(nameAt + NAME_BYTES, REGION_ALIGN);
    const dataAt = alignUp(controlAt + controlBytes, REGION_ALIGN);
    const total = dataAt + Math.max(dataBytes, 1);
    this.totalBytes = total;
    this.#ptr = koffi.alloc('uint8_t', total);
    const base = koffi.address(this.#ptr);
    const whole = Buffer.from(koffi.view(this.#ptr, total));
    whole.fill(0, 0, dataAt);
    this.#view = new DataView(whole.buffer, whole.byteOffset, total);
    this.name = whole.subarray(nameAt, nameAt + NAME_BYTES);
    this.control = whole.subarray(controlAt, controlAt + controlBytes);
    this.data = whole.subarray(dataAt, dataAt + Math.max(dataBytes, 1));
    this.#withName = base + BigInt(nameAt);
    this.#withControl = base + BigInt(controlAt);
    // The pointers that never change: msg_iov → our iovec (msg_iovlen 1), iov_base → data.
    this.#putPointer(L.iovAt, base + BigInt(iovAt));
    this.#putSize(L.iovlenAt, L.iovlenBytes, 1);
    this.#putPointer(iovAt + L.iovBaseAt, base + BigInt(dataAt));
    this.#iovLenAt = iovAt + L.iovLenAt;
  }

  readonly #iovLenAt: number;

  /** Fills in the lengths (and NULL pointers for an empty name or control part) before a call. */
  prepare(nameLen: number, dataLen: number, controlLen: number): void {
    const L = MSG;
    this.#putPointer(L.nameAt, nameLen > 0 ? this.#withName : 0n);
    this.#view.setUint32(L.namelenAt, nameLen, LE);
    this.#putSize(this.#iovLenAt, L.iovLenBytes, dataLen);
    this.#putPointer(L.controlAt, controlLen > 0 ? this.#withControl : 0n);
    this.#putSize(L.controllenAt, L.controllenBytes, controlLen);
    this.#view.setInt32(L.flagsAt, 0, LE);
  }

  /** msg_namelen after recvmsg: the sender address' length (0 when there is none). */
  nameLength(): number {
    return this.#view.getUint32(MSG.namelenAt, LE);
  }

  /** msg_controllen after recvmsg: how much of the control region the kernel filled. */
  controlLength(): number {
    return this.#getSize(MSG.controllenAt, MSG.controllenBytes);
  }

  /** msg_flags after recvmsg (MSG_TRUNC, MSG_CTRUNC, MSG_EOR, …). */
  flags(): number {
    return this.#view.getInt32(MSG.flagsAt, LE);
  }

  /** The block's address, for the natives. */
  get pointer(): unknown {
    if (this.#freed) throw new Error('MessageArea used after free');
    return this.#ptr;
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    koffi.free(this.#ptr);
  }

  #putPointer(at: number, value: bigint): void {
    // Pointers are 8 bytes in every table (checked against koffi at load).
    this.#view.setBigUint64(at, value, LE);
  }

  #putSize(at: number, bytes: number, value: number): void {
    if (bytes === 4) {
      this.#view.setUint32(at, value, LE);
      return;
    }
    const low = value >>> 0;
    const high = Math.floor(value / 0x100000000);
    this.#view.setUint32(at + (LE ? 0 : 4), low, LE);
    this.#view.setUint32(at + (LE ? 4 : 0), high, LE);
  }

  #getSize(at: number, bytes: number): number {
    if (bytes === 4) return this.#view.getUint32(at, LE);
    const low = this.#view.getUint32(at + (LE ? 0 : 4), LE);
    const high = this.#view.getUint32(at + (LE ? 4 : 0), LE);
    return high * 0x100000000 + low;
  }
}

let retained = new MessageArea(INITIAL_DATA_BYTES, INITIAL_CONTROL_BYTES);

/**
 * The block to use for a call moving `dataBytes` of data and `controlBytes` of control data: the retained
 * one when it is big enough, else a bigger one (which becomes the retained one). Call `releaseMessageArea`
 * when done with it. Only one call uses it at a time: JavaScript runs one socket call at a time per thread.
 * Null when that much native memory cannot be allocated.
 */
export function messageArea(dataBytes: number, controlBytes: number): MessageArea | null {
  if (dataBytes > retained.data.length || controlBytes > retained.control.length) {
    let next: MessageArea;
    try {
      next = new MessageArea(Math.max(dataBytes, retained.data.length), Math.max(controlBytes, retained.control.length));
    } catch {
      return null; // koffi could not allocate that much native memory; the retained block is still good
    }
    retained.free();
    retained = next;
  }
  return retained;
}

/** After a call: a block that had to grow past RETAINED_BYTES is swapped back for a small one. */
export function releaseMessageArea(): void {
  if (retained.totalBytes > RETAINED_BYTES) {
    retained.free();
    retained = new MessageArea(INITIAL_DATA_BYTES, INITIAL_CONTROL_BYTES);
  }
}

/** sendmsg(2) of the prepared block. Returns the bytes sent or -errno. */
export function sendmsg(fd: number, area: MessageArea, flags: number): number {
  const r = sendmsgNative(fd, area.pointer, flags);
  return r < 0 ? -errno() : r;
}

/** recvmsg(2) into the prepared block. Returns the bytes received (the datagram's size with MSG_TRUNC) or -errno. */
export function recvmsg(fd: number, area: MessageArea, flags: number): number {
  const r = recvmsgNative(fd, area.pointer, flags);
  return r < 0 ? -errno() : r;
}

// ─── Control messages inside a control buffer ───────────────────────────────────────────────────────────

function viewOf(buf: Bytes): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes a cmsghdr at `at` in `control` (cmsg_len = CMSG_LEN(dataLen)); returns the data offset. */
export function writeCmsgHeader(control: Bytes, at: number, dataLen: number, level: number, type: number): number {
  const v = viewOf(control);
  const len = cmsgDataAt(MSG) + dataLen;
  if (MSG.cmsgLenBytes === 4) {
    v.setUint32(at, len, LE);
  } else {
    v.setUint32(at + (LE ? 0 : 4), len >>> 0, LE);
    v.setUint32(at + (LE ? 4 : 0), Math.floor(len / 0x100000000), LE);
  }
  v.setInt32(at + MSG.cmsgLevelAt, level, LE);
  v.setInt32(at + MSG.cmsgTypeAt, type, LE);
  return at + cmsgDataAt(MSG);
}

/**
 * One control message as found in a received control buffer. `status` is CPython's get_cmsg_data_len:
 * 0 complete; 1 its data is cut short by the end of the buffer (`dataLen` is what is there); -1 its header
 * does not fit or is malformed, so nothing of it (and nothing after it) can be read.
 */
export interface ControlItem {
  level: number;
  type: number;
  dataAt: number;
  dataLen: number;
  status: 0 | 1 | -1;
}

/**
 * The control messages in the first `controllen` bytes of `control`, walked as CMSG_FIRSTHDR/CMSG_NXTHDR
 * do, with CPython's checks. Stops after the first item whose status is -1 (that item is included).
 */
export function parseControl(control: Bytes, controllen: number): ControlItem[] {
  const items: ControlItem[] = [];
  const end = Math.min(controllen, control.length);
  const hdr = MSG.cmsghdrBytes;
  const dataAt = cmsgDataAt(MSG);
  const v = viewOf(control);
  let at = 0;
  while (at + hdr <= end) {
    const len = MSG.cmsgLenBytes === 4
      ? v.getUint32(at, LE)
      : v.getUint32(at + (LE ? 4 : 0), LE) * 0x100000000 + v.getUint32(at + (LE ? 0 : 4), LE);
    const level = v.getInt32(at + MSG.cmsgLevelAt, LE);
    const type = v.getInt32(at + MSG.cmsgTypeAt, LE);
    if (len < dataAt || at + dataAt > end) {
      items.push({ level, type, dataAt: at + dataAt, dataLen: 0, status: -1 });
      break;
    }
    const want = len - dataAt;
    const room = end - (at + dataAt);
    if (room >= want) items.push({ level, type, dataAt: at + dataAt, dataLen: want, status: 0 });
    else items.push({ level, type, dataAt: at + dataAt, dataLen: room, status: 1 });
    // CMSG_NXTHDR: the next header starts at CMSG_ALIGN(cmsg_len) and must fit whole.
    at += cmsgAlign(MSG, len);
  }
  return items;
}

/** A C int at `at` in host byte order (an fd in SCM_RIGHTS data). */
export function readInt(buf: Bytes, at: number): number {
  return viewOf(buf).getInt32(at, LE);
}

/** Writes a C int at `at` in host byte order. */
export function writeInt(buf: Bytes, at: number, value: number): void {
  viewOf(buf).setInt32(at, value, LE);
}

/**
 * The table must agree with the C compiler's layout as koffi computes it for the running platform: a wrong
 * offset here would make the kernel write through a wrong pointer.
 */
function checkAgainstCompiler(L: MsgLayout): void {
  const linux = abi.platform === 'linux';
  const lenType = linux ? 'size_t' : 'uint32_t';
  const Msghdr = koffi.struct({
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: linux ? 'size_t' : 'int',
    msg_control: 'void *',
    msg_controllen: lenType,
    msg_flags: 'int',
  });
  const Iovec = koffi.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const Cmsghdr = koffi.struct({ cmsg_len: lenType, cmsg_level: 'int', cmsg_type: 'int' });
  const checks: Array<[string, number, number]> = [
    ['sizeof(void *)', koffi.sizeof('void *'), 8],
    ['sizeof(msghdr)', koffi.sizeof(Msghdr), L.msghdrBytes],
    ['msg_namelen', koffi.offsetof(Msghdr, 'msg_namelen'), L.namelenAt],
    ['msg_iov', koffi.offsetof(Msghdr, 'msg_iov'), L.iovAt],
    ['msg_iovlen', koffi.offsetof(Msghdr, 'msg_iovlen'), L.iovlenAt],
    ['msg_control', koffi.offsetof(Msghdr, 'msg_control'), L.controlAt],
    ['msg_controllen', koffi.offsetof(Msghdr, 'msg_controllen'), L.controllenAt],
    ['msg_flags', koffi.offsetof(Msghdr, 'msg_flags'), L.flagsAt],
    ['sizeof(iovec)', koffi.sizeof(Iovec), L.iovecBytes],
    ['iov_len', koffi.offsetof(Iovec, 'iov_len'), L.iovLenAt],
    ['sizeof(cmsghdr)', koffi.sizeof(Cmsghdr), L.cmsghdrBytes],
    ['cmsg_level', koffi.offsetof(Cmsghdr, 'cmsg_level'), L.cmsgLevelAt],
    ['cmsg_type', koffi.offsetof(Cmsghdr, 'cmsg_type'), L.cmsgTypeAt],
  ];
  for (const [what, actual, table] of checks) {
    if (actual !== table) throw new Error(`iomux: ${what} is ${actual} bytes/offset here, the ${L.platform} table says ${table}`);
  }
}
