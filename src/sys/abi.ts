/**
 * What every platform folder (src/sys/<platform>/) provides: the ONE interface between iomux's portable code
 * and an operating system. A platform is one folder whose `index.ts` exports one `Platform` — `{ abi, natives }`:
 *
 * - `abi`: `(arch) => PlatformAbi`, plain data written from the platform's headers (in its `abi.ts`: no koffi,
 *   no native call), so the tables of every platform can be unit-tested on any machine;
 * - `natives`: `(ctx) => PlatformNatives` (its `natives.ts`), the calls whose name or emulation differs per
 *   platform, bound only on the platform that runs (a macOS libc has no accept4, a Linux one no kqueue);
 *
 * and one entry in platform.ts's table. Everything else in src/sys/ (io, multiplex, socket, netdb, kqueue) is
 * written once against these values and layouts; nothing above src/sys/ names a platform.
 */

export type PlatformName = 'linux' | 'darwin' | 'freebsd';
export type ArchName = 'x64' | 'arm64';

/** Socket constants. Optional ones do not exist on every platform (CPython then has no such attribute). */
export interface SocketConstants {
  AF_UNSPEC: number; AF_UNIX: number; AF_INET: number; AF_INET6: number;
  SOCK_STREAM: number; SOCK_DGRAM: number; SOCK_RAW: number; SOCK_SEQPACKET: number;
  /**
   * Flags or-ed into socket()'s type. Where the kernel has none (macOS) these are iomux's own bits, which
   * natives.socket() strips and applies with fcntl(2): the portable code above sees one behaviour.
   */
  SOCK_NONBLOCK: number; SOCK_CLOEXEC: number;
  SOL_SOCKET: number;
  SO_DEBUG: number; SO_REUSEADDR: number; SO_TYPE: number; SO_ERROR: number; SO_DONTROUTE: number;
  SO_BROADCAST: number; SO_SNDBUF: number; SO_RCVBUF: number; SO_KEEPALIVE: number; SO_OOBINLINE: number;
  SO_LINGER: number; SO_REUSEPORT: number; SO_RCVLOWAT: number; SO_SNDLOWAT: number; SO_RCVTIMEO: number;
  SO_SNDTIMEO: number; SO_ACCEPTCONN: number;
  SO_PASSCRED?: number; SO_PEERCRED?: number; SO_PROTOCOL?: number; SO_DOMAIN?: number; SO_NOSIGPIPE?: number;
  /** FreeBSD ≥ 12: SO_REUSEPORT with the incoming connections shared out among the listeners. */
  SO_REUSEPORT_LB?: number;
  /**
   * Not a header name: the SOL_SOCKET option with which listeners bound to one address share out its
   * incoming connections — SO_REUSEPORT on Linux, SO_REUSEPORT_LB on FreeBSD. Absent on macOS, whose
   * SO_REUSEPORT lets listeners share the address but gives each connection to one of them (the last bound).
   */
  LISTENER_BALANCING?: number;
  IPPROTO_IP: number; IPPROTO_TCP: number; IPPROTO_UDP: number; IPPROTO_IPV6: number; IPV6_V6ONLY: number;
  TCP_NODELAY: number; TCP_KEEPIDLE?: number; TCP_KEEPINTVL: number; TCP_KEEPCNT: number;
  SHUT_RD: number; SHUT_WR: number; SHUT_RDWR: number;
  MSG_OOB: number; MSG_PEEK: number; MSG_DONTROUTE: number; MSG_TRUNC: number; MSG_CTRUNC: number;
  MSG_DONTWAIT: number; MSG_EOR: number; MSG_WAITALL: number;
  MSG_NOSIGNAL?: number; MSG_CMSG_CLOEXEC?: number;
  /** <sys/socket.h>'s SOMAXCONN, which CPython exposes. */
  SOMAXCONN: number;
  /** Ancillary data types: SCM_RIGHTS everywhere; SCM_CREDENTIALS (struct ucred) on Linux only. */
  SCM_RIGHTS: number; SCM_CREDENTIALS?: number;
  /** Linux's netlink and packet families. */
  AF_NETLINK?: number; AF_PACKET?: number;
}

