/**
 * Run by uring.test.ts in its own process: installs a seccomp filter that refuses io_uring_setup with EPERM
 * (as Docker's default profile does) on this thread, then asks iomux/uring whether io_uring is there and
 * tries to create a ring. Prints what it saw.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const SockFilter = koffi.struct('sock_filter', { code: 'uint16_t', jt: 'uint8_t', jf: 'uint8_t', k: 'uint32_t' });
const SockFprog = koffi.struct('sock_fprog', { len: 'uint16_t', filter: koffi.pointer(SockFilter) });
const prctl = libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
const prctlFilter = libc.func('int prctl(int, unsigned long, const sock_fprog *)');

// <linux/audit.h> AUDIT_ARCH_X86_64 0xC000003E, AUDIT_ARCH_AARCH64 0xC00000B7; <linux/filter.h> BPF_LD|BPF_W|BPF_ABS 0x20,
// BPF_JMP|BPF_JEQ|BPF_K 0x15, BPF_RET|BPF_K 0x06; <linux/seccomp.h> SECCOMP_RET_ERRNO 0x00050000, SECCOMP_RET_ALLOW 0x7fff0000.
const arch = process.arch === 'x64' ? 0xc000003e : 0xc00000b7;
const filter = [
  { code: 0x20, jt: 0, jf: 0, k: 4 }, // A = seccomp_data.arch
  { code: 0x15, jt: 0, jf: 3, k: arch },
  { code: 0x20, jt: 0, jf: 0, k: 0 }, // A = seccomp_data.nr
  { code: 0x15, jt: 0, jf: 1, k: 425 }, // io_uring_setup
  { code: 0x06, jt: 0, jf: 0, k: 0x00050000 | 1 }, // EPERM
  { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
];
if (prctl(38, 1, 0, 0, 0) !== 0) throw new Error('PR_SET_NO_NEW_PRIVS failed'); // PR_SET_NO_NEW_PRIVS
if (prctlFilter(22, 2, { len: filter.length, filter }) !== 0) throw new Error('PR_SET_SECCOMP failed'); // PR_SET_SECCOMP, SECCOMP_MODE_FILTER

const { hasUring, uringUnavailableReason, IoUring } = await import('iomux/uring');
console.log(`hasUring ${hasUring()}`);
console.log(`reason ${uringUnavailableReason()}`);
try {
  new IoUring(4);
  console.log('created?!');
} catch (err) {
  console.log(`${(err as Error).name} ${(err as Error).message}`);
}
