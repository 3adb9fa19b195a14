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

/** Splits a native address into the two 32-bit halves a DataView writes without BigInt arithmetic per call. */
function halves(address: bigint): [low: number, high: number] {
  return [Number(address & 0xffffffffn), Number(address >> 32n)];
}

const NULL: readonly [low: number, high: number] = [0, 0];

// The table's offsets as plain constants: the hot path reads them on every call.
const NAME_AT = MSG.nameAt;
const NAMELEN_AT = MSG.namelenAt;
const CONTROL_AT = MSG.controlAt;
const CONTROLLEN_AT = MSG.controllenAt;
const CONTROLLEN_BYTES = MSG.controllenBytes;
const FLAGS_AT = MSG.flagsAt;
const IOV_LEN_BYTES = MSG.iovLenBytes;

/**
 * One native block: [msghdr | one iovec | name | control | data]. `name`, `control` and `data` are Buffers
 * over the native memory: what JavaScript writes there is what the kernel reads, and back.
 */
export class MessageArea {
  readonly #ptr: unknown;
  readonly #view: DataView;
  readonly #iovLenAt: number;
  // msg_name and msg_control as 32-bit halves, and which of them the header holds now (NULL or the region):
  // the kernel never writes the pointer fields, so a call rewrites one only when it switches it on or off.
  readonly #name: [low: number, high: number];
  readonly #control: [low: number, high: number];
  #nameOn = false;
  #controlOn = false;
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
    whole.fill(0, 0, dataAt); // msg_name and msg_control start NULL, as #nameOn and #controlOn say
    this.#view = new DataView(whole.buffer, whole.byteOffset, total);
    this.name = whole.subarray(nameAt, nameAt + NAME_BYTES);
    this.control = whole.subarray(controlAt, controlAt + controlBytes);
    this.data = whole.subarray(dataAt, dataAt + Math.max(dataBytes, 1));
    this.#name = halves(base + BigInt(nameAt));
    this.#control = halves(base + BigInt(controlAt));
    // The pointers that never change: msg_iov → our iovec (msg_iovlen 1), iov_base → data.
    this.#putPointer(L.iovAt, halves(base + BigInt(iovAt)));
    this.#putSize(L.iovlenAt, L.iovlenBytes, 1);
    this.#putPointer(iovAt + L.iovBaseAt, halves(base + BigInt(dataAt)));
    this.#iovLenAt = iovAt + L.iovLenAt;
  }

  /**
   * Fills in the lengths (and NULL pointers for an empty name or control part) before a call. recvmsg
   * rewrites msg_namelen, msg_controllen and msg_flags, so every attempt of a call prepares again.
   */
  prepare(nameLen: number, dataLen: number, controlLen: number): void {
    const v = this.#view;
    const nameOn = nameLen > 0;
    if (nameOn !== this.#nameOn) {
      this.#putPointer(NAME_AT, nameOn ? this.#name : NULL);
      this.#nameOn = nameOn;
    }
    v.setUint32(NAMELEN_AT, nameLen, LE);
    this.#putSize(this.#iovLenAt, IOV_LEN_BYTES, dataLen);
    const controlOn = controlLen > 0;
    if (controlOn !== this.#controlOn) {
      this.#putPointer(CONTROL_AT, controlOn ? this.#control : NULL);
      this.#controlOn = controlOn;
    }
    this.#putSize(CONTROLLEN_AT, CONTROLLEN_BYTES, controlLen);
    v.setInt32(FLAGS_AT, 0, LE);
  }

  /** msg_namelen after recvmsg: the sender address' length (0 when there is none). */
  nameLength(): number {
    return this.#view.getUint32(NAMELEN_AT, LE);
  }

  /** msg_controllen after recvmsg: how much of the control region the kernel filled. */
  controlLength(): number {
    return this.#getSize(CONTROLLEN_AT, CONTROLLEN_BYTES);
  }

  /** msg_flags after recvmsg (MSG_TRUNC, MSG_CTRUNC, MSG_EOR, …). */
  flags(): number {
    return this.#view.getInt32(FLAGS_AT, LE);
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

  #putPointer(at: number, address: readonly [low: number, high: number]): void {
    // Pointers are 8 bytes in every table (checked against koffi at load).
    this.#view.setUint32(at + (LE ? 0 : 4), address[0], LE);
    this.#view.setUint32(at + (LE ? 4 : 0), address[1], LE);
  }

  #putSize(at: number, bytes: number, value: number): void {
    if (bytes === 4) {
      this.#view.setUint32(at, value, LE);
      return;
    }
    const low = value >>> 0;
    const high = (value - low) / 0x100000000;
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

