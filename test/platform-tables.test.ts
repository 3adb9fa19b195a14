/**
 * The platform tables of src/sys/<platform>/abi.ts against a second copy written down here, value by value,
 * from the platforms' headers, so a reviewer can check each line against its source:
 *
 * - Linux (x86_64, aarch64): glibc and kernel UAPI headers — <asm-generic/errno-base.h>, <asm-generic/errno.h>,
 *   <bits/socket.h>, <asm-generic/socket.h>, <netinet/in.h>, <netinet/tcp.h>, <netdb.h>, <asm-generic/fcntl.h>,
 *   <bits/poll.h>, <sys/epoll.h>; Rust libc: src/unix/linux_like/mod.rs, linux_like/linux/mod.rs,
 *   linux/gnu/mod.rs, linux/arch/generic/mod.rs. kqueue: libkqueue's include/sys/event.h (vendored snapshot).
 * - macOS (x86_64, arm64): the macOS SDK's <sys/errno.h>, <sys/socket.h>, <sys/un.h>, <netinet/in.h>,
 *   <netinet6/in6.h>, <netinet/tcp.h>, <netdb.h>, <sys/fcntl.h>, <sys/resource.h>, <poll.h>, <sys/event.h>,
 *   <sys/_types/_fd_def.h>, <sys/_types/_timeval.h>; Rust libc: src/unix/bsd/apple/mod.rs, src/unix/bsd/mod.rs.
 * - FreeBSD ≥ 12 (amd64, aarch64): <sys/errno.h>, <sys/socket.h>, <sys/un.h>, <netinet/in.h>, <netinet6/in6.h>,
 *   <netinet/tcp.h>, <netdb.h>, <sys/fcntl.h>, <sys/resource.h>, <sys/poll.h>, <sys/event.h>, <sys/select.h>,
 *   <sys/_timeval.h>; Rust libc: src/unix/bsd/freebsdlike/mod.rs, freebsdlike/freebsd/mod.rs,
 *   freebsd/freebsd12/mod.rs (the 64-byte struct kevent).
 *
 * Struct layouts are also recomputed from the C declarations with koffi: all six targets are LP64 ABIs with
 * natural alignment, so the offsets koffi computes here are theirs. On the running platform (Linux here) the
 * table is also checked against koffi's errno list, which koffi took from this machine's C headers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import type { PlatformAbi } from '../src/sys/abi.js';
import { abiFor, PLATFORMS } from '../src/sys/platform.js';
import { PACKAGE_ROOT } from './support/children.js';

type Table = Record<string, number | undefined>;

// ---------------------------------------------------------------------------------------------------------
// errno. Linux: asm-generic/errno-base.h (1–34), asm-generic/errno.h (35+). BSD: sys/errno.h (1–78 shared).
const LINUX_ERRNO: Table = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, ECHILD: 10, EAGAIN: 11, EWOULDBLOCK: 11, ENOMEM: 12,
  EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EMFILE: 24, ENOSPC: 28, EPIPE: 32, EDEADLK: 35,
  ENAMETOOLONG: 36, ENOSYS: 38, ELOOP: 40, EOVERFLOW: 75, ENOTSOCK: 88, EMSGSIZE: 90, ENOPROTOOPT: 92,
  EOPNOTSUPP: 95, ENOTSUP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETUNREACH: 101,
  ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ECANCELED: 125,
};
const BSD_ERRNO: Table = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, ECHILD: 10, EDEADLK: 11, ENOMEM: 12, EACCES: 13,
  EEXIST: 17, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EMFILE: 24, ENOSPC: 28, EPIPE: 32, EAGAIN: 35, EWOULDBLOCK: 35,
  EINPROGRESS: 36, EALREADY: 37, ENOTSOCK: 38, EMSGSIZE: 40, ENOPROTOOPT: 42, EAFNOSUPPORT: 47, EADDRINUSE: 48,
  EADDRNOTAVAIL: 49, ENETUNREACH: 51, ECONNABORTED: 53, ECONNRESET: 54, ENOBUFS: 55, EISCONN: 56, ENOTCONN: 57,
  ESHUTDOWN: 58, ETIMEDOUT: 60, ECONNREFUSED: 61, ELOOP: 62, ENAMETOOLONG: 63, EHOSTUNREACH: 65, ENOSYS: 78,
};
const DARWIN_ERRNO: Table = { ...BSD_ERRNO, ENOTSUP: 45, EOPNOTSUPP: 102, EOVERFLOW: 84, ECANCELED: 89 };
const FREEBSD_ERRNO: Table = { ...BSD_ERRNO, EOPNOTSUPP: 45, ENOTSUP: 45, EOVERFLOW: 84, ECANCELED: 85 };

// ---------------------------------------------------------------------------------------------------------
// Sockets. Linux: bits/socket.h, asm-generic/socket.h (SOL_SOCKET 1, SO_* small numbers), bits/socket_type.h.
const LINUX_SOCKET: Table = {
  AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000, SOL_SOCKET: 1, SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3,
  SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6, SO_SNDBUF: 7, SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10,
  SO_LINGER: 13, SO_REUSEPORT: 15, SO_REUSEPORT_LB: undefined, LISTENER_BALANCING: 15, SO_PASSCRED: 16, SO_PEERCRED: 17, SO_RCVLOWAT: 18, SO_SNDLOWAT: 19,
  SO_RCVTIMEO: 20, SO_SNDTIMEO: 21, SO_ACCEPTCONN: 30, SO_PROTOCOL: 38, SO_DOMAIN: 39, SO_NOSIGPIPE: undefined,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPV6_V6ONLY: 26, TCP_NODELAY: 1, TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6, SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2, MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4,
  MSG_CTRUNC: 8, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_EOR: 0x80, MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000,
  MSG_CMSG_CLOEXEC: 0x40000000, SOMAXCONN: 4096,
  SCM_RIGHTS: 1, SCM_CREDENTIALS: 2, AF_NETLINK: 16, AF_PACKET: 17, // bits/socket.h, linux/netlink.h
};
// BSD: sys/socket.h — SOL_SOCKET 0xffff, bit-flag SO_* below 0x1000, value SO_* from 0x1001.
const DARWIN_SOCKET: Table = {
  AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 30, SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0x10000000, SOCK_CLOEXEC: 0x20000000, // iomux's own bits: macOS has no such flags
  SOL_SOCKET: 0xffff, SO_DEBUG: 0x1, SO_ACCEPTCONN: 0x2, SO_REUSEADDR: 0x4, SO_KEEPALIVE: 0x8, SO_DONTROUTE: 0x10,
  SO_BROADCAST: 0x20, SO_LINGER: 0x80, SO_OOBINLINE: 0x100, SO_REUSEPORT: 0x200, SO_SNDBUF: 0x1001, SO_RCVBUF: 0x1002,
  SO_REUSEPORT_LB: undefined, LISTENER_BALANCING: undefined, // macOS: SO_REUSEPORT shares the address, not the load
  SO_SNDLOWAT: 0x1003, SO_RCVLOWAT: 0x1004, SO_SNDTIMEO: 0x1005, SO_RCVTIMEO: 0x1006, SO_ERROR: 0x1007, SO_TYPE: 0x1008,
  SO_NOSIGPIPE: 0x1022, SO_PASSCRED: undefined, SO_PEERCRED: undefined, SO_PROTOCOL: undefined, SO_DOMAIN: undefined,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPV6_V6ONLY: 27, TCP_NODELAY: 1,
  TCP_KEEPIDLE: undefined, TCP_KEEPINTVL: 0x101, TCP_KEEPCNT: 0x102, SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4, MSG_EOR: 8, MSG_TRUNC: 0x10, MSG_CTRUNC: 0x20, MSG_WAITALL: 0x40,
  MSG_DONTWAIT: 0x80, MSG_NOSIGNAL: undefined, MSG_CMSG_CLOEXEC: undefined, SOMAXCONN: 128,
  SCM_RIGHTS: 1, SCM_CREDENTIALS: undefined, AF_NETLINK: undefined, AF_PACKET: undefined,
};
const FREEBSD_SOCKET: Table = {
  ...DARWIN_SOCKET, AF_INET6: 28, SOCK_CLOEXEC: 0x10000000, SOCK_NONBLOCK: 0x20000000, SO_NOSIGPIPE: 0x800,
  SO_PROTOCOL: 0x1016, SO_DOMAIN: 0x1019, SO_REUSEPORT_LB: 0x10000, LISTENER_BALANCING: 0x10000, TCP_KEEPIDLE: 256, TCP_KEEPINTVL: 512, TCP_KEEPCNT: 1024,
  MSG_NOSIGNAL: 0x20000, MSG_CMSG_CLOEXEC: 0x40000,
};

// netdb.h. glibc's EAI codes are negative; the BSDs' positive (FreeBSD #if 0's EAI_ADDRFAMILY and EAI_NODATA).
const LINUX_NETDB: Table = {
  AI_PASSIVE: 1, AI_CANONNAME: 2, AI_NUMERICHOST: 4, AI_V4MAPPED: 8, AI_ALL: 0x10, AI_ADDRCONFIG: 0x20,
  AI_NUMERICSERV: 0x400, NI_NUMERICHOST: 1, NI_NUMERICSERV: 2, NI_NOFQDN: 4, NI_NAMEREQD: 8, NI_DGRAM: 16,
  NI_MAXHOST: 1025, NI_MAXSERV: 32, EAI_BADFLAGS: -1, EAI_NONAME: -2, EAI_AGAIN: -3, EAI_FAIL: -4, EAI_NODATA: -5,
  EAI_FAMILY: -6, EAI_SOCKTYPE: -7, EAI_SERVICE: -8, EAI_ADDRFAMILY: -9, EAI_MEMORY: -10, EAI_SYSTEM: -11,
  EAI_OVERFLOW: -12,
};
const DARWIN_NETDB: Table = {
  AI_PASSIVE: 1, AI_CANONNAME: 2, AI_NUMERICHOST: 4, AI_ALL: 0x100, AI_ADDRCONFIG: 0x400, AI_V4MAPPED: 0x800,
  AI_NUMERICSERV: 0x1000, NI_NOFQDN: 1, NI_NUMERICHOST: 2, NI_NAMEREQD: 4, NI_NUMERICSERV: 8, NI_DGRAM: 0x10,
  NI_MAXHOST: 1025, NI_MAXSERV: 32, EAI_ADDRFAMILY: 1, EAI_AGAIN: 2, EAI_BADFLAGS: 3, EAI_FAIL: 4, EAI_FAMILY: 5,
  EAI_MEMORY: 6, EAI_NODATA: 7, EAI_NONAME: 8, EAI_SERVICE: 9, EAI_SOCKTYPE: 10, EAI_SYSTEM: 11, EAI_OVERFLOW: 14,
};
const FREEBSD_NETDB: Table = { ...DARWIN_NETDB, AI_NUMERICSERV: 8, EAI_ADDRFAMILY: undefined, EAI_NODATA: undefined };

// fcntl.h, sys/resource.h.
const LINUX_FCNTL: Table = {
  F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, F_DUPFD_CLOEXEC: 1030, FD_CLOEXEC: 1, O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000, RLIMIT_NOFILE: 7,
};
const DARWIN_FCNTL: Table = { ...LINUX_FCNTL, F_DUPFD_CLOEXEC: 67, O_NONBLOCK: 4, O_CLOEXEC: 0x1000000, RLIMIT_NOFILE: 8 };
// FreeBSD's sys/fcntl.h: F_DUP2FD_CLOEXEC 18 (Rust libc: src/unix/bsd/freebsdlike/freebsd/mod.rs).
const FREEBSD_FCNTL: Table = {
  ...LINUX_FCNTL, F_DUPFD_CLOEXEC: 17, F_DUP2FD_CLOEXEC: 18, O_NONBLOCK: 4, O_CLOEXEC: 0x100000, RLIMIT_NOFILE: 8,
};

// poll.h: BSD's POLLWRNORM is POLLOUT; no POLLMSG/POLLRDHUP (FreeBSD ≥ 14 adds POLLRDHUP 0x4000, not used).
const LINUX_POLL: Table = {
  POLLIN: 1, POLLPRI: 2, POLLOUT: 4, POLLERR: 8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40, POLLRDBAND: 0x80,
  POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400, POLLRDHUP: 0x2000,
};
const BSD_POLL: Table = { ...LINUX_POLL, POLLWRNORM: 4, POLLWRBAND: 0x100, POLLMSG: undefined, POLLRDHUP: undefined };

// sys/event.h (libkqueue's on Linux).
const KQUEUE: Table = {
  EVFILT_READ: -1, EVFILT_WRITE: -2, EVFILT_AIO: -3, EVFILT_VNODE: -4, EVFILT_PROC: -5, EVFILT_SIGNAL: -6,
  EVFILT_TIMER: -7, EV_ADD: 1, EV_DELETE: 2, EV_ENABLE: 4, EV_DISABLE: 8, EV_ONESHOT: 0x10, EV_CLEAR: 0x20,
  EV_SYSFLAGS: 0xf000, EV_FLAG1: 0x2000, EV_EOF: 0x8000, EV_ERROR: 0x4000, NOTE_LOWAT: 1, NOTE_DELETE: 1,
  NOTE_WRITE: 2, NOTE_EXTEND: 4, NOTE_ATTRIB: 8, NOTE_LINK: 0x10, NOTE_RENAME: 0x20, NOTE_REVOKE: 0x40,
  NOTE_EXIT: 0x80000000, NOTE_FORK: 0x40000000, NOTE_EXEC: 0x20000000, NOTE_PCTRLMASK: 0xf0000000,
  NOTE_PDATAMASK: 0x000fffff, NOTE_TRACK: 1, NOTE_TRACKERR: 2, NOTE_CHILD: 4,
};
// Darwin: NOTE_PCTRLMASK is ~NOTE_PDATAMASK; no process tracking (NOTE_TRACK & co.).
const DARWIN_KQUEUE: Table = { ...KQUEUE, NOTE_PCTRLMASK: 0xfff00000, NOTE_TRACK: undefined, NOTE_TRACKERR: undefined, NOTE_CHILD: undefined };

const EXPECTED: Record<string, { errno: Table; socket: Table; netdb: Table; fcntl: Table; poll: Table; kqueue: Table;
  libc: Array<string | null>; pipeBuf: number; sunPath: number; lengthByte: boolean; kevent: number }> = {
  linux: { errno: LINUX_ERRNO, socket: LINUX_SOCKET, netdb: LINUX_NETDB, fcntl: LINUX_FCNTL, poll: LINUX_POLL,
    kqueue: KQUEUE, libc: ['libc.so.6', null], pipeBuf: 4096, sunPath: 108, lengthByte: false, kevent: 32 },
  darwin: { errno: DARWIN_ERRNO, socket: DARWIN_SOCKET, netdb: DARWIN_NETDB, fcntl: DARWIN_FCNTL, poll: BSD_POLL,
    kqueue: DARWIN_KQUEUE, libc: ['/usr/lib/libSystem.B.dylib'], pipeBuf: 512, sunPath: 104, lengthByte: true, kevent: 32 },
  freebsd: { errno: FREEBSD_ERRNO, socket: FREEBSD_SOCKET, netdb: FREEBSD_NETDB, fcntl: FREEBSD_FCNTL, poll: BSD_POLL,
    kqueue: KQUEUE, libc: ['libc.so.7'], pipeBuf: 512, sunPath: 104, lengthByte: true, kevent: 64 },
};

function table(abi: PlatformAbi): PlatformAbi {
  assert.ok(abi);
  return abi;
}

function checkValues(actual: object, expected: Table, what: string): void {
  const a = actual as Table;
  for (const [name, value] of Object.entries(expected)) assert.equal(a[name], value, `${what}.${name}`);
  // Nothing in the table that this copy does not also state (a value added there must be written down here).
  for (const [name, value] of Object.entries(a)) {
    if (what === 'errno' || typeof value === 'object') continue; // errno: a subset here; objects: layouts, below
    assert.ok(name in expected, `${what}.${name} is in the table but not written down in this test`);
  }
}

// The C declarations, as the headers spell them, for koffi to lay out (LP64, natural alignment).
const uint8 = 'uint8_t';
const C_STRUCTS = {
  linux: {
    sockaddr_in: koffi.struct({ sin_family: 'uint16_t', sin_port: 'uint16_t', sin_addr: 'uint32_t', sin_zero: koffi.array(uint8, 8) }),
    sockaddr_in6: koffi.struct({ sin6_family: 'uint16_t', sin6_port: 'uint16_t', sin6_flowinfo: 'uint32_t', sin6_addr: koffi.array(uint8, 16), sin6_scope_id: 'uint32_t' }),
    sockaddr_un: koffi.struct({ sun_family: 'uint16_t', sun_path: koffi.array('char', 108) }),
    timeval: koffi.struct({ tv_sec: 'int64_t', tv_usec: 'int64_t' }),
    fd_set: koffi.struct({ fds_bits: koffi.array('unsigned long', 16) }),
    kevent: koffi.struct({ ident: 'uintptr_t', filter: 'int16_t', flags: 'uint16_t', fflags: 'uint32_t', data: 'intptr_t', udata: 'void *' }),
    msghdr: koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: 'void *', iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' }),
    cmsghdr: koffi.struct({ len: 'size_t', level: 'int', type: 'int' }),
  },
  darwin: {
    sockaddr_in: koffi.struct({ sin_len: uint8, sin_family: uint8, sin_port: 'uint16_t', sin_addr: 'uint32_t', sin_zero: koffi.array(uint8, 8) }),
    sockaddr_in6: koffi.struct({ sin6_len: uint8, sin6_family: uint8, sin6_port: 'uint16_t', sin6_flowinfo: 'uint32_t', sin6_addr: koffi.array(uint8, 16), sin6_scope_id: 'uint32_t' }),
    sockaddr_un: koffi.struct({ sun_len: uint8, sun_family: uint8, sun_path: koffi.array('char', 104) }),
    timeval: koffi.struct({ tv_sec: 'int64_t', tv_usec: 'int32_t' }), // __darwin_suseconds_t is int32
    fd_set: koffi.struct({ fds_bits: koffi.array('int32_t', 32) }),
    kevent: koffi.struct({ ident: 'uintptr_t', filter: 'int16_t', flags: 'uint16_t', fflags: 'uint32_t', data: 'intptr_t', udata: 'void *' }),
    msghdr: koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: 'void *', iovlen: 'int', control: 'void *', controllen: 'uint32_t', flags: 'int' }),
    cmsghdr: koffi.struct({ len: 'uint32_t', level: 'int', type: 'int' }),
  },
  freebsd: {
    sockaddr_in: koffi.struct({ sin_len: uint8, sin_family: uint8, sin_port: 'uint16_t', sin_addr: 'uint32_t', sin_zero: koffi.array(uint8, 8) }),
    sockaddr_in6: koffi.struct({ sin6_len: uint8, sin6_family: uint8, sin6_port: 'uint16_t', sin6_flowinfo: 'uint32_t', sin6_addr: koffi.array(uint8, 16), sin6_scope_id: 'uint32_t' }),
    sockaddr_un: koffi.struct({ sun_len: uint8, sun_family: uint8, sun_path: koffi.array('char', 104) }),
    timeval: koffi.struct({ tv_sec: 'int64_t', tv_usec: 'long' }),
    fd_set: koffi.struct({ fds_bits: koffi.array('unsigned long', 16) }),
    kevent: koffi.struct({ ident: 'uintptr_t', filter: 'int16_t', flags: 'uint16_t', fflags: 'uint32_t', data: 'int64_t', udata: 'void *', ext: koffi.array('uint64_t', 4) }),
    msghdr: koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: 'void *', iovlen: 'int', control: 'void *', controllen: 'uint32_t', flags: 'int' }),
    cmsghdr: koffi.struct({ len: 'uint32_t', level: 'int', type: 'int' }),
  },
};
const IOVEC = koffi.struct({ base: 'void *', len: 'size_t' });

for (const [platform, arch] of PLATFORMS) {
  describe(`${platform}/${arch}`, () => {
    const abi = table(abiFor(platform, arch)!);
    const want = EXPECTED[platform]!;
    const structs = C_STRUCTS[platform];

    test('identity, C library and symbol lookup', () => {
      assert.equal(abi.platform, platform);
      assert.equal(abi.arch, arch);
      assert.deepEqual(abi.libc, want.libc);
      assert.equal(abi.nodeSymbols, 'self');
      assert.equal(abi.kqueueSource, platform === 'linux' ? 'libkqueue' : 'libc');
      // glibc's <bits/dlfcn.h>: RTLD_NOW 0x00002, RTLD_NOLOAD 0x00004, RTLD_NODELETE 0x01000.
      assert.equal(abi.libkqueuePin, platform === 'linux' ? 0x1006 : null);
      assert.deepEqual(abi.limits, { FD_SETSIZE: 1024, PIPE_BUF: want.pipeBuf });
    });

    test('errno (by name: EAGAIN is 11 on Linux, 35 on the BSDs)', () => checkValues(abi.errno, want.errno, 'errno'));

    test("every errno name src/errors.ts picks an OSError subclass by exists in this table", () => {
      // errors.ts maps names (['EAGAIN', 'EWOULDBLOCK', …] → BlockingIOError) to this table's numbers.
      const source = readFileSync(join(PACKAGE_ROOT, 'src', 'errors.ts'), 'utf8');
      const names = [...source.matchAll(/\[\[([^\]]+)\],\s*\w+Error\]/g)].flatMap((m) => [...m[1]!.matchAll(/'(E[A-Z]+)'/g)].map((n) => n[1]!));
      assert.ok(names.length >= 15, `${names.length} names found in errors.ts`);
      for (const name of names) assert.equal(typeof abi.errno[name], 'number', name);
    });
    test('socket constants', () => checkValues(abi.socket, want.socket, 'socket'));
    test('netdb constants', () => checkValues(abi.netdb, want.netdb, 'netdb'));
    test('fcntl constants', () => checkValues(abi.fcntl, want.fcntl, 'fcntl'));
    test('poll constants', () => checkValues(abi.poll, want.poll, 'poll'));
    test('kqueue constants', () => checkValues(abi.kqueue, want.kqueue, 'kqueue'));

    test('struct layouts, as koffi lays out the C declarations', () => {
      const L = abi.layout;
      assert.equal(L.sockaddr.lengthByte, want.lengthByte);
      assert.equal(L.sockaddr.inBytes, koffi.sizeof(structs.sockaddr_in));
      assert.equal(L.sockaddr.in6Bytes, koffi.sizeof(structs.sockaddr_in6));
      assert.equal(L.sockaddr.sunPathBytes, want.sunPath);
      assert.equal(L.sockaddr.sunPathOffset, koffi.offsetof(structs.sockaddr_un, 'sun_path'));
      assert.equal(L.sockaddr.sunPathOffset + L.sockaddr.sunPathBytes, koffi.sizeof(structs.sockaddr_un));
      assert.equal(L.sockaddr.storageBytes, 128);
      assert.equal(L.addrinfoCanonnameFirst, platform !== 'linux');
      assert.equal(L.timeval.bytes, koffi.sizeof(structs.timeval));
      assert.equal(L.timeval.usecAt, koffi.offsetof(structs.timeval, 'tv_usec'));
      assert.equal(L.timeval.usecBytes, platform === 'darwin' ? 4 : 8);
      assert.equal(L.timespec.bytes, 16);
      assert.equal(L.timespec.nsecAt, 8);
      assert.equal(L.fdSet.bytes, koffi.sizeof(structs.fd_set));
      assert.equal(L.fdSet.wordBytes, platform === 'darwin' ? 4 : 8);
      assert.deepEqual(L.pollfd, { bytes: 8, fd: 0, events: 4, revents: 6 });
      const k = structs.kevent;
      assert.equal(L.kevent.bytes, want.kevent);
      assert.equal(L.kevent.bytes, koffi.sizeof(k));
      for (const field of ['ident', 'filter', 'flags', 'fflags', 'data', 'udata'] as const) {
        assert.equal(L.kevent[field], koffi.offsetof(k, field), `kevent.${field}`);
      }
      // sendmsg/recvmsg: struct msghdr, struct iovec, struct cmsghdr; CMSG_ALIGN's unit (sizeof(size_t) on Linux,
      // __DARWIN_ALIGN32's 4 on macOS, sizeof(long) on FreeBSD).
      const m = structs.msghdr;
      const c = structs.cmsghdr;
      assert.deepEqual(abi.layout.msg, {
        msghdrBytes: koffi.sizeof(m), nameAt: koffi.offsetof(m, 'name'), namelenAt: koffi.offsetof(m, 'namelen'),
        iovAt: koffi.offsetof(m, 'iov'), iovlenAt: koffi.offsetof(m, 'iovlen'), iovlenBytes: platform === 'linux' ? 8 : 4,
        controlAt: koffi.offsetof(m, 'control'), controllenAt: koffi.offsetof(m, 'controllen'),
        controllenBytes: platform === 'linux' ? 8 : 4, flagsAt: koffi.offsetof(m, 'flags'),
        iovecBytes: koffi.sizeof(IOVEC), iovBaseAt: koffi.offsetof(IOVEC, 'base'), iovLenAt: koffi.offsetof(IOVEC, 'len'), iovLenBytes: 8,
        cmsghdrBytes: koffi.sizeof(c), cmsgLenBytes: platform === 'linux' ? 8 : 4, cmsgLevelAt: koffi.offsetof(c, 'level'),
        cmsgTypeAt: koffi.offsetof(c, 'type'), cmsgAlign: platform === 'darwin' ? 4 : 8,
      });
      if (platform === 'linux') {
        // x86_64 packs struct epoll_event (12 bytes, data at 4); aarch64 aligns it (16, data at 8).
        const packed = arch === 'x64';
        const ev = packed ? koffi.pack({ events: 'uint32_t', data: 'uint64_t' }) : koffi.struct({ events: 'uint32_t', data: 'uint64_t' });
        assert.deepEqual(L.epollEvent, { bytes: koffi.sizeof(ev), events: 0, data: koffi.offsetof(ev, 'data') });
        assert.deepEqual(L.epollEvent, packed ? { bytes: 12, events: 0, data: 4 } : { bytes: 16, events: 0, data: 8 });
      } else {
        assert.equal(L.epollEvent, null);
      }
    });
  });
}

describe('the running platform', () => {
  test("this machine's table agrees with koffi's errno list (taken from this machine's headers)", () => {
    const abi = abiFor(process.platform, process.arch)!;
    const theirs = koffi.os.errno as Record<string, number>;
    for (const [name, value] of Object.entries(abi.errno)) {
      if (name in theirs) assert.equal(value, theirs[name], name);
    }
    assert.ok(Object.keys(abi.errno).filter((n) => n in theirs).length >= 40, 'most names are checked');
  });

  test('an unsupported platform fails at import with one error naming it', () => {
    assert.equal(abiFor('win32', 'x64'), null);
    assert.equal(abiFor('linux', 'ia32'), null);
    assert.equal(abiFor('aix', 'ppc64'), null);
    const fake = "Object.defineProperty(process, 'platform', { value: 'win32' });";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${fake} await import('iomux/select');`], {
      cwd: PACKAGE_ROOT, encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`Error: iomux does not support win32/${process.arch}: it runs on Linux, macOS and FreeBSD`));
  });
});
