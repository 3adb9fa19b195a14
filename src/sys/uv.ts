/**
 * Node's own libuv, through the symbols the node binary exports: `uv_poll` handles on the calling
 * thread's event loop. This is the only file in iomux that declares libuv or N-API functions.
 *
 * Lifecycle of a handle (the rules are libuv's, the failure modes were measured, see docs/loop.md):
 * - The loop is the calling thread's (`napi_get_uv_event_loop(env)`); `uv_default_loop()` would be the main
 *   thread's loop inside a worker.
 * - The handle memory comes from C `malloc`, because libuv keeps the pointer, and `uv_close` gets C `free`
 *   as its close callback: the memory is released exactly when libuv is done with it, with no JavaScript in
 *   the way (so it also happens while a worker is being torn down, when JavaScript can no longer run).
 * - Every handle of a thread shares ONE registered koffi callback: koffi has 8192 trampolines for the whole
 *   process, so one per handle would cap the number of watched fds. It is registered with the thread's
 *   first handle and unregistered (on a later turn, never while it runs) once the thread has none left.
 * - The JavaScript behind that callback never throws into C: a pending exception would silence every poll
 *   callback of the thread while libuv keeps waking up for the still-ready fd (100% CPU).
 * - Each handle adds an N-API environment cleanup hook that is `uv_poll_stop` itself, so a thread torn down
 *   with handles still open (worker.terminate()) stops them before the isolate goes away; in worker threads
 *   the handle is also flagged libuv-internal, because Node aborts the whole process when a worker's loop
 *   still holds a foreign handle at exit. Both are undone/irrelevant after a normal close.
 *
 * Functions return 0 or a handle id on success and a negative errno (libuv's UV_E* on Linux) on failure.
 */
import { isMainThread } from 'node:worker_threads';
import { O_NONBLOCK } from './constants.js';
import { getStatusFlags, setStatusFlags } from './io.js';
import { koffi, libc } from './lib.js';

/** Receives a handle's poll results: `status` is 0 or a negative errno (libuv has then stopped the handle). */
export interface PollListener {
  onPoll(status: number, events: number): void;
}

const UV_POLL = 8; // uv_handle_type (UV_HANDLE_TYPE_MAP order)
/** uv_poll_event: what a handle waits for. */
export const UV_READABLE = 1;

/** The native functions, declared on first use so that merely importing iomux never needs libuv's symbols. */
interface Natives {
  uvPollInit(loop: bigint, h: number, fd: number): number;
  uvPollStart(h: number, events: number, cb: bigint): number;
  uvPollStop(h: number): number;
  uvClose(h: number, cb: bigint): void;
  uvRef(h: number): void;
  uvUnref(h: number): void;
  uvHasRef(h: number): number;
  uvErrName(err: number): string | null;
  napiGetUvEventLoop(env: unknown, out: unknown[]): number;
  napiAddEnvCleanupHook(env: unknown, fun: bigint, arg: number): number;
  napiRemoveEnvCleanupHook(env: unknown, fun: bigint, arg: number): number;
  uvPollStopAddress: bigint;
  malloc(size: number): number | bigint;
  free(ptr: number): void;
  freeAddress: bigint;
  pollHandleBytes: number;
  pollCallbackType: ReturnType<typeof koffi.pointer>;
}

let cached: Natives | null = null;

function natives(): Natives {
  if (cached !== null) return cached;
  // The running node binary exports libuv and N-API; koffi.load(null) resolves symbols in the process itself.
  const node = koffi.load(null);
  const uvHandleSize = node.func('size_t uv_handle_size(int type)') as (type: number) => number;
  cached = {
    uvPollInit: node.func('int uv_poll_init(void *loop, uintptr_t handle, int fd)'),
    uvPollStart: node.func('int uv_poll_start(uintptr_t handle, int events, void *cb)'),
    uvPollStop: node.func('int uv_poll_stop(uintptr_t handle)'),
    uvClose: node.func('void uv_close(uintptr_t handle, void *cb)'),
    uvRef: node.func('void uv_ref(uintptr_t handle)'),
    uvUnref: node.func('void uv_unref(uintptr_t handle)'),
    uvHasRef: node.func('int uv_has_ref(uintptr_t handle)'),
    uvErrName: node.func('const char *uv_err_name(int err)'),
    napiGetUvEventLoop: node.func('int napi_get_uv_event_loop(void *env, _Out_ void **loop)'),
    napiAddEnvCleanupHook: node.func('int napi_add_env_cleanup_hook(void *env, void *fun, uintptr_t arg)'),
    napiRemoveEnvCleanupHook: node.func('int napi_remove_env_cleanup_hook(void *env, void *fun, uintptr_t arg)'),
    uvPollStopAddress: node.symbol('uv_poll_stop') as bigint,
    malloc: libc.func('uintptr_t malloc(size_t size)'),
    free: libc.func('void free(uintptr_t ptr)'),
    freeAddress: libc.symbol('free') as bigint,
    pollHandleBytes: uvHandleSize(UV_POLL),
    pollCallbackType: koffi.pointer(koffi.proto('void', ['uintptr_t', 'int', 'int'])),
  };
  return cached;
}

