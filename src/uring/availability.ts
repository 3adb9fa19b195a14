/**
 * Whether this process can create an io_uring, and if not why: asked of the kernel once (a two-entry ring
 * created and closed), so the answer covers every reason at once — no io_uring in the kernel, the
 * kernel.io_uring_disabled sysctl, a seccomp filter or container policy, a kernel too old for what iomux uses.
 */
import { OSError } from '../errors.js';
import { close, ERRNO, hasUringNative, URING, URING_PARAMS_BYTES, uringDisabledSysctl, uringParamsInfo, uringSetup } from '../sys/index.js';

const { ENOSYS, EPERM, EINVAL } = ERRNO as Record<string, number>;

let answer: { errno: number; reason: string } | null | undefined;

/** True where `new IoUring()` can work: Linux with io_uring enabled for this process and recent enough (6.0). */
export function hasUring(): boolean {
  return probe() === null;
}

/** Why io_uring cannot be used here (a sentence), or null where it can. */
export function uringUnavailableReason(): string | null {
  return probe()?.reason ?? null;
}

/** The errno and reason `new IoUring()` raises with, or null. */
export function probe(): { errno: number; reason: string } | null {
  if (answer === undefined) answer = ask();
  return answer;
}

function ask(): { errno: number; reason: string } | null {
  if (!hasUringNative || URING === null) return { errno: ENOSYS!, reason: 'io_uring is a Linux interface: this platform has none' };
  const params = new Uint8Array(URING_PARAMS_BYTES);
  const fd = uringSetup(2, 0, URING.setup.SINGLE_ISSUER, params);
  if (fd < 0) return { errno: -fd, reason: unavailableReason(-fd, uringDisabledSysctl()) };
  const { features } = uringParamsInfo(params);
  close(fd);
  const { feat } = URING;
  const needed = feat.SINGLE_MMAP | feat.NODROP | feat.SUBMIT_STABLE | feat.RW_CUR_POS | feat.FAST_POLL | feat.EXT_ARG;
  if ((features & needed) !== needed) {
    return { errno: ENOSYS!, reason: `the kernel's io_uring lacks features iomux needs (features 0x${features.toString(16)}): Linux 6.0 or later is needed` };
  }
  return null;
}

/**
 * The sentence for an io_uring_setup failure with `errno`, given the kernel.io_uring_disabled sysctl (null
 * where the kernel has none). Exported for its tests: the sysctl cannot be changed under a test.
 */
export function unavailableReason(errno: number, disabledSysctl: number | null): string {
  if (errno === ENOSYS) return 'the kernel has no io_uring (io_uring_setup: ENOSYS; built without CONFIG_IO_URING?)';
  if (errno === EPERM) {
    if (disabledSysctl === 2) return 'io_uring is disabled on this system by the sysctl kernel.io_uring_disabled = 2';
    if (disabledSysctl === 1) {
      return 'io_uring is restricted by the sysctl kernel.io_uring_disabled = 1 to privileged processes and the group kernel.io_uring_group, and this process is neither';
    }
    return 'io_uring_setup was refused with EPERM: a seccomp filter or a container policy (e.g. Docker\'s default profile) blocks io_uring';
  }
  if (errno === EINVAL) return 'the kernel\'s io_uring is too old for iomux (IORING_SETUP_SINGLE_ISSUER refused): Linux 6.0 or later is needed';
  return `io_uring_setup failed: ${new OSError(errno).message}`;
}
