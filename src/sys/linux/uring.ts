/**
 * io_uring's system calls through glibc's syscall(2). syscall is variadic; it is bound here with fixed
 * prototypes because on both Linux ABIs iomux runs on an integer argument travels in the same register or
 * stack slot whether it is named or variadic (x86_64 SysV, AArch64 AAPCS64 as Linux uses it), and glibc's
 * syscall is an assembly routine that only moves those registers into the kernel's.
 */
import { readFileSync } from 'node:fs';
import type { NativeContext, UringNatives } from '../abi.js';
import { URING_ABI } from './uring-abi.js';

export function bindUring({ koffi, libc, orErrno, errno }: NativeContext): UringNatives {
  const { syscalls, mman } = URING_ABI;
  const setupCall = libc.func('long syscall(long, unsigned int, void *)') as (nr: number, entries: number, params: Uint8Array) => number;
  const enterCall = libc.func('long syscall(long, int, unsigned int, unsigned int, unsigned int, void *, size_t)') as (
    nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, arg: Uint8Array | null, argBytes: number) => number;
  const registerCall = libc.func('long syscall(long, int, unsigned int, void *, unsigned int)') as (
    nr: number, fd: number, op: number, arg: Uint8Array | null, nrArgs: number) => number;
  const mmap = libc.func('void *mmap(void *, size_t, int, int, int, int64_t)') as (
    addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  const munmap = libc.func('int munmap(void *, size_t)') as (addr: unknown, len: number) => number;
  // memset(p, 0, 0) writes nothing and returns p: the address koffi passed for a byte array.
  const identity = libc.func('intptr_t memset(void *, int, size_t)') as (p: Uint8Array, c: number, n: number) => number;
  const MAP_FAILED = 0xffffffffffffffffn;

  return {
    abi: URING_ABI,
    setup: (entries, params) => orErrno(setupCall(syscalls.setup, entries, params)),
    enter: (fd, toSubmit, minComplete, flags, arg, argBytes) => orErrno(enterCall(syscalls.enter, fd, toSubmit, minComplete, flags, arg, argBytes)),
    register: (fd, op, arg, nrArgs) => orErrno(registerCall(syscalls.register, fd, op, arg, nrArgs)),
    mapRing: (fd, offset, bytes) => {
      const p = mmap(null, bytes, mman.PROT_READ_WRITE, mman.MAP_SHARED | mman.MAP_POPULATE, fd, offset);
      if (p === null || koffi.address(p) === MAP_FAILED) return -errno();
      let mapped = true;
      return {
        memory: koffi.view(p, bytes),
        unmap: () => {
          if (mapped) munmap(p, bytes);
          mapped = false;
        },
      };
    },
    addressOf: (bytes) => identity(bytes, 0, 0),
    disabledSysctl: () => {
      try {
        return Number.parseInt(readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8'), 10);
      } catch {
        return null;
      }
    },
  };
}