// uv_handle_t's public fields, in order (libuv 1.x keeps this layout, it is part of its ABI): data, loop,
// type, close_cb, handle_queue[2], u (a union of 4 pointers), next_closing, flags.
const PTR = koffi.sizeof('void *');
const OFFSET_LOOP = PTR;
const OFFSET_TYPE = 2 * PTR;
const OFFSET_FLAGS = 11 * PTR;
// libuv's private handle flags (src/uv-common.h), checked against the handle before relying on them.
const UV_HANDLE_REF = 0x08;
const UV_HANDLE_INTERNAL = 0x10;

let loopAddress: bigint | null = null;
/** null until the first handle of this thread was checked; then whether the flags layout is the expected one. */
let layoutChecked: boolean | null = null;

const listeners = new Map<number, PollListener>();
let callbackAddress: bigint | null = null;
let releaseScheduled = false;

function threadLoop(): bigint {
  if (loopAddress === null) {
    const out: unknown[] = [null];
    const status = natives().napiGetUvEventLoop(koffi.node.env, out);
    if (status !== 0 || typeof out[0] !== 'bigint' || out[0] === 0n) {
      throw new Error(`iomux: napi_get_uv_event_loop failed (napi_status ${status})`);
    }
    loopAddress = out[0];
  }
  return loopAddress;
}

/**
 * The one function libuv calls (through koffi) for every poll handle of this thread. It must not throw:
 * listeners catch their own errors; anything that still gets here stops the handle and is re-thrown from a
 * later turn of the loop, where Node reports it as an uncaught exception.
 */
function onPollNative(handle: number, status: number, events: number): void {
  const listener = listeners.get(handle);
  if (listener === undefined) return;
  try {
    listener.onPoll(status, events);
  } catch (err) {
    natives().uvPollStop(handle);
    setImmediate(rethrow, err);
  }
}

function rethrow(err: unknown): never {
  throw err;
}

function pollCallback(): bigint {
  if (callbackAddress === null) callbackAddress = koffi.register(onPollNative, natives().pollCallbackType);
  return callbackAddress;
}

/** Unregisters the shared callback once the thread has no handle left (never from inside the callback). */
function scheduleRelease(): void {
  if (releaseScheduled || callbackAddress === null) return;
  releaseScheduled = true;
  setImmediate(releaseIfIdle);
}

function releaseIfIdle(): void {
  releaseScheduled = false;
  if (listeners.size === 0 && callbackAddress !== null) {
    koffi.unregister(callbackAddress);
    callbackAddress = null;
  }
}

/**
 * Unregisters the shared callback right away when no handle is open. For the thread's 'exit' (a worker's
 * process.exit(), or its natural end), after which no poll result can arrive: koffi gives a thread's
 * callback slot back only through unregister, so a thread that ends with it registered loses the slot.
 */
export function releaseCallbackNow(): void {
  if (listeners.size === 0 && callbackAddress !== null) {
    koffi.unregister(callbackAddress);
    callbackAddress = null;
  }
}

/**
 * Checks, on a freshly initialised handle, that the fields we touch are where libuv 1.x puts them: the loop
 * pointer, the handle type and a flags word holding exactly UV_HANDLE_REF.
 */
function checkLayout(handle: number, loop: bigint): boolean {
  const loopField = koffi.decode(handle, OFFSET_LOOP, 'uintptr_t') as number | bigint;
  const type = koffi.decode(handle, OFFSET_TYPE, 'int') as number;
  const flags = koffi.decode(handle, OFFSET_FLAGS, 'uint32_t') as number;
  return BigInt(loopField) === loop && type === UV_POLL && flags === UV_HANDLE_REF;
}

