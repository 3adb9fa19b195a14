/**
 * The msghdr/iovec/cmsghdr tables of src/sys/msg-layout.ts against the values of the platform headers
 * (Linux <bits/socket.h>; macOS <sys/socket.h>, whose table cannot be run here and is checked only by this
 * test). The running platform's table is also checked against koffi's C layout when src/sys/msg.ts loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abiFor } from '../src/sys/platform.js';
import { cmsgDataAt, cmsgLen, cmsgSpace, msgLayoutOf, type MsgLayout } from '../src/sys/msg-layout.js';

function layout(platform: string, arch: string): MsgLayout {
  const abi = abiFor(platform, arch);
  assert.ok(abi, `${platform}/${arch} has a table`);
  return msgLayoutOf(abi);
}

test('Linux 64-bit: size_t lengths, 16-byte cmsghdr, 8-byte CMSG alignment', () => {
  const LINUX_64 = layout('linux', 'x64');
  assert.deepEqual(layout('linux', 'arm64'), { ...LINUX_64, platform: 'linux/arm64' });
  assert.equal(LINUX_64.msghdrBytes, 56);
  assert.deepEqual([LINUX_64.namelenAt, LINUX_64.iovAt, LINUX_64.iovlenAt, LINUX_64.controlAt, LINUX_64.controllenAt, LINUX_64.flagsAt], [8, 16, 24, 32, 40, 48]);
  assert.equal(LINUX_64.iovlenBytes, 8);
  assert.equal(LINUX_64.controllenBytes, 8);
  assert.equal(LINUX_64.cmsgLenBytes, 8);
  assert.equal(cmsgDataAt(LINUX_64), 16);
  // glibc: CMSG_LEN(4) == 20, CMSG_SPACE(4) == 24, CMSG_SPACE(1) == 24, CMSG_SPACE(12) == 32.
  assert.deepEqual([cmsgLen(LINUX_64, 4), cmsgSpace(LINUX_64, 4), cmsgSpace(LINUX_64, 1), cmsgSpace(LINUX_64, 12)], [20, 24, 24, 32]);
  assert.deepEqual([LINUX_64.SOL_SOCKET, LINUX_64.SCM_RIGHTS, LINUX_64.SCM_CREDENTIALS, LINUX_64.MSG_CTRUNC, LINUX_64.MSG_TRUNC, LINUX_64.MSG_CMSG_CLOEXEC], [1, 1, 2, 8, 0x20, 0x40000000]);
});

test('macOS 64-bit: socklen_t/int lengths, 12-byte cmsghdr, 4-byte CMSG alignment (not yet run on macOS)', () => {
  const DARWIN_64 = layout('darwin', 'arm64');
  assert.deepEqual(layout('darwin', 'x64'), { ...DARWIN_64, platform: 'darwin/x64' });
  assert.equal(DARWIN_64.msghdrBytes, 48);
  assert.deepEqual([DARWIN_64.namelenAt, DARWIN_64.iovAt, DARWIN_64.iovlenAt, DARWIN_64.controlAt, DARWIN_64.controllenAt, DARWIN_64.flagsAt], [8, 16, 24, 32, 40, 44]);
  assert.equal(DARWIN_64.iovlenBytes, 4);
  assert.equal(DARWIN_64.controllenBytes, 4);
  assert.equal(DARWIN_64.cmsgLenBytes, 4);
  assert.equal(DARWIN_64.cmsghdrBytes, 12);
  // __DARWIN_ALIGN32: CMSG_DATA at 12, CMSG_LEN(4) == 16, CMSG_SPACE(4) == 16, CMSG_SPACE(1) == 16, CMSG_SPACE(5) == 20.
  assert.equal(cmsgDataAt(DARWIN_64), 12);
  assert.deepEqual([cmsgLen(DARWIN_64, 4), cmsgSpace(DARWIN_64, 4), cmsgSpace(DARWIN_64, 1), cmsgSpace(DARWIN_64, 5)], [16, 16, 16, 20]);
  assert.deepEqual([DARWIN_64.SOL_SOCKET, DARWIN_64.SCM_RIGHTS, DARWIN_64.MSG_CTRUNC, DARWIN_64.MSG_TRUNC], [0xffff, 1, 0x20, 0x10]);
  assert.equal(DARWIN_64.SCM_CREDENTIALS, null);
  assert.equal(DARWIN_64.MSG_CMSG_CLOEXEC, null);
});

test('FreeBSD 64-bit: as macOS but CMSG_ALIGN to sizeof(long), so data at 16 (not yet run on FreeBSD)', () => {
  const FREEBSD_64 = layout('freebsd', 'x64');
  assert.deepEqual(layout('freebsd', 'arm64'), { ...FREEBSD_64, platform: 'freebsd/arm64' });
  assert.equal(FREEBSD_64.msghdrBytes, 48);
  assert.equal(FREEBSD_64.cmsghdrBytes, 12);
  assert.equal(cmsgDataAt(FREEBSD_64), 16);
  assert.deepEqual([cmsgLen(FREEBSD_64, 4), cmsgSpace(FREEBSD_64, 4), cmsgSpace(FREEBSD_64, 9)], [20, 24, 32]);
  assert.deepEqual([FREEBSD_64.SOL_SOCKET, FREEBSD_64.SCM_RIGHTS, FREEBSD_64.MSG_CTRUNC, FREEBSD_64.MSG_CMSG_CLOEXEC], [0xffff, 1, 0x20, 0x40000]);
  assert.equal(FREEBSD_64.SCM_CREDENTIALS, null);
});
