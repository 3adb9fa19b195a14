/**
 * sendmsg(2) and recvmsg(2): the first calls whose structs hold pointers. `struct msghdr` points to a name,
 * an iovec array and a control buffer, so all of them live in one block of native memory (malloc) whose
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
import { abi, koffi, libc } from './lib.js';
import { orErrno } from './errno.js';
import { cmsgAlign, cmsgDataAt, msgLayoutOf, type MsgLayout } from './msg-layout.js';
import { copyInto, viewLength } from './views.js';
import { getI32, getWords64, putWords64 } from './bytes.js';

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

const sendmsgNative = libc.func('long sendmsg(int, void *, int)') as (fd: number, msg: unknown, flags: number) => number;
const recvmsgNative = libc.func('long recvmsg(int, void *, int)') as (fd: number, msg: unknown, flags: number) => number;
// The block comes from malloc, not koffi.alloc: that zero-fills and stops below 2 GiB, and a control buffer
// may be INT_MAX bytes, as in CPython (which mallocs it too).
const mallocNative = libc.func('void *malloc(size_t)') as (size: number) => unknown;
const freeNative = libc.func('void free(void *)') as (ptr: unknown) => void;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A native address as the two 32-bit words it occupies in memory, the low one first. */
function words(address: bigint): [low: number, high: number] {
  return [Number(address & 0xffffffffn), Number(address >> 32n)];
}

const NULL: readonly [number, number] = [0, 0];

// Every msghdr, iovec and cmsghdr field sits at a multiple of 4 bytes in every table, so the block is written
// and read as 32-bit words (bytes.ts: an 8-byte field is two words, the low one first).
const NAME_W = MSG.nameAt >> 2;
const NAMELEN_W = MSG.namelenAt >> 2;
const CONTROL_W = MSG.controlAt >> 2;
const CONTROLLEN_W = MSG.controllenAt >> 2;
const CONTROLLEN_WIDE = MSG.controllenBytes === 8;
const FLAGS_W = MSG.flagsAt >> 2;
const IOV_LEN_WIDE = MSG.iovLenBytes === 8;
const CMSGHDR_BYTES = MSG.cmsghdrBytes;
const CMSG_LEN_WIDE = MSG.cmsgLenBytes === 8;
const CMSG_LEVEL_W = MSG.cmsgLevelAt >> 2;
const CMSG_TYPE_W = MSG.cmsgTypeAt >> 2;
const CMSG_DATA_AT = cmsgDataAt(MSG);

/** Writes a size_t (two words) or a 32-bit length (one word) at word `w`. */
function putLength(block: Uint32Array, w: number, wide: boolean, value: number): void {
  if (wide) putWords64(block, w, value);
  else block[w] = value;
}

function getLength(block: Uint32Array, w: number, wide: boolean): number {
  return wide ? getWords64(block, w) : block[w]!;
}

/** Up to this many bytes a loop copies faster than TypedArray.set, a call into the runtime. */
const SMALL_COPY = 16;

/**
 * Copies the `n` bytes of `src` (a caller's view: exactly `n` bytes long, as the caller checked, and read
 * through its internal slots only) to `dst` at `at`: a loop for a few bytes (an fd is 4), TypedArray.set beyond.
 */
