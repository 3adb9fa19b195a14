/**
 * CPython's sendmsg/recvmsg family above the native block of src/sys/msg.ts: argument checks with CPython's
 * errors, filling the block for sendmsg, and turning what recvmsg left in it into `[data, ancdata, flags,
 * address]`. Received fds are never leaked: if anything fails after the kernel installed them, every fd
 * found in an SCM_RIGHTS item is closed before the error propagates.
 *
 * The Socket methods (socket.ts) own the syscall loop (blocking, timeout, EINTR); this file owns the rest.
 */
import { MemoryError, OverflowError, ValueError } from '../errors.js';
import { describe } from '../fileobj.js';
import { close as closeFd, SOCKADDR_STORAGE_BYTES } from '../sys/index.js';
import { ControlCursor, copyBytes, MSG, messageArea as nativeArea, readInt, type MessageArea } from '../sys/msg.js';
import { bytesView, copyInto, isUnusable, viewLength } from '../sys/views.js';
import { cmsgLen, cmsgSpace } from '../sys/msg-layout.js';
import { decodeAddress, encodeAddress, type SocketAddress } from './address.js';
import { checkUnchanged, detachedError, intArg, itemName, ssizeArg, writableBytesArg } from '../args.js';

/** One item of ancillary data: `[level, type, data]` (CPython's `(cmsg_level, cmsg_type, cmsg_data)`). */
export type AncillaryItem = [level: number, type: number, data: Buffer];
/** What sendmsg accepts as one item: any bytes-like data. */
export type AncillaryItemLike = readonly [level: number, type: number, data: Uint8Array | ArrayBufferView | ArrayBuffer];

/** recvmsg's result: `[data, ancdata, msgFlags, address]` (address null when the kernel gave none). */
export type RecvmsgResult = [data: Buffer, ancdata: AncillaryItem[], msgFlags: number, address: SocketAddress | null];
/** recvmsgInto's result: `[nbytes, ancdata, msgFlags, address]`. */
export type RecvmsgIntoResult = [nbytes: number, ancdata: AncillaryItem[], msgFlags: number, address: SocketAddress | null];

const INT_BYTES = 4;

// ─── CMSG_LEN, CMSG_SPACE ────────────────────────────────────────────────────────────────────────────────

function cmsgArg(length: unknown, fn: string): number {
  if (typeof length !== 'number' || !Number.isInteger(length)) {
    throw new TypeError(`${fn}() argument must be an integer (got ${describe(length)})`);
  }
  return length;
}

/**
 * CMSG_LEN(length): the cmsg_len of an ancillary item carrying `length` data bytes, without trailing
 * padding. OverflowError("CMSG_LEN() argument out of range") below 0 or when the result would not fit a
 * socklen_t, as CPython.
 *
 * @python socket.CMSG_LEN
 */
export function CMSG_LEN(length: number): number {
  const n = cmsgArg(length, 'CMSG_LEN');
  if (n < 0 || cmsgLen(MSG, n) > MSG.socklenLimit) throw new OverflowError('CMSG_LEN() argument out of range');
  return cmsgLen(MSG, n);
}

/**
 * CMSG_SPACE(length): the control-buffer room an item with `length` data bytes takes, padding included
 * (the sum of these is the ancbufsize for several items). OverflowError outside CPython's range.
 *
 * @python socket.CMSG_SPACE
 */
export function CMSG_SPACE(length: number): number {
  const n = cmsgArg(length, 'CMSG_SPACE');
  // CPython's bound leaves room for CMSG_SPACE(1): the padding before and after the data.
  if (n < 0 || n > MSG.socklenLimit - cmsgSpace(MSG, 1) || cmsgSpace(MSG, n) > MSG.socklenLimit) {
    throw new OverflowError('CMSG_SPACE() argument out of range');
  }
  return cmsgSpace(MSG, n);
}

/**
 * The native block for a message of `dataBytes` and `controlBytes`; MemoryError (CPython's class for a
 * buffer it cannot allocate) when there is not that much native memory.
 */
export function messageArea(dataBytes: number, controlBytes: number): MessageArea {
  const area = nativeArea(dataBytes, controlBytes);
  if (area === null) throw new MemoryError(`(cannot allocate ${dataBytes} data and ${controlBytes} control bytes for a message)`);
  return area;
}

// ─── sendmsg ─────────────────────────────────────────────────────────────────────────────────────────────

function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** A data buffer of sendmsg: bytes-like (or a string, sent as UTF-8, as everywhere in iomux). */
function sendBuffer(item: unknown, name: string, index: number): Uint8Array {
  if (typeof item === 'string') return Buffer.from(item, 'utf8');
  const view = bytesView(item);
  if (view === null) throw new TypeError(`a bytes-like object is required, not ${describe(item)}`);
  if (viewLength(view) === 0 && isUnusable(view)) throw detachedError(itemName(name, index));
  return view;
}