// The DataView of the buffer used last: recvmsg parses the same native control region every call, so the
// hot path makes no new view.
let viewedBuffer: Bytes | null = null;
let view: DataView | null = null;

function viewOf(buf: Bytes): DataView {
  if (buf !== viewedBuffer || view === null) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewedBuffer = buf;
  }
  return view;
}

const CMSGHDR_BYTES = MSG.cmsghdrBytes;
const CMSG_LEN_BYTES = MSG.cmsgLenBytes;
const CMSG_LEVEL_AT = MSG.cmsgLevelAt;
const CMSG_TYPE_AT = MSG.cmsgTypeAt;
const CMSG_DATA_AT = cmsgDataAt(MSG);

/** Writes a cmsghdr at `at` in `control` (cmsg_len = CMSG_LEN(dataLen)); returns the data offset. */
export function writeCmsgHeader(control: Bytes, at: number, dataLen: number, level: number, type: number): number {
  const v = viewOf(control);
  const len = CMSG_DATA_AT + dataLen;
  if (CMSG_LEN_BYTES === 4) {
    v.setUint32(at, len, LE);
  } else {
    v.setUint32(at + (LE ? 0 : 4), len >>> 0, LE);
    v.setUint32(at + (LE ? 4 : 0), Math.floor(len / 0x100000000), LE);
  }
  v.setInt32(at + CMSG_LEVEL_AT, level, LE);
  v.setInt32(at + CMSG_TYPE_AT, type, LE);
  return at + CMSG_DATA_AT;
}

/**
 * Walks the control messages in the first `controllen` bytes of a control buffer as CMSG_FIRSTHDR/CMSG_NXTHDR
 * do, with CPython's checks, one item at a time and without allocating: `start` it, then while `next()` is
 * true read the current item's fields. Walking stops after the first item whose status is -1.
 */
export class ControlCursor {
  level = 0;
  type = 0;
  /** Where the item's data starts in the control buffer. */
  dataAt = 0;
  /** How many of its data bytes are in the buffer. */
  dataLen = 0;
  /**
   * CPython's get_cmsg_data_len: 0 complete; 1 its data is cut short by the end of the buffer (`dataLen` is
   * what is there); -1 its header does not fit or is malformed, so nothing of it (and nothing after it) can
   * be read.
   */
  status: 0 | 1 | -1 = 0;
  #view: DataView | null = null;
  #at = 0;
  #end = 0;

  start(control: Bytes, controllen: number): void {
    this.#view = viewOf(control);
    this.#at = 0;
    this.#end = Math.min(controllen, control.length);
  }

  /** Moves to the next item; false when there is none (or the walk stopped at a malformed one). */
  next(): boolean {
    const v = this.#view;
    const at = this.#at;
    const end = this.#end;
    if (v === null || at + CMSGHDR_BYTES > end) return false;
    const len = CMSG_LEN_BYTES === 4
      ? v.getUint32(at, LE)
      : v.getUint32(at + (LE ? 4 : 0), LE) * 0x100000000 + v.getUint32(at + (LE ? 0 : 4), LE);
    this.level = v.getInt32(at + CMSG_LEVEL_AT, LE);
    this.type = v.getInt32(at + CMSG_TYPE_AT, LE);
    this.dataAt = at + CMSG_DATA_AT;
    if (len < CMSG_DATA_AT || at + CMSG_DATA_AT > end) {
      this.dataLen = 0;
      this.status = -1;
      this.#end = 0; // nothing after a malformed header can be read
      return true;
    }
    const want = len - CMSG_DATA_AT;
    const room = end - (at + CMSG_DATA_AT);
    this.dataLen = room >= want ? want : room;
    this.status = room >= want ? 0 : 1;
    // CMSG_NXTHDR: the next header starts at CMSG_ALIGN(cmsg_len) and must fit whole.
    this.#at = at + cmsgAlign(MSG, len);
    return true;
  }
}

/** A C int at `at` in host byte order (an fd in SCM_RIGHTS data). */
export function readInt(buf: Bytes, at: number): number {
  return viewOf(buf).getInt32(at, LE);
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
