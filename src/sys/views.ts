/**
 * Caller byte buffers as the native calls see them, read only through the engine's own intrinsics, captured
 * when this module loads. A caller's typed array may be a subclass, or carry own properties, that redefine
 * `length`, `byteLength`, `buffer`, `subarray` or `set`, and a Proxy answers every property with caller
 * code: a lying length would make the kernel read past the buffer (sending the heap to a peer) or write past
 * it (corrupting memory), and caller code run in the middle of a call could re-enter it. The internal slots
 * these intrinsics read cannot be redefined, and reading them runs no caller code.
 */
type Getter = (self: unknown) => unknown;

// uncurry(f)(self, ...args) is f.call(self, ...args), bound once: nothing is looked up on `self` or on `f`.
const callOf = Function.prototype.call;
const uncurry = (fn: unknown): Getter => (callOf.bind as (this: unknown, thisArg: unknown) => Getter).call(callOf, fn);

function getter(proto: object, key: PropertyKey): Getter {
  return uncurry(Object.getOwnPropertyDescriptor(proto, key)!.get!);
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** The [[TypedArrayName]] of a typed array ('Uint8Array', …), undefined for anything else (a Proxy too). */
const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag) as (v: unknown) => string | undefined;
const typedArrayByteLength = getter(TypedArrayPrototype, 'byteLength') as (v: unknown) => number;
const typedArrayByteOffset = getter(TypedArrayPrototype, 'byteOffset') as (v: unknown) => number;
const typedArrayBuffer = getter(TypedArrayPrototype, 'buffer') as (v: unknown) => ArrayBufferLike;
const typedArraySet = uncurry((TypedArrayPrototype as { set: unknown }).set) as unknown as (
  target: Uint8Array, source: Uint8Array, at: number) => void;
const dataViewByteLength = getter(DataView.prototype, 'byteLength') as (v: unknown) => number;
const dataViewByteOffset = getter(DataView.prototype, 'byteOffset') as (v: unknown) => number;
const dataViewBuffer = getter(DataView.prototype, 'buffer') as (v: unknown) => ArrayBufferLike;
const arrayBufferByteLength = getter(ArrayBuffer.prototype, 'byteLength') as (v: unknown) => number;
const sharedByteLength = typeof SharedArrayBuffer === 'function'
  ? getter(SharedArrayBuffer.prototype, 'byteLength') as (v: unknown) => number
  : null;
const isView = ArrayBuffer.isView;
const Uint8 = Uint8Array;
const EMPTY = new Uint8Array(0);

/** True for a Uint8Array of any class (a Buffer), read from its internal slot: false for a Proxy of one. */
export function isUint8Array(value: unknown): value is Uint8Array {
  return typedArrayName(value) === 'Uint8Array';
}

/** The byte length of a typed array, from its internal slots (0 once detached or out of bounds). */
export function viewLength(view: Uint8Array): number {
  return typedArrayByteLength(view);
}

/**
 * A Uint8Array over the bytes of `value`, whose members no caller code can redefine in what iomux reads from
 * it (iomux reads it only through this module): the value itself when it is a Uint8Array of any class (a
 * Buffer: nothing allocated), a new view for any other typed array, a DataView, an ArrayBuffer or a
 * SharedArrayBuffer; null when `value` is none of these (a Proxy is none of these: its traps are caller
 * code). A detached buffer gives an empty view: see `isUnusable`.
 */
export function bytesView(value: unknown): Uint8Array | null {
  const name = typedArrayName(value);
  if (name === 'Uint8Array') return value as Uint8Array;
  if (name !== undefined) {
    const length = typedArrayByteLength(value);
    return length === 0 ? emptyViewOf(value) : new Uint8(typedArrayBuffer(value), typedArrayByteOffset(value), length);
  }
  if (isView(value)) {
    // A DataView: its getters throw once its buffer is detached or it is out of bounds.
    try {
      return new Uint8(dataViewBuffer(value), dataViewByteOffset(value), dataViewByteLength(value));
    } catch {
      return DETACHED_VIEW;
    }
  }
  if (typeof value !== 'object' || value === null) return null;
  try {
    arrayBufferByteLength(value);
  } catch {
    if (sharedByteLength === null) return null;
    try {
      sharedByteLength(value);
    } catch {
      return null;
    }
  }
  try {
    return new Uint8(value as ArrayBuffer);
  } catch {
    return DETACHED_VIEW; // a detached ArrayBuffer
  }
}

/** An empty typed array's bytes: itself detached when its buffer is, so isUnusable still says so. */
function emptyViewOf(value: unknown): Uint8Array {
  return isUnusableTypedArray(value) ? DETACHED_VIEW : EMPTY;
}

function isUnusableTypedArray(value: unknown): boolean {
  if (typedArrayByteLength(value) !== 0) return false;
  // %TypedArray%.prototype.set throws on a target whose buffer is detached or which is out of bounds of a
  // shrunk resizable buffer; an empty source writes nothing.
  try {
    typedArraySet(value as Uint8Array, EMPTY, 0);
    return false;
  } catch {
    return true;
  }
}

/** The view bytesView gives for a detached buffer (a detached one of its own). */
const DETACHED_VIEW: Uint8Array = (() => {
  const view = new Uint8Array(1);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
})();

/**
 * True when a view's memory is gone: its buffer detached (transferred), or the view out of bounds of a
 * resizable buffer that shrank. Such a view reads as empty; CPython's counterpart, a released memoryview,
 * is an error.
 */
export function isUnusable(view: Uint8Array): boolean {
  return view === DETACHED_VIEW || isUnusableTypedArray(view);
}

/** A view of `length` bytes of `view` from `offset` (both checked by the caller), made without caller code. */
export function subview(view: Uint8Array, offset: number, length: number): Uint8Array {
  return new Uint8(typedArrayBuffer(view), typedArrayByteOffset(view) + offset, length);
}

/** Copies all of `src` into `dst` at `at`, by their internal slots (RangeError if it does not fit). */
export function copyInto(dst: Uint8Array, src: Uint8Array, at: number): void {
  typedArraySet(dst, src, at);
}

/**
 * `buf[offset, offset + length)` for a native call: `buf` itself when offset is 0, else a view from offset.
 * The last check before the kernel touches caller memory: a range past the buffer's real end is a
 * RangeError, whatever reached here, so no call can read or write beyond a buffer.
 */
export function nativeSpan(buf: Uint8Array, offset: number, length: number): Uint8Array {
  const size = typedArrayByteLength(buf);
  if (!(offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new RangeError(`[${offset}, ${offset + length}) is outside a buffer of ${size} bytes`);
  }
  return offset === 0 ? buf : subview(buf, offset, size - offset);
}
