/**
 * io_uring's kernel ABI as src/sys/linux/uring-abi.ts writes it down, checked against a second, independent
 * copy taken from the headers line by line — liburing's src/include/liburing/io_uring.h (the kernel's
 * include/uapi/linux/io_uring.h) at liburing commit 27255f4ceda937b3540e425ed58284f5c03c8ad4, and for the
 * system call numbers and mmap values the kernel's asm/unistd_64.h, asm-generic/unistd.h and
 * asm-generic/mman-common.h — and every struct layout recomputed from its C declaration with koffi.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import koffi, { type TypeObject } from 'koffi';
import { URING_ABI } from '../src/sys/linux/uring-abi.js';

describe('io_uring ABI table', () => {
  test('system calls and mmap values', () => {
    // asm/unistd_64.h:340-342 and asm-generic/unistd.h:827-831: __NR_io_uring_setup 425, _enter 426, _register 427.
    assert.deepEqual(URING_ABI.syscalls, { setup: 425, enter: 426, register: 427 });
    // mman-common.h:10-11 PROT_READ 0x1, PROT_WRITE 0x2; mman.h (bits/mman-linux.h:42) MAP_SHARED 0x01; mman-common.h:26 MAP_POPULATE 0x008000.
    assert.deepEqual(URING_ABI.mman, { PROT_READ_WRITE: 0x1 | 0x2, MAP_SHARED: 0x01, MAP_POPULATE: 0x008000 });
    // io_uring.h:537-539 IORING_OFF_SQ_RING 0ULL, IORING_OFF_CQ_RING 0x8000000ULL, IORING_OFF_SQES 0x10000000ULL.
    assert.deepEqual(URING_ABI.mmapOffsets, { SQ_RING: 0, CQ_RING: 0x8000000, SQES: 0x10000000 });
  });

  test('opcodes: their positions in enum io_uring_op (io_uring.h:249-317)', () => {
    // io_uring.h:250 NOP, 251 READV, 252 WRITEV, 256 POLL_ADD, 257 POLL_REMOVE, 259 SENDMSG, 260 RECVMSG, 261 TIMEOUT,
    // 262 TIMEOUT_REMOVE, 263 ACCEPT, 264 ASYNC_CANCEL, 269 CLOSE, 272 READ, 273 WRITE, 276 SEND, 277 RECV,
    // 299 READ_MULTISHOT: value = line - 250.
    const lines = { NOP: 250, READV: 251, WRITEV: 252, POLL_ADD: 256, POLL_REMOVE: 257, SENDMSG: 259, RECVMSG: 260, TIMEOUT: 261,
      TIMEOUT_REMOVE: 262, ACCEPT: 263, ASYNC_CANCEL: 264, CLOSE: 269, READ: 272, WRITE: 273, SEND: 276, RECV: 277, READ_MULTISHOT: 299 };
    assert.deepEqual(URING_ABI.op, Object.fromEntries(Object.entries(lines).map(([k, line]) => [k, line - 250])));
  });

  test('flags', () => {
    // io_uring.h:138-163: IOSQE_*_BIT 0..6 in order FIXED_FILE, IO_DRAIN, IO_LINK, IO_HARDLINK, ASYNC, BUFFER_SELECT, CQE_SKIP_SUCCESS.
    assert.deepEqual(URING_ABI.sqeFlags, { FIXED_FILE: 1, IO_DRAIN: 2, IO_LINK: 4, IO_HARDLINK: 8, ASYNC: 16, BUFFER_SELECT: 32, CQE_SKIP_SUCCESS: 64 });
    // io_uring.h:171 CQSIZE 1<<3, 172 CLAMP 1<<4, 175 SUBMIT_ALL 1<<7, 183 COOP_TASKRUN 1<<8, 196 SINGLE_ISSUER 1<<12, 203 DEFER_TASKRUN 1<<13.
    assert.deepEqual(URING_ABI.setup, { CQSIZE: 8, CLAMP: 16, SUBMIT_ALL: 128, COOP_TASKRUN: 256, SINGLE_ISSUER: 4096, DEFER_TASKRUN: 8192 });
    // io_uring.h:616-624 IORING_FEAT_SINGLE_MMAP 1<<0, NODROP 1<<1, SUBMIT_STABLE 1<<2, RW_CUR_POS 1<<3, FAST_POLL 1<<5, EXT_ARG 1<<8.
    assert.deepEqual(URING_ABI.feat, { SINGLE_MMAP: 1, NODROP: 2, SUBMIT_STABLE: 4, RW_CUR_POS: 8, FAST_POLL: 32, EXT_ARG: 256 });
    // io_uring.h:588 IORING_ENTER_GETEVENTS 1<<0, 591 IORING_ENTER_EXT_ARG 1<<3.
    assert.deepEqual(URING_ABI.enter, { GETEVENTS: 1, EXT_ARG: 8 });
    // io_uring.h:647 IORING_REGISTER_PROBE = 8, 671 IORING_REGISTER_PBUF_RING = 22, 672 IORING_UNREGISTER_PBUF_RING = 23.
    assert.deepEqual(URING_ABI.register, { PROBE: 8, PBUF_RING: 22, UNREGISTER_PBUF_RING: 23 });
    // io_uring.h:524-527 IORING_CQE_F_BUFFER 1<<0, MORE 1<<1, SOCK_NONEMPTY 1<<2, NOTIF 1<<3; 532 IORING_CQE_BUFFER_SHIFT 16.
    assert.deepEqual(URING_ABI.cqeFlags, { BUFFER: 1, MORE: 2, SOCK_NONEMPTY: 4, NOTIF: 8, BUFFER_SHIFT: 16 });
    // io_uring.h:562-564 IORING_SQ_NEED_WAKEUP 1<<0, CQ_OVERFLOW 1<<1, TASKRUN 1<<2.
    assert.deepEqual(URING_ABI.sqRingFlags, { NEED_WAKEUP: 1, CQ_OVERFLOW: 2, TASKRUN: 4 });
    // io_uring.h:446 IORING_ACCEPT_MULTISHOT 1<<0; 427-428 IORING_RECVSEND_POLL_FIRST 1<<0, IORING_RECV_MULTISHOT 1<<1;
    // 370 IORING_POLL_ADD_MULTI 1<<0; 386-388 IORING_ASYNC_CANCEL_ALL 1<<0, _FD 1<<1, _ANY 1<<2; 341 IORING_TIMEOUT_ABS 1<<0.
    assert.deepEqual(URING_ABI.accept, { MULTISHOT: 1 });
    assert.deepEqual(URING_ABI.recv, { POLL_FIRST: 1, MULTISHOT: 2 });
    assert.deepEqual(URING_ABI.poll, { ADD_MULTI: 1 });
    assert.deepEqual(URING_ABI.cancel, { ALL: 1, FD: 2, ANY: 4 });
    assert.deepEqual(URING_ABI.timeout, { ABS: 1 });
    // io_uring/io_uring.h (kernel, not uapi): IORING_MAX_ENTRIES 32768, IORING_MAX_CQ_ENTRIES 2 * IORING_MAX_ENTRIES;
    // io_uring/kbuf.c: a buffer ring's ring_entries must be a power of two below 65536.
    assert.deepEqual(URING_ABI.limits, { MAX_ENTRIES: 32768, MAX_CQ_ENTRIES: 65536, MAX_BUF_RING_ENTRIES: 32768 });
  });

  test('struct layouts, recomputed from the C declarations', () => {
    const u8 = 'uint8_t', u16 = 'uint16_t', u32 = 'uint32_t', u64 = 'uint64_t', s32 = 'int32_t';
    // io_uring.h:30-128 struct io_uring_sqe (each union as its widest member).
    const sqe = koffi.struct('h5_sqe', { opcode: u8, flags: u8, ioprio: u16, fd: s32, off: u64, addr: u64, len: u32, opFlags: u32,
      userData: u64, bufGroup: u16, personality: u16, fileIndex: u32, addr3: u64, pad2: u64 });
    const at = (t: TypeObject, f: string): number => koffi.offsetof(t, f);
    assert.deepEqual(URING_ABI.sqe, { bytes: koffi.sizeof(sqe), opcode: at(sqe, 'opcode'), flags: at(sqe, 'flags'), ioprio: at(sqe, 'ioprio'),
      fd: at(sqe, 'fd'), off: at(sqe, 'off'), addr: at(sqe, 'addr'), len: at(sqe, 'len'), opFlags: at(sqe, 'opFlags'),
      userData: at(sqe, 'userData'), bufGroup: at(sqe, 'bufGroup'), personality: at(sqe, 'personality'), fileIndex: at(sqe, 'fileIndex'),
      addr3: at(sqe, 'addr3') });
    assert.equal(URING_ABI.sqe.bytes, 64);
    // io_uring.h:488-497 struct io_uring_cqe { __u64 user_data; __s32 res; __u32 flags; }.
    const cqe = koffi.struct('h5_cqe', { userData: u64, res: s32, flags: u32 });
    assert.deepEqual(URING_ABI.cqe, { bytes: koffi.sizeof(cqe), userData: 0, res: at(cqe, 'res'), flags: at(cqe, 'flags') });
    // io_uring.h:547-557 struct io_sqring_offsets; 566-575 struct io_cqring_offsets.
    const sqOff = koffi.struct('h5_sqoff', { head: u32, tail: u32, ringMask: u32, ringEntries: u32, flags: u32, dropped: u32, array: u32, resv1: u32, userAddr: u64 });
    const cqOff = koffi.struct('h5_cqoff', { head: u32, tail: u32, ringMask: u32, ringEntries: u32, overflow: u32, cqes: u32, flags: u32, resv1: u32, userAddr: u64 });
    for (const f of Object.keys(URING_ABI.sqOff)) assert.equal(URING_ABI.sqOff[f as keyof typeof URING_ABI.sqOff], at(sqOff, f), `sq_off.${f}`);
    for (const f of Object.keys(URING_ABI.cqOff)) assert.equal(URING_ABI.cqOff[f as keyof typeof URING_ABI.cqOff], at(cqOff, f), `cq_off.${f}`);
    // io_uring.h:600-611 struct io_uring_params.
    const params = koffi.struct('h5_params', { sqEntries: u32, cqEntries: u32, flags: u32, sqThreadCpu: u32, sqThreadIdle: u32, features: u32,
      wqFd: u32, resv: koffi.array(u32, 3), sqOff, cqOff });
    const { bytes, ...fields } = URING_ABI.params;
    assert.equal(bytes, koffi.sizeof(params));
    for (const [f, v] of Object.entries(fields)) assert.equal(v, at(params, f), `params.${f}`);
    // io_uring.h:843-848 struct io_uring_buf; 850-864 struct io_uring_buf_ring (tail overlays bufs[0].resv at 14).
    const buf = koffi.struct('h5_buf', { addr: u64, len: u32, bid: u16, resv: u16 });
    assert.deepEqual(URING_ABI.buf, { bytes: koffi.sizeof(buf), addr: 0, len: at(buf, 'len'), bid: at(buf, 'bid'), ringTail: at(buf, 'resv') });
    // io_uring.h:889-896 struct io_uring_buf_reg.
    const reg = koffi.struct('h5_bufreg', { ringAddr: u64, ringEntries: u32, bgid: u16, flags: u16, minLeft: u32, resv: koffi.array(u32, 5) });
    assert.deepEqual(URING_ABI.bufReg, { bytes: koffi.sizeof(reg), ringAddr: 0, ringEntries: at(reg, 'ringEntries'), bgid: at(reg, 'bgid'), flags: at(reg, 'flags') });
    // io_uring.h:955-960 struct io_uring_getevents_arg.
    const arg = koffi.struct('h5_getevents', { sigmask: u64, sigmaskSz: u32, minWaitUsec: u32, ts: u64 });
    assert.deepEqual(URING_ABI.geteventsArg, { bytes: koffi.sizeof(arg), sigmask: 0, sigmaskSz: at(arg, 'sigmaskSz'), minWaitUsec: at(arg, 'minWaitUsec'), ts: at(arg, 'ts') });
    // <linux/time_types.h> struct __kernel_timespec { __kernel_time64_t tv_sec; long long tv_nsec; }.
    const ts = koffi.struct('h5_ts', { sec: 'int64_t', nsec: 'int64_t' });
    assert.deepEqual(URING_ABI.timespec, { bytes: koffi.sizeof(ts), sec: 0, nsec: at(ts, 'nsec') });
  });
});