const EMPTY = new Uint8Array(0);
const NO_ANCDATA: readonly AncillaryItemLike[] = Object.freeze([]);
const SOCKLEN_LIMIT = MSG.socklenLimit;

/** sendmsg's default ancillary data: none (one shared empty list, not a new one per call). */
export const noAncillaryData = NO_ANCDATA as Iterable<AncillaryItemLike>;

/**
 * One sendmsg call's converted arguments: each buffer with the length it had when it was taken, the items'
 * levels and types, the encoded address. Caller code runs while they are gathered (iterators, index getters,
 * an address getter) and may re-enter sendmsg, so a call owns its set: the first call uses the shared one
 * (nothing allocated on the hot path), a nested call makes its own. The arrays are overwritten, never
 * truncated (truncating frees their storage, which the next call grows again).
 */
class SendmsgArgs {
  readonly buffers: Uint8Array[] = [];
  readonly bufferLengths: number[] = [];
  readonly levels: number[] = [];
  readonly types: number[] = [];
  readonly ancData: Uint8Array[] = [];
  readonly ancLengths: number[] = [];
  readonly address = Buffer.alloc(SOCKADDR_STORAGE_BYTES);
  bufferCount = 0;
  ancCount = 0;

  /** Lets go of the caller's buffers (they are not kept alive by the shared set). */
  clear(): void {
    for (let i = 0; i < this.bufferCount; i++) this.buffers[i] = EMPTY;
    for (let i = 0; i < this.ancCount; i++) this.ancData[i] = EMPTY;
    this.bufferCount = 0;
    this.ancCount = 0;
  }
}

const sharedArgs = new SendmsgArgs();
let sharedArgsInUse = false;

/**
 * The items of an iterable argument: an array as it is (read by index, as CPython's PySequence_Fast reads a
 * list), anything else copied into one.
 */
function itemsOf(value: Iterable<unknown>): readonly unknown[] {
  return Array.isArray(value) ? value : Array.from(value);
}

/**
 * Checks one ancillary item and keeps it in `args`; returns the control bytes counted so far with it. Kept
 * out of convertSendmsg so that the hot function stays small enough for the compiler to inline into.
 */
function checkAncillaryItem(item: unknown, args: SendmsgArgs, controlBytes: number, caller: string): number {
  if (!Array.isArray(item) || item.length !== 3) {
    const got = Array.isArray(item) ? `length ${item.length}` : describe(item);
    throw new TypeError(`[${caller}() ancillary data items]() argument must be sequence of length 3, not ${got}`);
  }
  const level = intArg(item[0], 'ancillary data level');
  const type = intArg(item[1], 'ancillary data type');
  const raw: unknown = item[2];
  if (typeof raw === 'string') throw new TypeError(`a bytes-like object is required, not ${describe(raw)}`);
  const slot = args.ancCount;
  const data = sendBuffer(raw, 'ancillary data item', slot);
  const length = viewLength(data);
  const space = cmsgSpace(MSG, length);
  if (space > SOCKLEN_LIMIT) throw new OverflowError('ancillary data item too large');
  if (controlBytes + space > SOCKLEN_LIMIT) throw new OverflowError('too much ancillary data');
  args.levels[slot] = level;
  args.types[slot] = type;
  args.ancData[slot] = data;
  args.ancLengths[slot] = length;
  args.ancCount = slot + 1;
  return controlBytes + space;
}

/**
 * Step one of sendmsg: every argument checked and taken, the address encoded. Caller code may run here
 * (iterators, getters, a nested call); nothing native is written yet. Returns the address' length.
 */
function convertSendmsg(
  args: SendmsgArgs, family: number, buffers: unknown, ancdata: unknown, address: unknown, hasAddress: boolean, caller: string,
): number {
  if (!isIterable(buffers) || typeof buffers === 'string') {
    throw new TypeError(`${caller}() argument 1 must be an iterable of buffers (got ${describe(buffers)})`);
  }
  if (!isIterable(ancdata) || typeof ancdata === 'string') {
    throw new TypeError(`${caller}() argument 2 must be an iterable (got ${describe(ancdata)})`);
  }
  const bufferItems = itemsOf(buffers);
  for (let i = 0; i < bufferItems.length; i++) {
    const bytes = sendBuffer(bufferItems[i], 'data buffer', i);
    args.buffers[i] = bytes;
    args.bufferLengths[i] = viewLength(bytes);
    args.bufferCount = i + 1;
  }
  const ancItems = itemsOf(ancdata);
  let controlBytes = 0;
  for (let i = 0; i < ancItems.length; i++) controlBytes = checkAncillaryItem(ancItems[i], args, controlBytes, caller);
  return hasAddress ? encodeAddress(family, address, caller, args.address) : 0;
}