/** getaddrinfo/getnameinfo constants. EAI codes are negative on glibc, positive on the BSDs. */
export interface NetdbConstants {
  AI_PASSIVE: number; AI_CANONNAME: number; AI_NUMERICHOST: number; AI_V4MAPPED: number; AI_ALL: number;
  AI_ADDRCONFIG: number; AI_NUMERICSERV: number;
  NI_NUMERICHOST: number; NI_NUMERICSERV: number; NI_NOFQDN: number; NI_NAMEREQD: number; NI_DGRAM: number;
  NI_MAXHOST: number; NI_MAXSERV: number;
  EAI_BADFLAGS: number; EAI_NONAME: number; EAI_AGAIN: number; EAI_FAIL: number; EAI_FAMILY: number;
  EAI_SOCKTYPE: number; EAI_SERVICE: number; EAI_MEMORY: number; EAI_SYSTEM: number; EAI_OVERFLOW: number;
  EAI_NODATA?: number; EAI_ADDRFAMILY?: number;
}

export interface FcntlConstants {
  F_GETFD: number; F_SETFD: number; F_GETFL: number; F_SETFL: number; F_DUPFD_CLOEXEC: number;
  FD_CLOEXEC: number; O_NONBLOCK: number; O_CLOEXEC: number; RLIMIT_NOFILE: number;
  /** FreeBSD's dup2 with close-on-exec (it predates dup3); absent elsewhere. */
  F_DUP2FD_CLOEXEC?: number;
}

/** poll(2) bits. POLLMSG and POLLRDHUP are Linux's. */
export interface PollConstants {
  POLLIN: number; POLLPRI: number; POLLOUT: number; POLLERR: number; POLLHUP: number; POLLNVAL: number;
  POLLRDNORM: number; POLLRDBAND: number; POLLWRNORM: number; POLLWRBAND: number;
  POLLMSG?: number; POLLRDHUP?: number;
}

/** The <sys/event.h> values CPython's select module exposes as KQ_* (on Linux: libkqueue's header). */
export interface KqueueConstants {
  EVFILT_READ: number; EVFILT_WRITE: number; EVFILT_AIO: number; EVFILT_VNODE: number; EVFILT_PROC: number;
  EVFILT_SIGNAL: number; EVFILT_TIMER: number;
  EV_ADD: number; EV_DELETE: number; EV_ENABLE: number; EV_DISABLE: number; EV_ONESHOT: number; EV_CLEAR: number;
  EV_SYSFLAGS: number; EV_FLAG1: number; EV_EOF: number; EV_ERROR: number;
  NOTE_LOWAT: number;
  NOTE_DELETE: number; NOTE_WRITE: number; NOTE_EXTEND: number; NOTE_ATTRIB: number; NOTE_LINK: number;
  NOTE_RENAME: number; NOTE_REVOKE: number;
  NOTE_EXIT: number; NOTE_FORK: number; NOTE_EXEC: number; NOTE_PCTRLMASK: number; NOTE_PDATAMASK: number;
  /** Present where the header defines NOTE_TRACK (FreeBSD, libkqueue; macOS dropped process tracking). */
  NOTE_TRACK?: number; NOTE_CHILD?: number; NOTE_TRACKERR?: number;
}

