/** macOS: no SOCK_CLOEXEC/SOCK_NONBLOCK, accept4, pipe2, dup3 or MSG_NOSIGNAL: fcntl and SO_NOSIGPIPE instead. */
import type { NativeContext, PlatformNatives } from '../abi.js';
import { bindEmulatedCloexec } from '../emulated-cloexec.js';

export function bindNatives(ctx: NativeContext): PlatformNatives {
  return { ...bindEmulatedCloexec(ctx), epoll: null, timerfd: null, uring: null };
}
