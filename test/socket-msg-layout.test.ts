/**
 * The msghdr/iovec/cmsghdr tables of src/sys/msg-layout.ts against the values of the platform headers
 * (Linux <bits/socket.h>; macOS <sys/socket.h>, whose table cannot be run here and is checked only by this
 * test). The running platform's table is also checked against koffi's C layout when src/sys/msg.ts loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DARWIN_64, LINUX_64, cmsgDataAt, cmsgLen, cmsgSpace, layoutFor } from '../src/sys/msg-layout.js';

test('Linux 64-bit: size_t lengths, 16-byte cmsghdr, 8-byte CMSG alignment', () => {
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

test('layoutFor picks the table by platform and refuses what it has none for', () => {
  assert.equal(layoutFor('linux', 8), LINUX_64);
  assert.equal(layoutFor('darwin', 8), DARWIN_64);
  assert.equal(layoutFor('linux', 4), null);
  assert.equal(layoutFor('win32', 8), null);
});