/** Where the fields of the structs iomux reads and writes sit (byte offsets, sizes in bytes). */
export interface Layouts {
  sockaddr: {
    /** BSD: a uint8 length byte at 0 and a uint8 family at 1. Linux: a uint16 family at 0, no length. */
    lengthByte: boolean;
    storageBytes: number; inBytes: number; in6Bytes: number;
    sunPathOffset: number; sunPathBytes: number;
  };
  /** struct addrinfo: BSD puts ai_canonname before ai_addr, glibc after. */
  addrinfoCanonnameFirst: boolean;
  /** fd_set: FD_SETSIZE bits in words of `wordBytes` (little-endian words: bit fd is bit fd & 7 of byte fd >> 3). */
  fdSet: { bytes: number; wordBytes: number };
  /** struct timeval { time_t tv_sec; suseconds_t tv_usec; } */
  timeval: { bytes: number; secBytes: number; usecAt: number; usecBytes: number };
  /** struct timespec { time_t tv_sec; long tv_nsec; } (kevent's timeout). */
  timespec: { bytes: number; nsecAt: number };
  pollfd: { bytes: number; fd: number; events: number; revents: number };
  /** struct epoll_event, on Linux only. */
  epollEvent: { bytes: number; events: number; data: number } | null;
  /** struct kevent. `dataBytes` is 8 for intptr_t/int64 on 64-bit targets; `bytes` 64 on FreeBSD ≥ 12. */
  kevent: { bytes: number; ident: number; filter: number; flags: number; fflags: number; data: number; udata: number };
  /**
   * sendmsg/recvmsg: struct msghdr, struct iovec, struct cmsghdr. Lengths are size_t on Linux, socklen_t (or
   * int for msg_iovlen) on the BSDs and macOS; `cmsgAlign` is CMSG_ALIGN's unit (sizeof(size_t) on Linux, 4
   * on macOS, sizeof(long) on FreeBSD). Pointers are 8 bytes (every table here is 64-bit).
   */
  msg: {
    msghdrBytes: number; nameAt: number; namelenAt: number; iovAt: number; iovlenAt: number; iovlenBytes: number;
    controlAt: number; controllenAt: number; controllenBytes: number; flagsAt: number;
    iovecBytes: number; iovBaseAt: number; iovLenAt: number; iovLenBytes: number;
    cmsghdrBytes: number; cmsgLenBytes: number; cmsgLevelAt: number; cmsgTypeAt: number; cmsgAlign: number;
  };
}

export interface PlatformAbi {
  platform: PlatformName;
  arch: ArchName;
  /** Libraries to try, in order, for the C library (koffi.load(name)); `null` means the process itself. */
  libc: ReadonlyArray<string | null>;
  /**
   * Where the node binary's uv_* and napi_* symbols are found: 'self' = koffi.load(null), i.e. dlopen(NULL),
   * which searches the executable and its global dependencies on Linux, macOS and FreeBSD alike (node exports
   * them for addons: -rdynamic on ELF, its exported symbol table on Mach-O).
   */
  nodeSymbols: 'self';
  /**
   * Where kqueue()/kevent() come from: 'libc' on the BSDs and macOS, 'libkqueue' on Linux (loaded from
   * $IOMUX_LIBKQUEUE, then libkqueue.so.0, only when a kqueue is first created).
   */
  kqueueSource: 'libc' | 'libkqueue';
  /**
   * With libkqueue: the dlopen(3) flags that make it, once loaded, resident for the life of the process
   * (RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE). Its monitoring thread outlives the koffi handle that loaded it
   * (koffi unloads a library when the thread that loaded it ends, a worker or the main thread at exit), and
   * ran unmapped code then: SIGSEGV. null where kqueue is the C library's.
   */
  libkqueuePin: number | null;
  /** errno values by name (aliases included: EWOULDBLOCK, ENOTSUP). */
  errno: Readonly<Record<string, number>>;
  limits: { FD_SETSIZE: number; PIPE_BUF: number };
  socket: SocketConstants;
  netdb: NetdbConstants;
  fcntl: FcntlConstants;
  poll: PollConstants;
  kqueue: KqueueConstants;
  layout: Layouts;
}

/** A pointer-sized integer cell the caller owns (socklen_t in/out). */
export type LenCell = Uint32Array;

/**
 * The calls whose spelling differs per platform: portable primitives with one behaviour everywhere. Each
 * returns its result (≥ 0) or `-errno`, and never leaves an fd behind on failure.
 */