/**
 * Step two: with no caller code able to run any more, every buffer must still be what it was when it was
 * taken (BufferError otherwise); the lengths are then counted and the bytes copied in one go, so the block
 * holds exactly the caller's bytes and the lengths given to the kernel are the ones copied.
 */
function fillSendmsg(args: SendmsgArgs, nameLen: number, caller: string): MessageArea {
  let dataBytes = 0;
  for (let i = 0; i < args.bufferCount; i++) {
    checkUnchanged(args.buffers[i]!, args.bufferLengths[i]!, 'data buffer', caller, i);
    dataBytes += args.bufferLengths[i]!;
  }
  let controlBytes = 0;
  for (let i = 0; i < args.ancCount; i++) {
    checkUnchanged(args.ancData[i]!, args.ancLengths[i]!, 'ancillary data item', caller, i);
    controlBytes += cmsgSpace(MSG, args.ancLengths[i]!);
  }
  const area = messageArea(dataBytes, controlBytes);
  area.viewControl(controlBytes);
  let at = 0;
  for (let i = 0; i < args.bufferCount; i++) {
    const n = args.bufferLengths[i]!;
    copyBytes(args.buffers[i]!, n, area.data, at);
    at += n;
  }
  let c = 0;
  for (let i = 0; i < args.ancCount; i++) {
    c += area.putControlMessage(c, args.levels[i]!, args.types[i]!, args.ancData[i]!, args.ancLengths[i]!);
  }
  if (nameLen > 0) args.address.copy(area.name, 0, 0, nameLen);
  area.prepare(nameLen, at, c);
  return area;
}

/**
 * Checks sendmsg's arguments and fills the native block: the buffers' bytes one after the other, the
 * ancillary items as cmsghdrs, the address (when given) as the msg_name. Returns the block, prepared; the
 * caller makes the call with no caller code in between, then releases the block.
 */
export function prepareSendmsg(
  family: number, buffers: unknown, ancdata: unknown, address: unknown, hasAddress: boolean, caller: string,
): MessageArea {
  const nested = sharedArgsInUse;
  const args = nested ? new SendmsgArgs() : sharedArgs;
  sharedArgsInUse = true;
  try {
    const nameLen = convertSendmsg(args, family, buffers, ancdata, address, hasAddress, caller);
    return fillSendmsg(args, nameLen, caller);
  } finally {
    if (!nested) {
      args.clear();
      sharedArgsInUse = false;
    }
  }
}

// ─── recvmsg ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * recvmsg's bufsize, a Py_ssize_t as in CPython: a boolean counts as 0/1, OverflowError from 2**63,
 * ValueError("negative buffer size in recvmsg()") below 0.
 */
export function recvBufsizeArg(bufsize: unknown, caller: string): number {
  const n = ssizeArg(bufsize, 'bufsize');
  if (n < 0) throw new ValueError(`negative buffer size in ${caller}()`);
  return n;
}

/**
 * The ancillary buffer size, a Py_ssize_t as in CPython: ValueError("invalid ancillary data buffer length")
 * outside 0..socklen_t max.
 */
export function ancbufsizeArg(ancbufsize: unknown): number {
  const n = ssizeArg(ancbufsize, 'ancbufsize');
  if (n < 0 || n > MSG.socklenLimit) throw new ValueError('invalid ancillary data buffer length');
  return n;
}

/**
 * recvmsgInto's buffers: writable byte views, as an array. An item changed by caller code run later in the
 * iteration (detached, resized) is a BufferError, as CPython refuses the change while it holds the buffer.
 */
export function recvBuffersArg(buffers: unknown, caller: string): Uint8Array[] {
  if (!isIterable(buffers) || typeof buffers === 'string') {
    throw new TypeError(`${caller}() argument 1 must be an iterable of writable buffers (got ${describe(buffers)})`);
  }
  const out: Uint8Array[] = [];
  const lengths: number[] = [];
  for (const item of buffers) {
    if (typeof item === 'string' || bytesView(item) === null) {
      throw new TypeError(`${caller}() argument 1 must be an iterable of writable buffers (got an item ${describe(item)})`);
    }
    const view = writableBytesArg(item, 'buffer', out.length);
    out.push(view);
    lengths.push(viewLength(view));
  }
  for (let i = 0; i < out.length; i++) checkUnchanged(out[i]!, lengths[i]!, 'buffer', caller, i);
  return out;
}

let warnedMalformed = false;

/** CPython's warning for ancillary data it could read only in part; iomux gives it once per process. */
function warnMalformed(): void {
  if (warnedMalformed) return;
  warnedMalformed = true;
  process.emitWarning('received malformed or improperly-truncated ancillary data', 'RuntimeWarning');
}