/** Marks the handle libuv-internal, so that the worker's `uv_loop_close()` at exit does not refuse it. */
function markInternal(handle: number): void {
  const flags = koffi.decode(handle, OFFSET_FLAGS, 'uint32_t') as number;
  koffi.encode(handle, OFFSET_FLAGS, 'uint32_t', flags | UV_HANDLE_INTERNAL);
}

/**
 * A new poll handle for `fd` on this thread's loop, not started yet; its results go to `listener`.
 * Returns the handle id (> 0) or a negative errno: EEXIST when the loop already watches the fd (another
 * watch, or a Node stream owns it), EPERM for files epoll refuses (regular files, directories), EBADF for
 * a closed fd, ENOTSUP in a worker thread when libuv's handle layout is not the one checked for. The fd's
 * blocking mode is left as it was (uv_poll_init makes it non-blocking; that is undone).
 */
export function pollOpen(fd: number, listener: PollListener): number {
  const uv = natives();
  const loop = threadLoop();
  const address = uv.malloc(uv.pollHandleBytes);
  if (address === 0 || address === 0n) return -(koffi.os.errno.ENOMEM ?? 12);
  if (typeof address !== 'number') {
    uv.free(Number(address));
    throw new Error('iomux: a heap address does not fit a JavaScript number');
  }
  const handle = address;
  // uv_poll_init sets O_NONBLOCK, but a poll handle only reports readiness: it never reads or writes the
  // fd. Left set, the owner's blocking reads and writes would raise EAGAIN (BlockingIOError) for good, so
  // the bit is put back as it was (status flags belong to the open file description, shared with dups).
  const statusFlags = getStatusFlags(fd);
  const status = uv.uvPollInit(loop, handle, fd);
  if (statusFlags >= 0 && (statusFlags & O_NONBLOCK) === 0) setStatusFlags(fd, statusFlags);
  if (status < 0) {
    uv.free(handle); // never initialised: libuv does not know it
    return status;
  }
  if (layoutChecked === null) layoutChecked = checkLayout(handle, loop);
  if (!isMainThread) {
    if (!layoutChecked) {
      uv.uvClose(handle, uv.freeAddress);
      return -(koffi.os.errno.ENOTSUP ?? 95);
    }
    markInternal(handle);
  }
  uv.napiAddEnvCleanupHook(koffi.node.env, uv.uvPollStopAddress, handle);
  pollCallback();
  listeners.set(handle, listener);
  return handle;
}

/**
 * Starts (or changes) what the handle waits for: UV_READABLE (1) and UV_WRITABLE (2), the values of
 * EVENT_READ and EVENT_WRITE; 0 stops it. Returns 0 or a negative errno.
 */
export function pollStart(handle: number, events: number): number {
  return natives().uvPollStart(handle, events, pollCallback());
}

/** Stops the handle; the fd is the caller's again (it may be closed right after). */
export function pollStop(handle: number): number {
  return natives().uvPollStop(handle);
}

/**
 * Stops and closes the handle. No poll result reaches the listener afterwards; libuv frees the memory
 * (C `free` is the close callback) at the end of the current loop iteration.
 */
export function pollClose(handle: number): void {
  if (!listeners.delete(handle)) return;
  const uv = natives();
  uv.uvPollStop(handle);
  uv.napiRemoveEnvCleanupHook(koffi.node.env, uv.uvPollStopAddress, handle);
  uv.uvClose(handle, uv.freeAddress);
  if (listeners.size === 0) scheduleRelease();
}

/** Whether an active handle keeps the loop (the process or worker) alive. */
export function pollSetRef(handle: number, ref: boolean): void {
  if (ref) natives().uvRef(handle);
  else natives().uvUnref(handle);
}

export function pollHasRef(handle: number): boolean {
  return natives().uvHasRef(handle) !== 0;
}

/** The number of poll handles this thread has open. */
export function openPollCount(): number {
  return listeners.size;
}

/** Live koffi callback registrations in the whole process (all threads), from `koffi.stats()`. */
export function registeredCallbackCount(): number {
  return koffi.stats().callbacks;
}

/** libuv's name for an error code ('EBADF'), as a fallback when the errno table does not know it. */
export function uvErrorName(code: number): string {
  return natives().uvErrName(code) ?? `UV error ${code}`;
}
