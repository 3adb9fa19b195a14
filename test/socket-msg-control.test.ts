/**
 * The control-buffer walk under recvmsg (src/sys/msg.ts ControlCursor) on crafted buffers — complete items,
 * data cut short by the end of the buffer, malformed headers, CMSG_NXTHDR alignment — and the leak guard that
 * closes every received fd when recvmsg fails after the kernel installed them (closeReceivedFds), on a real
 * received message. These paths are the ones the public API reaches only with a misbehaving kernel or peer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CMSG_LEN, CMSG_SPACE, SCM_RIGHTS, SOL_SOCKET, socketpair } from 'iomux/socket';
import * as os from 'iomux/os';
import { ControlCursor, MSG, messageArea, recvmsg, writeCmsgHeader } from '#internal/sys/msg.js';
import { closeReceivedFds } from '#internal/socket/messages.js';
import { Fds, expectNoFdLeaks, openFdNumbers } from './support/fds.js';

expectNoFdLeaks();

type Item = [level: number, type: number, dataAt: number, dataLen: number, status: number];

function walk(control: Buffer, controllen: number): Item[] {
  const cursor = new ControlCursor();
  cursor.start(control, controllen);
  const items: Item[] = [];
  while (cursor.next()) items.push([cursor.level, cursor.type, cursor.dataAt, cursor.dataLen, cursor.status]);
  return items;
}

/** A cmsghdr at `at` with an explicit cmsg_len (which may lie). */
function header(control: Buffer, at: number, cmsgLen: number, level: number, type: number): void {
  writeCmsgHeader(control, at, 0, level, type);
  if (MSG.cmsgLenBytes === 4) control.writeUInt32LE(cmsgLen, at);
  else control.writeBigUInt64LE(BigInt(cmsgLen), at);
}

const DATA_AT = CMSG_LEN(0);

test('ControlCursor: two complete items, the second at CMSG_SPACE of the first', () => {
  const control = Buffer.alloc(CMSG_SPACE(5) + CMSG_SPACE(4));
  writeCmsgHeader(control, 0, 5, 1, 2);
  writeCmsgHeader(control, CMSG_SPACE(5), 4, 3, 4);
  assert.deepEqual(walk(control, control.length), [
    [1, 2, DATA_AT, 5, 0],
    [3, 4, CMSG_SPACE(5) + DATA_AT, 4, 0],
  ]);
  // A controllen that stops inside the second header: only the first item.
  assert.deepEqual(walk(control, CMSG_SPACE(5) + DATA_AT - 1), [[1, 2, DATA_AT, 5, 0]]);
  // Nothing at all below one header, and nothing for an empty buffer.
  assert.deepEqual(walk(control, DATA_AT - 1), []);
  assert.deepEqual(walk(Buffer.alloc(0), 100), []);
});

test('ControlCursor: data cut short by the end of the buffer is status 1 with what is there', () => {
  const control = Buffer.alloc(CMSG_SPACE(8));
  writeCmsgHeader(control, 0, 8, SOL_SOCKET, SCM_RIGHTS);
  assert.deepEqual(walk(control, CMSG_LEN(6)), [[SOL_SOCKET, SCM_RIGHTS, DATA_AT, 6, 1]]);
  // controllen beyond the buffer is bounded by the buffer.
  assert.deepEqual(walk(control.subarray(0, CMSG_LEN(3)), 1000), [[SOL_SOCKET, SCM_RIGHTS, DATA_AT, 3, 1]]);
});

test('ControlCursor: a cmsg_len below CMSG_LEN(0) is malformed (status -1) and ends the walk', () => {
  const control = Buffer.alloc(3 * CMSG_SPACE(4));
  writeCmsgHeader(control, 0, 4, 1, 1);
  header(control, CMSG_SPACE(4), DATA_AT - 1, 7, 8);
  writeCmsgHeader(control, 2 * CMSG_SPACE(4), 4, 1, 1);
  assert.deepEqual(walk(control, control.length), [
    [1, 1, DATA_AT, 4, 0],
    [7, 8, CMSG_SPACE(4) + DATA_AT, 0, -1],
  ]);
});

test('ControlCursor: a huge cmsg_len is cut at the buffer; the walk ends after it', () => {
  const control = Buffer.alloc(64);
  header(control, 0, 0x7fffffff, 5, 6);
  assert.deepEqual(walk(control, control.length), [[5, 6, DATA_AT, control.length - DATA_AT, 1]]);
});

test('closeReceivedFds closes every fd of the SCM_RIGHTS items of a received message, and only those', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketpair();
  fds.own(a);
  fds.own(b);
  const [r, w] = fds.pipe();
  a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([w, r, w]).buffer)]]);
  const before = openFdNumbers();
  const area = messageArea(16, CMSG_SPACE(12));
  assert.ok(area);
  area.prepare(0, 16, CMSG_SPACE(12));
  assert.equal(recvmsg(b.fileno(), area, 0), 1);
  const received = [...openFdNumbers()].filter((fd) => !before.has(fd));
  assert.equal(received.length, 3, 'the kernel installed three fds');
  closeReceivedFds(area, area.controlLength());
  const after = openFdNumbers();
  assert.deepEqual(received.filter((fd) => after.has(fd)), [], 'every received fd is closed');
  assert.ok(after.has(r) && after.has(w), 'the sent originals stay open');
  os.write(w, 'still');
  assert.equal(os.read(r, 10).toString(), 'still');
});
