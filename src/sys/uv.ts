/**
 * Node's own libuv and N-API, through the symbols the node binary exports: the natives for `uv_poll` handles
 * on the calling thread's event loop, the offsets of the `uv_handle_t` fields iomux reads, and the check of
 * that layout. No policy: every function returns a result or a negative errno (libuv's UV_E* on Linux);
 * when to open, start, reference or close a handle, and what to do in worker threads, is src/loop/'s.
 */
import { abi, koffi, libc } from './lib.js';

const UV_POLL = 8; // uv_handle_type (UV_HANDLE_TYPE_MAP order)
/** uv_poll_event: what a handle waits for. */
export const UV_READABLE = 1;

const ENOMEM = abi.errno.ENOMEM!;
const EOVERFLOW = abi.errno.EOVERFLOW!;

/** The native functions, declared on first use so that merely importing iomux never needs libuv's symbols. */
interface Natives {
  uvPollInit(loop: bigint, h: number, fd: number): number;
  uvPollStart(h: number, events: number, cb: bigint): number;
  uvPollStop(h: number): number;
  uvClose(h: number, cb: bigint): void;
  uvRef(h: number): void;
  uvUnref(h: number): void;
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

/** The calling thread's libuv loop (`napi_get_uv_event_loop`), or 0n when N-API refuses. */
export function threadLoop(): bigint {
  const out: unknown[] = [null];
  const status = natives().napiGetUvEventLoop(koffi.node.env, out);
  return status === 0 && typeof out[0] === 'bigint' ? out[0] : 0n;
}

/** Memory for a poll handle (C malloc: libuv keeps the pointer): its address, or -ENOMEM / -EOVERFLOW. */
export function pollAlloc(): number {
  const uv = natives();
  const address = uv.malloc(uv.pollHandleBytes);
  if (address === 0 || address === 0n) return -ENOMEM;
  if (typeof address !== 'number') {
    uv.free(Number(address)); // koffi gives a BigInt only beyond 2**53
    return -EOVERFLOW;
  }
  return address;
}

/** Frees a handle that `pollInit` refused (libuv never knew it). */
export function pollFree(handle: number): void {
  natives().free(handle);
}

/** `uv_poll_init(loop, handle, fd)`: 0 or a negative errno (EEXIST, EPERM, EBADF…). */
export function pollInit(loop: bigint, handle: number, fd: number): number {
  return natives().uvPollInit(loop, handle, fd);
}

/** `uv_poll_start`: 0 or a negative errno. `callback` is a registered `PollCallback`'s address. */
export function pollStart(handle: number, events: number, callback: bigint): number {
  return natives().uvPollStart(handle, events, callback);
}

/** `uv_poll_stop`: the fd is the caller's again (it may be closed right after). */
export function pollStop(handle: number): number {
  return natives().uvPollStop(handle);
}

/** `uv_close` with C `free` as the close callback: libuv frees the memory when it is done with it. */
export function pollClose(handle: number): void {
  const uv = natives();
  uv.uvClose(handle, uv.freeAddress);
}

export function pollSetRef(handle: number, ref: boolean): void {
  if (ref) natives().uvRef(handle);
  else natives().uvUnref(handle);
}

/**
 * An N-API environment cleanup hook whose function is `uv_poll_stop` itself: at the thread's teardown, C code
 * stops the handle before the isolate goes away, without JavaScript. Returns the napi_status (0: ok).
 */
export function addTeardownStop(handle: number): number {
  const uv = natives();
  return uv.napiAddEnvCleanupHook(koffi.node.env, uv.uvPollStopAddress, handle);
}

/** Removes the hook `addTeardownStop` added (before closing the handle). */
export function removeTeardownStop(handle: number): number {
  const uv = natives();
  return uv.napiRemoveEnvCleanupHook(koffi.node.env, uv.uvPollStopAddress, handle);
}

/** libuv's poll callback, as JavaScript sees it: `status` is 0 or a negative errno. */
export type PollCallback = (handle: number, status: number, events: number) => void;

/** Registers `fn` as a C `uv_poll_cb` (a koffi trampoline, 8192 per process) and returns its address. */
export function registerPollCallback(fn: PollCallback): bigint {
  return koffi.register(fn, natives().pollCallbackType) as bigint;
}

/** Gives a registered callback's trampoline back. Never from inside that callback. */
export function unregisterCallback(address: bigint): void {
  koffi.unregister(address);
}

/**
 * Whether the fields iomux touches are where libuv 1.x puts them, on a freshly initialised handle: the loop
 * pointer, the handle type and a flags word holding exactly UV_HANDLE_REF.
 */
export function handleLayoutMatches(handle: number, loop: bigint): boolean {
  const loopField = koffi.decode(handle, OFFSET_LOOP, 'uintptr_t') as number | bigint;
  const type = koffi.decode(handle, OFFSET_TYPE, 'int') as number;
  const flags = koffi.decode(handle, OFFSET_FLAGS, 'uint32_t') as number;
  return BigInt(loopField) === loop && type === UV_POLL && flags === UV_HANDLE_REF;
}

/** Flags the handle libuv-internal, so that `uv_loop_close()` does not count it (check the layout first). */
export function markInternal(handle: number): void {
  const flags = koffi.decode(handle, OFFSET_FLAGS, 'uint32_t') as number;
  koffi.encode(handle, OFFSET_FLAGS, 'uint32_t', flags | UV_HANDLE_INTERNAL);
}

/** Live koffi callback registrations in the whole process (all threads), from `koffi.stats()`. */
export function registeredCallbackCount(): number {
  return koffi.stats().callbacks;
}

/** libuv's name for an error code ('EBADF'), as a fallback when the errno table does not know it. */
export function uvErrorName(code: number): string {
  return natives().uvErrName(code) ?? `UV error ${code}`;
}