export interface PlatformNatives {
  /** socket(2), always close-on-exec; `type` may carry SOCK_NONBLOCK (and SOCK_CLOEXEC, implied). No SIGPIPE on send. */
  socket(family: number, type: number, proto: number): number;
  /** socketpair(2) with socket()'s rules for both ends; fills `out`. */
  socketpair(family: number, type: number, proto: number, out: Int32Array): number;
  /** accept(2): the new fd close-on-exec and blocking, SIGPIPE-free like socket()'s. */
  accept(fd: number, addr: Uint8Array | null, addrlen: LenCell | null): number;
  /** pipe(2) with both ends close-on-exec; fills `out` with [read, write]. */
  pipe(out: Int32Array): number;
  /** dup2(2) of `fd` onto `fd2` (fd ≠ fd2), close-on-exec when `cloexec`. */
  dup2(fd: number, fd2: number, cloexec: boolean): number;
  /** epoll_create1/epoll_ctl/epoll_wait, where the kernel has them (Linux), else null. */
  epoll: EpollNatives | null;
  /** timerfd_create/timerfd_settime/timerfd_gettime (Linux), else null. */
  timerfd: TimerfdNatives | null;
  /** io_uring's three system calls, mmap/munmap and its ABI table (Linux), else null. */
  uring: UringNatives | null;
}

/**
 * io_uring (Linux): the raw system calls through syscall(2), each returning its result or -errno. Pointers
 * the kernel keeps (rings, buffers) cross as plain addresses (numbers: user addresses fit in 53 bits on every
 * 64-bit ABI iomux runs on); arguments the kernel only reads during the call cross as byte arrays.
 */
export interface UringNatives {
  abi: import('./linux/uring-abi.js').UringAbi;
  setup(entries: number, params: Uint8Array): number;
  enter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: Uint8Array | null, argBytes: number): number;
  register(fd: number, op: number, arg: Uint8Array | null, nrArgs: number): number;
  /** mmap(2) of `bytes` of the ring fd at `offset`, shared: the mapping, or -errno. */
  mapRing(fd: number, offset: number, bytes: number): { memory: ArrayBuffer; unmap(): void } | number;
  /** The address of a byte array's first byte (its memory must not move: a WebAssembly.Memory's does not). */
  addressOf(bytes: Uint8Array): number;
  /** /proc/sys/kernel/io_uring_disabled (0, 1 or 2), or null where the file is absent (kernels before 6.6). */
  disabledSysctl(): number | null;
}

/** The timerfd calls; a `struct itimerspec` is passed as four int64 cells: interval s, ns, value s, ns. */
export interface TimerfdNatives {
  create(clockid: number, flags: number): number;
  settime(fd: number, flags: number, spec: BigInt64Array, old: BigInt64Array): number;
  gettime(fd: number, spec: BigInt64Array): number;
}

export interface EpollNatives {
  create1(flags: number): number;
  ctl(epfd: number, op: number, fd: number, event: Uint8Array): number;
  wait(epfd: number, events: Uint8Array, maxevents: number, timeoutMs: number): number;
}

/** One platform: its table for an architecture, and how its natives are bound (src/sys/<platform>/index.ts). */
export interface Platform {
  abi(arch: ArchName): PlatformAbi;
  natives(ctx: NativeContext): PlatformNatives;
}

/**
 * What a platform's `bindNatives` gets: koffi, the loaded C library, its own table and errno.ts's result rule.
 * Handed in rather than imported, so that a platform folder loads no native module: platform.ts chooses among
 * the folders, and refuses an unsupported platform, before koffi is loaded.
 */
export interface NativeContext {
  koffi: typeof import('koffi').default;
  libc: import('koffi').LibraryHandle;
  abi: PlatformAbi;
  /** The call's result, or -errno (errno.ts). */
  orErrno(r: number): number;
  /** The calling thread's errno, for a result the rule does not fit. */
  errno(): number;
}
