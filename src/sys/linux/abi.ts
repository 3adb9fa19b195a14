/**
 * Linux's values (glibc headers and the kernel's asm-generic UAPI), the same on x86_64 and aarch64 for
 * everything here except `struct epoll_event`, which is packed on x86_64 only. Sources, for a reviewer:
 * <asm-generic/errno-base.h>, <asm-generic/errno.h>, <bits/socket.h>, <asm-generic/socket.h>, <netinet/in.h>,
 * <netinet/tcp.h>, <netdb.h>, <asm-generic/fcntl.h>, <bits/poll.h>, <sys/epoll.h>, <bits/types/struct_timeval.h>;
 * the Rust libc crate mirrors them in src/unix/linux_like/ (mod.rs, linux/mod.rs, linux/gnu/mod.rs,
 * linux/arch/generic/mod.rs). kqueue values are libkqueue's include/sys/event.h (kqueue on Linux comes from it).
 */
import type { ArchName, PlatformAbi } from '../abi.js';

export const LINUX_ERRNO: Readonly<Record<string, number>> = Object.freeze({
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10,
  EAGAIN: 11, EWOULDBLOCK: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17, EXDEV: 18,
  ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27,
  ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35,
  ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, EOVERFLOW: 75,
  ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, ENOTSUP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98,
  EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103, ECONNRESET: 104,
  ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ESTALE: 116,
  EDQUOT: 122, ECANCELED: 125,
});

export function linuxAbi(arch: ArchName): PlatformAbi {
  // struct epoll_event { uint32_t events; epoll_data_t data; } is __attribute__((packed)) on x86_64 only.
  const epollPacked = arch === 'x64';
  return {
    platform: 'linux',
    arch,
    libc: ['libc.so.6', null],
    nodeSymbols: 'self',
    kqueueSource: 'libkqueue',
    // <bits/dlfcn.h>: RTLD_NOW 0x00002, RTLD_NOLOAD 0x00004, RTLD_NODELETE 0x01000 (the same on aarch64).
    libkqueuePin: 0x00002 | 0x00004 | 0x01000,
    errno: LINUX_ERRNO,
    limits: { FD_SETSIZE: 1024, PIPE_BUF: 4096 },
    socket: {
      AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10,
      SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
      SOL_SOCKET: 1,
      SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6, SO_SNDBUF: 7,
      SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_LINGER: 13, SO_REUSEPORT: 15, LISTENER_BALANCING: 15, SO_PASSCRED: 16,
      SO_PEERCRED: 17, SO_RCVLOWAT: 18, SO_SNDLOWAT: 19, SO_RCVTIMEO: 20, SO_SNDTIMEO: 21, SO_ACCEPTCONN: 30,
      SO_PROTOCOL: 38, SO_DOMAIN: 39,
      IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPV6_V6ONLY: 26,
      TCP_NODELAY: 1, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
      SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
      MSG_OOB: 0x1, MSG_PEEK: 0x2, MSG_DONTROUTE: 0x4, MSG_CTRUNC: 0x8, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40,
      MSG_EOR: 0x80, MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000, MSG_CMSG_CLOEXEC: 0x40000000,
      SCM_RIGHTS: 1, SCM_CREDENTIALS: 2, AF_NETLINK: 16, AF_PACKET: 17,
      SOMAXCONN: 4096, // glibc ≥ 2.35 (was 128)
    },
    netdb: {
      AI_PASSIVE: 0x1, AI_CANONNAME: 0x2, AI_NUMERICHOST: 0x4, AI_V4MAPPED: 0x8, AI_ALL: 0x10, AI_ADDRCONFIG: 0x20,
      AI_NUMERICSERV: 0x400,
      NI_NUMERICHOST: 1, NI_NUMERICSERV: 2, NI_NOFQDN: 4, NI_NAMEREQD: 8, NI_DGRAM: 16, NI_MAXHOST: 1025, NI_MAXSERV: 32,
      EAI_BADFLAGS: -1, EAI_NONAME: -2, EAI_AGAIN: -3, EAI_FAIL: -4, EAI_NODATA: -5, EAI_FAMILY: -6,
      EAI_SOCKTYPE: -7, EAI_SERVICE: -8, EAI_ADDRFAMILY: -9, EAI_MEMORY: -10, EAI_SYSTEM: -11, EAI_OVERFLOW: -12,
    },
    fcntl: {
      F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_DUPFD_CLOEXEC: 1030, FD_CLOEXEC: 1,
      O_NONBLOCK: 0o4000, O_CLOEXEC: 0o2000000, RLIMIT_NOFILE: 7,
    },
    poll: {
      POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40,
      POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400, POLLRDHUP: 0x2000,
    },
    kqueue: {
      EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: -3, EVFILT_VNODE: -4, EVFILT_PROC: -5, EVFILT_SIGNAL: -6,
      EVFILT_TIMER: -7,
      EV_ADD: 0x1, EV_DELETE: 0x2, EV_ENABLE: 0x4, EV_DISABLE: 0x8, EV_ONESHOT: 0x10, EV_CLEAR: 0x20,
      EV_SYSFLAGS: 0xf000, EV_FLAG1: 0x2000, EV_EOF: 0x8000, EV_ERROR: 0x4000,
      NOTE_LOWAT: 0x1,
      NOTE_DELETE: 0x1, NOTE_WRITE: 0x2, NOTE_EXTEND: 0x4, NOTE_ATTRIB: 0x8, NOTE_LINK: 0x10, NOTE_RENAME: 0x20,
      NOTE_REVOKE: 0x40,
      NOTE_EXIT: 0x80000000, NOTE_FORK: 0x40000000, NOTE_EXEC: 0x20000000, NOTE_PCTRLMASK: 0xf0000000,
      NOTE_PDATAMASK: 0x000fffff, NOTE_TRACK: 0x1, NOTE_TRACKERR: 0x2, NOTE_CHILD: 0x4,
    },
    layout: {
      sockaddr: { lengthByte: false, storageBytes: 128, inBytes: 16, in6Bytes: 28, sunPathOffset: 2, sunPathBytes: 108 },
      addrinfoCanonnameFirst: false,
      fdSet: { bytes: 128, wordBytes: 8 }, // __fd_mask is long
      timeval: { bytes: 16, secBytes: 8, usecAt: 8, usecBytes: 8 },
      timespec: { bytes: 16, nsecAt: 8 },
      pollfd: { bytes: 8, fd: 0, events: 4, revents: 6 },
      epollEvent: epollPacked ? { bytes: 12, events: 0, data: 4 } : { bytes: 16, events: 0, data: 8 },
      // libkqueue's struct kevent: uintptr_t ident; int16 filter; uint16 flags; uint32 fflags; intptr_t data; void *udata.
      kevent: { bytes: 32, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24 },
      // <bits/socket.h>: msg_iovlen, msg_controllen and cmsg_len are size_t; CMSG_ALIGN rounds to sizeof(size_t).
      msg: {
        msghdrBytes: 56, nameAt: 0, namelenAt: 8, iovAt: 16, iovlenAt: 24, iovlenBytes: 8, controlAt: 32, controllenAt: 40,
        controllenBytes: 8, flagsAt: 48, iovecBytes: 16, iovBaseAt: 0, iovLenAt: 8, iovLenBytes: 8,
        cmsghdrBytes: 16, cmsgLenBytes: 8, cmsgLevelAt: 8, cmsgTypeAt: 12, cmsgAlign: 8,
      },
    },
  };
}