export function copyBytes(src: Uint8Array, n: number, dst: Uint8Array, at: number): void {
  if (n > SMALL_COPY) {
    copyInto(dst, src, at);
    return;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
}

/** Control regions up to this size are viewed from JavaScript at once; larger ones as far as a call uses them. */
const EAGER_CONTROL_BYTES = 64 * 1024;

/**
 * One native block: [msghdr | one iovec | name | data | control], from malloc (not zeroed: a page nobody
 * touches costs nothing, so recvmsg(10, 256 MiB) is as cheap as in CPython). `name` and `data` are Buffers
 * over the native memory: what JavaScript writes there is what the kernel reads, and back; `control` is the
 * part of the control region viewed so far (`viewControl`). The block is reused: what a call exposes is
 * bounded by the lengths it gives the kernel, which are the bytes it wrote (sendmsg) or the kernel wrote
 * (recvmsg), never what an earlier call left.
 */
export class MessageArea {
  readonly #ptr: unknown;
  /** msghdr, iovec and name as host-order 32-bit words. */
  readonly #block: Uint32Array;
  readonly #iovLenW: number;
  readonly #controlAt: number;
  /** The viewed part of the control region, as words (cmsghdr fields, SCM_RIGHTS fds). */
  #controlWords: Uint32Array;
  // msg_name and msg_control as the words of their address, and which of them the header holds now (NULL or
  // the region): the kernel never writes the pointer fields, so a call rewrites one only when it switches.
  readonly #name: readonly [number, number];
  readonly #controlAddress: readonly [number, number];
  #nameOn = false;
  #controlOn = false;
  // The last prefix of the data region handed out: messages of one size reuse it instead of a new view.
  #prefix: Buffer;
  readonly name: Buffer;
  readonly data: Buffer;
  /** The control region's size. */
  readonly controlRoom: number;
  /** The viewed part of the control region (all of it up to EAGER_CONTROL_BYTES). */
  control: Buffer;
  readonly totalBytes: number;
  #freed = false;

  constructor(dataBytes: number, controlBytes: number) {
    const L = MSG;
    const iovAt = alignUp(L.msghdrBytes, REGION_ALIGN);
    const nameAt = alignUp(iovAt + L.iovecBytes, REGION_ALIGN);
    const dataAt = alignUp(nameAt + NAME_BYTES, REGION_ALIGN);
    const dataLength = Math.max(dataBytes, 1);
    const controlAt = alignUp(dataAt + dataLength, REGION_ALIGN);
    const total = alignUp(controlAt + controlBytes, 4);
    const ptr = mallocNative(total);
    if (ptr === null) throw new RangeError(`malloc(${total}) failed`);
    this.#ptr = ptr;
    try {
      this.totalBytes = total;
      this.controlRoom = controlBytes;
      this.#controlAt = controlAt;
      const viewed = Math.min(controlBytes, EAGER_CONTROL_BYTES);
      const whole = Buffer.from(koffi.view(ptr, controlAt + viewed));
      whole.fill(0, 0, dataAt); // header and name: msg_name and msg_control start NULL, as #nameOn and #controlOn say
      this.#block = new Uint32Array(whole.buffer, whole.byteOffset, dataAt >> 2);
      this.name = whole.subarray(nameAt, nameAt + NAME_BYTES);
      this.data = whole.subarray(dataAt, dataAt + dataLength);
      this.control = whole.subarray(controlAt, controlAt + viewed);
      this.#controlWords = new Uint32Array(whole.buffer, whole.byteOffset + controlAt, viewed >> 2);
      this.#prefix = this.data;
      const base = koffi.address(ptr) as bigint;
      this.#name = words(base + BigInt(nameAt));
      this.#controlAddress = words(base + BigInt(controlAt));
      // The pointers that never change: msg_iov → our iovec (msg_iovlen 1), iov_base → data.
      this.#putPointer(L.iovAt >> 2, words(base + BigInt(iovAt)));
      putLength(this.#block, L.iovlenAt >> 2, L.iovlenBytes === 8, 1);
      this.#putPointer((iovAt + L.iovBaseAt) >> 2, words(base + BigInt(dataAt)));
      this.#iovLenW = (iovAt + L.iovLenAt) >> 2;
    } catch (err) {
      freeNative(ptr);
      throw err;
    }
  }

  /**
   * Makes the first `n` bytes of the control region (n ≤ controlRoom) readable and writable as `control`:
   * a large region is viewed only as far as a call uses it.
   */
  viewControl(n: number): void {
    if (n <= this.control.length) return;
    const whole = Buffer.from(koffi.view(this.pointer, this.#controlAt + n));
    this.control = whole.subarray(this.#controlAt);
    this.#controlWords = new Uint32Array(whole.buffer, whole.byteOffset + this.#controlAt, n >> 2);
  }

  /**
   * Fills in the lengths (and NULL pointers for an empty name or control part) before a call. recvmsg
   * rewrites msg_namelen, msg_controllen and msg_flags, so every attempt of a call prepares again.
   */
  prepare(nameLen: number, dataLen: number, controlLen: number): void {
    const block = this.#block;
    if (nameLen > 0 !== this.#nameOn) {
      this.#nameOn = nameLen > 0;
      this.#putPointer(NAME_W, this.#nameOn ? this.#name : NULL);
    }
    block[NAMELEN_W] = nameLen;
    putLength(block, this.#iovLenW, IOV_LEN_WIDE, dataLen);
    if (controlLen > 0 !== this.#controlOn) {
      this.#controlOn = controlLen > 0;
      this.#putPointer(CONTROL_W, this.#controlOn ? this.#controlAddress : NULL);
    }
    putLength(block, CONTROLLEN_W, CONTROLLEN_WIDE, controlLen);
    block[FLAGS_W] = 0;
  }

  /** msg_namelen after recvmsg: the sender address' length (0 when there is none). */
  nameLength(): number {
    return this.#block[NAMELEN_W]!;
  }

  /** msg_controllen after recvmsg: how much of the control region the kernel filled. */
  controlLength(): number {
    return getLength(this.#block, CONTROLLEN_W, CONTROLLEN_WIDE);
  }

  /** msg_flags after recvmsg (MSG_TRUNC, MSG_CTRUNC, MSG_EOR, …). */
  flags(): number {
    return this.#block[FLAGS_W]! | 0;
  }

  /** The first `n` bytes of the data region (n ≤ its length), as a view. */
  dataPrefix(n: number): Buffer {
    if (this.#prefix.length !== n) this.#prefix = this.data.subarray(0, n);
    return this.#prefix;
  }

  /**
   * Writes one control message at `at` in the control region (a multiple of the CMSG alignment, within what
   * viewControl made writable): its header (cmsg_len = CMSG_LEN(n)), its `n` data bytes from `data` (a
   * caller's view, `n` bytes long: see copyBytes), and zeros in the padding after the header and after the
   * data, since the kernel reads the whole msg_controllen. Returns CMSG_SPACE(n).
   */
  putControlMessage(at: number, level: number, type: number, data: Uint8Array, n: number = viewLength(data)): number {
    const words = this.#controlWords;
    const w = at >> 2;
    putLength(words, w, CMSG_LEN_WIDE, CMSG_DATA_AT + n);
    words[w + CMSG_LEVEL_W] = level;
    words[w + CMSG_TYPE_W] = type;
    const control = this.control;
    for (let p = at + CMSGHDR_BYTES; p < at + CMSG_DATA_AT; p++) control[p] = 0;
    const dataAt = at + CMSG_DATA_AT;
    copyBytes(data, n, control, dataAt);
    const space = CMSG_DATA_AT + cmsgAlign(MSG, n);
    for (let p = dataAt + n; p < at + space; p++) control[p] = 0;
    return space;
  }

  /** The C int at `at` in the viewed control region (a multiple of 4: an fd in SCM_RIGHTS data). */
  controlInt(at: number): number {
    return this.#controlWords[at >> 2]! | 0;
  }

  /** The cmsghdr at `at` in the viewed control region: cmsg_len, cmsg_level, cmsg_type. */
  cmsgLength(at: number): number {
    return getLength(this.#controlWords, at >> 2, CMSG_LEN_WIDE);
  }

  cmsgLevel(at: number): number {
    return this.#controlWords[(at >> 2) + CMSG_LEVEL_W]! | 0;
  }

  cmsgType(at: number): number {
    return this.#controlWords[(at >> 2) + CMSG_TYPE_W]! | 0;
  }

  /** The block's address, for the natives. */
  get pointer(): unknown {
    if (this.#freed) throw new Error('MessageArea used after free');
    return this.#ptr;
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    freeNative(this.#ptr);
  }

  #putPointer(w: number, address: readonly [number, number]): void {
    // Pointers are 8 bytes in every table (checked against koffi at load).
    this.#block[w] = address[0];
    this.#block[w + 1] = address[1];
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
  if (dataBytes > retained.data.length || controlBytes > retained.controlRoom) {
    let next: MessageArea;
    try {
      next = new MessageArea(Math.max(dataBytes, retained.data.length), Math.max(controlBytes, retained.controlRoom));
    } catch {
      return null; // malloc failed, or the block is larger than a Buffer can view that much native memory; the retained block is still good
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
  return orErrno(sendmsgNative(fd, area.pointer, flags));
}

/** recvmsg(2) into the prepared block. Returns the bytes received (the datagram's size with MSG_TRUNC) or -errno. */
export function recvmsg(fd: number, area: MessageArea, flags: number): number {
  return orErrno(recvmsgNative(fd, area.pointer, flags));
}

// ─── Control messages inside the control region ─────────────────────────────────────────────────────────

/**
 * Walks the control messages in the first `controllen` bytes of a block's control region as
 * CMSG_FIRSTHDR/CMSG_NXTHDR do, with CPython's checks, one item at a time and without allocating: `start`
 * it, then while `next()` is true read the current item's fields. Walking stops after the first item whose
 * status is -1.
 */
export class ControlCursor {
  level = 0;
  type = 0;
  /** Where the item's data starts in the control region. */
  dataAt = 0;
  /** How many of its data bytes are in the region. */
  dataLen = 0;
  /**
   * CPython's get_cmsg_data_len: 0 complete; 1 its data is cut short by the end of the buffer (`dataLen` is
   * what is there); -1 its header does not fit or is malformed, so nothing of it (and nothing after it) can
   * be read.
   */
  status: 0 | 1 | -1 = 0;
  #area: MessageArea | null = null;
  #at = 0;
  #end = 0;

  start(area: MessageArea, controllen: number): void {
    this.#area = area;
    this.#at = 0;
    this.#end = Math.min(controllen, area.controlRoom);
    area.viewControl(this.#end);
  }

  /** Moves to the next item; false when there is none (or the walk stopped at a malformed one). */
  next(): boolean {
    const area = this.#area;
    const at = this.#at;
    const end = this.#end;
    if (area === null || at + CMSGHDR_BYTES > end) return false;
    const len = area.cmsgLength(at);
    this.level = area.cmsgLevel(at);
    this.type = area.cmsgType(at);
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

/** A C int at `at` in any buffer (an fd in SCM_RIGHTS data). */
export const readInt: (buf: Bytes, at: number) => number = getI32;

/**
 * The table must agree with the C compiler's layout as koffi computes it for the running platform: a wrong
 * offset here would make the kernel write through a wrong pointer.
 */
function checkAgainstCompiler(L: MsgLayout): void {
  // The field widths are the table's (size_t on Linux; socklen_t, int on the BSDs), checked against the
  // headers' declarations by test/platform-tables; koffi lays them out as this platform's C compiler does.
  const lenType = (bytes: number, narrow: string): string => (bytes === 8 ? 'size_t' : narrow);
  const Msghdr = koffi.struct({
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: lenType(L.iovlenBytes, 'int'),
    msg_control: 'void *',
    msg_controllen: lenType(L.controllenBytes, 'uint32_t'),
    msg_flags: 'int',
  });
  const Iovec = koffi.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const Cmsghdr = koffi.struct({ cmsg_len: lenType(L.cmsgLenBytes, 'uint32_t'), cmsg_level: 'int', cmsg_type: 'int' });
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