// Node's global Buffer is an accessor property (a getter call per use): the hot path reads it once, here.
const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);

/** A new Buffer with `n` bytes of `src` from `at`: a loop for a few bytes (an fd is 4), TypedArray.set beyond. */
function copyOut(src: Buffer, at: number, n: number): Buffer {
  const out = allocUnsafe(n);
  if (n > 16) out.set(at === 0 && n === src.length ? src : src.subarray(at, at + n));
  else for (let i = 0; i < n; i++) out[i] = src[at + i]!;
  return out;
}

// One cursor per walk, so that closing fds after a failed parse never shares a cursor with the parse.
const itemsCursor = new ControlCursor();
const closeCursor = new ControlCursor();

/**
 * The ancillary data the kernel left in the block, as CPython returns it: every item whose header could be
 * read, its data cut short where the control buffer ended (CPython warns then; so does iomux, once per
 * process, as a RuntimeWarning).
 */
function ancillaryItems(area: MessageArea, controllen: number): AncillaryItem[] {
  const out: AncillaryItem[] = [];
  if (controllen === 0) return out;
  const item = itemsCursor;
  item.start(area, controllen);
  while (item.next()) {
    if (item.status !== 0) warnMalformed();
    if (item.status < 0) break;
    out.push([item.level, item.type, copyOut(area.control, item.dataAt, item.dataLen)]);
  }
  return out;
}

/**
 * Closes every fd in the SCM_RIGHTS items of the block (CPython's err_closefds): what recvmsg does when it
 * fails after the kernel has installed fds in this process.
 */
export function closeReceivedFds(area: MessageArea, controllen: number): void {
  const item = closeCursor;
  item.start(area, controllen);
  while (item.next()) {
    if (item.status < 0) break;
    if (item.level === MSG.SOL_SOCKET && item.type === MSG.SCM_RIGHTS) {
      for (let at = item.dataAt; at + INT_BYTES <= item.dataAt + item.dataLen; at += INT_BYTES) {
        closeFd(area.controlInt(at));
      }
    }
  }
}

/** The sender's address in the block (null when the kernel gave none, as CPython's None). */
function senderAddress(area: MessageArea): SocketAddress | null {
  const len = Math.min(area.nameLength(), area.name.length);
  return len === 0 ? null : decodeAddress(area.name, len);
}

/**
 * `[data, ancdata, msgFlags, address]` from the block after a recvmsg that returned `n`. Any failure here
 * closes the received fds before it propagates.
 */
export function finishRecvmsg(area: MessageArea, n: number, bufsize: number): RecvmsgResult {
  const controllen = area.controlLength();
  try {
    const count = n < bufsize ? n : bufsize;
    const data = copyOut(area.dataPrefix(count), 0, count);
    return [data, ancillaryItems(area, controllen), area.flags(), senderAddress(area)];
  } catch (err) {
    closeReceivedFds(area, controllen);
    throw err;
  }
}

/** recvmsgInto's result: the data scattered over `buffers` in order, then as finishRecvmsg. */
export function finishRecvmsgInto(area: MessageArea, n: number, buffers: Uint8Array[]): RecvmsgIntoResult {
  const controllen = area.controlLength();
  try {
    let left = n;
    let from = 0;
    for (const buf of buffers) {
      if (left <= 0) break;
      // Through the views' internal slots only: a caller's own `length` or `set` never runs here.
      const take = Math.min(left, viewLength(buf));
      copyInto(buf, from === 0 ? area.dataPrefix(take) : area.data.subarray(from, from + take), 0);
      from += take;
      left -= take;
    }
    return [n, ancillaryItems(area, controllen), area.flags(), senderAddress(area)];
  } catch (err) {
    closeReceivedFds(area, controllen);
    throw err;
  }
}

// ─── fds as SCM_RIGHTS data ──────────────────────────────────────────────────────────────────────────────

/** SCM_RIGHTS data for `fds`: each a C int in host byte order (CPython's array('i', fds)). */
export function packFds(fds: unknown): Buffer {
  if (!isIterable(fds) || typeof fds === 'string') throw new TypeError(`fds must be an iterable of integers (got ${describe(fds)})`);
  const list: number[] = [];
  for (const fd of fds) list.push(intArg(fd, 'fd'));
  // An Int32Array holds C ints in host byte order, as SCM_RIGHTS wants them.
  const ints = Int32Array.from(list);
  return Buffer.from(ints.buffer, ints.byteOffset, ints.byteLength);
}

/** The fds in SCM_RIGHTS data; the bytes of a trailing partial int are dropped, as CPython's recv_fds does. */
export function unpackFds(data: Uint8Array): number[] {
  const fds: number[] = [];
  for (let at = 0; at + INT_BYTES <= data.length; at += INT_BYTES) fds.push(readInt(data, at));
  return fds;
}
