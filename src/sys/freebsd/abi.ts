/**
 * FreeBSD ≥ 12 values, identical on amd64 and aarch64 (both LP64). NOT RUN: no FreeBSD machine exists where
 * iomux is developed; every value is written from the system headers (<sys/errno.h>, <sys/socket.h>,
 * <netinet/in.h>, <netinet6/in6.h>, <netinet/tcp.h>, <netdb.h>, <sys/fcntl.h>, <sys/resource.h>, <sys/poll.h>,
 * <sys/event.h>, <sys/select.h>, <sys/_timeval.h>, <sys/un.h>) as mirrored by the Rust libc crate in
 * src/unix/bsd/freebsdlike/mod.rs, freebsdlike/freebsd/mod.rs and freebsd/freebsd12/mod.rs (struct kevent),
 * and unit-tested against that written-down copy (test/platform-tables.test.ts).
 */
import type { ArchName, PlatformAbi } from '../abi.js';
import { BSD_ERRNO_COMMON } from '../bsd-errno.js';

export const FREEBSD_ERRNO: Readonly<Record<string, number>> = Object.freeze({
  ...BSD_ERRNO_COMMON,
  EOPNOTSUPP: 45, ENOTSUP: 45,
  EIDRM: 82, ENOMSG: 83, EOVERFLOW: 84, ECANCELED: 85,
});

export function freebsdAbi(arch: ArchName): PlatformAbi {
  return {
    platform: 'freebsd',
    arch,
    libc: ['libc.so.7'],
    nodeSymbols: 'self',
    kqueueSource: 'libc',
    libkqueuePin: null,
    errno: FREEBSD_ERRNO,
    limits: { FD_SETSIZE: 1024, PIPE_BUF: 512 },
    socket: {
      AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 28,
      SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5, SOCK_CLOEXEC: 0x10000000, SOCK_NONBLOCK: 0x20000000,
      SOL_SOCKET: 0xffff,
      SO_DEBUG: 0x1, SO_ACCEPTCONN: 0x2, SO_REUSEADDR: 0x4, SO_KEEPALIVE: 0x8, SO_DONTROUTE: 0x10,
      SO_BROADCAST: 0x20, SO_LINGER: 0x80, SO_OOBINLINE: 0x100, SO_REUSEPORT: 0x200, SO_NOSIGPIPE: 0x800,
      SO_REUSEPORT_LB: 0x10000, LISTENER_BALANCING: 0x10000,
      SO_SNDBUF: 0x1001, SO_RCVBUF: 0x1002, SO_SNDLOWAT: 0x1003, SO_RCVLOWAT: 0x1004, SO_SNDTIMEO: 0x1005,
      SO_RCVTIMEO: 0x1006, SO_ERROR: 0x1007, SO_TYPE: 0x1008, SO_PROTOCOL: 0x1016, SO_DOMAIN: 0x1019,
      IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPV6_V6ONLY: 27,
      TCP_NODELAY: 1, TCP_KEEPIDLE: 256, TCP_KEEPINTVL: 512, TCP_KEEPCNT: 1024,
      SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
      MSG_OOB: 0x1, MSG_PEEK: 0x2, MSG_DONTROUTE: 0x4, MSG_EOR: 0x8, MSG_TRUNC: 0x10, MSG_CTRUNC: 0x20,
      MSG_WAITALL: 0x40, MSG_DONTWAIT: 0x80, MSG_NOSIGNAL: 0x20000, MSG_CMSG_CLOEXEC: 0x40000,
      SOMAXCONN: 128, SCM_RIGHTS: 1,
    },
    netdb: {
      AI_PASSIVE: 0x1, AI_CANONNAME: 0x2, AI_NUMERICHOST: 0x4, AI_NUMERICSERV: 0x8, AI_ALL: 0x100,
      AI_ADDRCONFIG: 0x400, AI_V4MAPPED: 0x800,
      NI_NOFQDN: 0x1, NI_NUMERICHOST: 0x2, NI_NAMEREQD: 0x4, NI_NUMERICSERV: 0x8, NI_DGRAM: 0x10,
      NI_MAXHOST: 1025, NI_MAXSERV: 32,
      // EAI_ADDRFAMILY (1) and EAI_NODATA (7) are #if 0'd out of FreeBSD's <netdb.h>.
      EAI_AGAIN: 2, EAI_BADFLAGS: 3, EAI_FAIL: 4, EAI_FAMILY: 5, EAI_MEMORY: 6, EAI_NONAME: 8, EAI_SERVICE: 9,
      EAI_SOCKTYPE: 10, EAI_SYSTEM: 11, EAI_OVERFLOW: 14,
    },
    fcntl: {
      F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_DUPFD_CLOEXEC: 17, F_DUP2FD_CLOEXEC: 18, FD_CLOEXEC: 1,
      O_NONBLOCK: 0x4, O_CLOEXEC: 0x100000, RLIMIT_NOFILE: 8,
    },
    poll: {
      POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLRDNORM: 0x40, POLLWRNORM: 0x4, POLLRDBAND: 0x80,
      POLLWRBAND: 0x100, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20,
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
      // struct sockaddr_un { uint8_t sun_len; sa_family_t sun_family; char sun_path[104]; }
      sockaddr: { lengthByte: true, storageBytes: 128, inBytes: 16, in6Bytes: 28, sunPathOffset: 2, sunPathBytes: 104 },
      addrinfoCanonnameFirst: true,
      fdSet: { bytes: 128, wordBytes: 8 }, // __fd_mask (unsigned long) __fds_bits[16]
      timeval: { bytes: 16, secBytes: 8, usecAt: 8, usecBytes: 8 }, // time_t (int64), suseconds_t (long)
      timespec: { bytes: 16, nsecAt: 8 },
      pollfd: { bytes: 8, fd: 0, events: 4, revents: 6 },
      epollEvent: null,
      // FreeBSD ≥ 12 (symbol kevent@FBSD_1.5, the default dlsym finds): { uintptr_t ident; short filter;
      // u_short flags; u_int fflags; int64_t data; void *udata; uint64_t ext[4]; } = 64 bytes.
      kevent: { bytes: 64, ident: 0, filter: 8, flags: 10, fflags: 12, data: 16, udata: 24 },
      // struct msghdr { void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov; int msg_iovlen;
      //   void *msg_control; socklen_t msg_controllen; int msg_flags; }; struct cmsghdr { socklen_t cmsg_len;
      //   int cmsg_level; int cmsg_type; }, CMSG_DATA at 16 (_ALIGN: sizeof(long) alignment).
      msg: {
        msghdrBytes: 48, nameAt: 0, namelenAt: 8, iovAt: 16, iovlenAt: 24, iovlenBytes: 4, controlAt: 32, controllenAt: 40,
        controllenBytes: 4, flagsAt: 44, iovecBytes: 16, iovBaseAt: 0, iovLenAt: 8, iovLenBytes: 8,
        cmsghdrBytes: 12, cmsgLenBytes: 4, cmsgLevelAt: 4, cmsgTypeAt: 8, cmsgAlign: 8,
      },
    },
  };
}
