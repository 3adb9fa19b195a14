/**
 * io_uring's kernel ABI: the system call numbers, the values and the struct layouts of <linux/io_uring.h>
 * (the kernel's include/uapi/linux/io_uring.h; liburing ships a copy as src/include/liburing/io_uring.h, read
 * at liburing commit 27255f4c). Plain data, no koffi: test/uring-abi.test.ts holds a second, independent copy
 * of every value with the header line it comes from, and recomputes each layout from its C declaration.
 *
 * The layouts are the same on x86_64 and aarch64 (fixed-width __u8/__u16/__u32/__u64 fields, natural
 * alignment); the system call numbers too: io_uring came after the architectures' tables were unified
 * (arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h both give 425, 426, 427).
 */

export const URING_ABI = Object.freeze({
  syscalls: { setup: 425, enter: 426, register: 427 },
  /** <asm-generic/mman-common.h>, <asm-generic/mman.h>: PROT_READ | PROT_WRITE, MAP_SHARED, MAP_POPULATE. */
  mman: { PROT_READ_WRITE: 0x3, MAP_SHARED: 0x01, MAP_POPULATE: 0x8000 },
  /** mmap(2) offsets that select which of the ring's regions is mapped (IORING_OFF_*). */
  mmapOffsets: { SQ_RING: 0, CQ_RING: 0x8000000, SQES: 0x10000000 },

  /** struct io_uring_params: 120 bytes; sq_off (40 bytes) at 40 and cq_off (40 bytes) at 80. */
  params: {
    bytes: 120, sqEntries: 0, cqEntries: 4, flags: 8, sqThreadCpu: 12, sqThreadIdle: 16, features: 20, wqFd: 24,
    sqOff: 40, cqOff: 80,
  },
  /** struct io_sqring_offsets, relative to params.sqOff. */
  sqOff: { head: 0, tail: 4, ringMask: 8, ringEntries: 12, flags: 16, dropped: 20, array: 24, userAddr: 32 },
  /** struct io_cqring_offsets, relative to params.cqOff. */
  cqOff: { head: 0, tail: 4, ringMask: 8, ringEntries: 12, overflow: 16, cqes: 20, flags: 24, userAddr: 32 },

  /** struct io_uring_sqe: 64 bytes (without IORING_SETUP_SQE128). The unions are named by what iomux puts there. */
  sqe: {
    bytes: 64, opcode: 0, flags: 1, ioprio: 2, fd: 4, off: 8, addr: 16, len: 24, opFlags: 28, userData: 32,
    bufGroup: 40, personality: 42, fileIndex: 44, addr3: 48,
  },
  /** struct io_uring_cqe: 16 bytes (without IORING_SETUP_CQE32). */
  cqe: { bytes: 16, userData: 0, res: 8, flags: 12 },
  /** struct io_uring_buf: 16 bytes; a buffer ring is an array of them whose tail overlays bufs[0].resv. */
  buf: { bytes: 16, addr: 0, len: 8, bid: 12, ringTail: 14 },
  /** struct io_uring_buf_reg: 40 bytes, the argument of IORING_(UN)REGISTER_PBUF_RING. */
  bufReg: { bytes: 40, ringAddr: 0, ringEntries: 8, bgid: 12, flags: 14 },
  /** struct io_uring_getevents_arg: 24 bytes, io_uring_enter's argument with IORING_ENTER_EXT_ARG. */
  geteventsArg: { bytes: 24, sigmask: 0, sigmaskSz: 8, minWaitUsec: 12, ts: 16 },
  /** struct __kernel_timespec { __s64 tv_sec; long long tv_nsec; }. */
  timespec: { bytes: 16, sec: 0, nsec: 8 },

  /** enum io_uring_op (the position in the enum is the value). */
  op: {
    NOP: 0, READV: 1, WRITEV: 2, POLL_ADD: 6, POLL_REMOVE: 7, SENDMSG: 9, RECVMSG: 10, TIMEOUT: 11,
    TIMEOUT_REMOVE: 12, ACCEPT: 13, ASYNC_CANCEL: 14, CLOSE: 19, READ: 22, WRITE: 23, SEND: 26, RECV: 27,
    READ_MULTISHOT: 49,
  },
  /** IOSQE_* (sqe.flags). */
  sqeFlags: { FIXED_FILE: 1, IO_DRAIN: 2, IO_LINK: 4, IO_HARDLINK: 8, ASYNC: 16, BUFFER_SELECT: 32, CQE_SKIP_SUCCESS: 64 },
  /** IORING_SETUP_* (params.flags). */
  setup: { CQSIZE: 1 << 3, CLAMP: 1 << 4, SUBMIT_ALL: 1 << 7, COOP_TASKRUN: 1 << 8, SINGLE_ISSUER: 1 << 12, DEFER_TASKRUN: 1 << 13 },
  /** IORING_FEAT_* (params.features). */
  feat: { SINGLE_MMAP: 1 << 0, NODROP: 1 << 1, SUBMIT_STABLE: 1 << 2, RW_CUR_POS: 1 << 3, FAST_POLL: 1 << 5, EXT_ARG: 1 << 8 },
  /** IORING_ENTER_* (io_uring_enter's flags). */
  enter: { GETEVENTS: 1 << 0, EXT_ARG: 1 << 3 },
  /** enum io_uring_register_op. */
  register: { PROBE: 8, PBUF_RING: 22, UNREGISTER_PBUF_RING: 23 },
  /** IORING_CQE_F_* (cqe.flags) and IORING_CQE_BUFFER_SHIFT. */
  cqeFlags: { BUFFER: 1 << 0, MORE: 1 << 1, SOCK_NONEMPTY: 1 << 2, NOTIF: 1 << 3, BUFFER_SHIFT: 16 },
  /** IORING_SQ_* (the SQ ring's flags word). */
  sqRingFlags: { NEED_WAKEUP: 1 << 0, CQ_OVERFLOW: 1 << 1, TASKRUN: 1 << 2 },
  /** Per-operation flags: accept's go in sqe.ioprio, recv's in sqe.ioprio, poll's in sqe.len, cancel's in opFlags. */
  accept: { MULTISHOT: 1 << 0 },
  recv: { POLL_FIRST: 1 << 0, MULTISHOT: 1 << 1 },
  poll: { ADD_MULTI: 1 << 0 },
  cancel: { ALL: 1 << 0, FD: 1 << 1, ANY: 1 << 2 },
  timeout: { ABS: 1 << 0 },
  /** The most entries io_uring_setup accepts (IORING_MAX_ENTRIES) and a provided-buffer ring may hold. */
  limits: { MAX_ENTRIES: 32768, MAX_CQ_ENTRIES: 65536, MAX_BUF_RING_ENTRIES: 32768 },
});

export type UringAbi = typeof URING_ABI;
