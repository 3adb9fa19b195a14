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
import { ControlCursor, MSG, messageArea, recvmsg, type MessageArea } from '#internal/sys/msg.js';
import { closeReceivedFds } from '#internal/socket/messages.js';
import { Fds, expectNoFdLeaks, openFdNumbers } from './support/fds.js';

expectNoFdLeaks();

type Item = [level: number, type: number, dataAt: number, dataLen: number, status: number];

/** The shared native block, its control region zeroed. */
function area(): MessageArea {
  const a = messageArea(16, 4096);
  assert.ok(a);
  a.control.fill(0);
  return a;
}

function walk(a: MessageArea, controllen: number): Item[] {
  const cursor = new ControlCursor();
  cursor.start(a, controllen);
  const items: Item[] = [];
  while (cursor.next()) items.push([cursor.level, cursor.type, cursor.dataAt, cursor.dataLen, cursor.status]);
  return items;
}

/** A cmsghdr at `at` whose cmsg_len may lie about the data that follows. */
function header(a: MessageArea, at: number, cmsgLen: number, level: number, type: number): void {
  a.putControlMessage(at, level, type, Buffer.alloc(0));
  if (MSG.cmsgLenBytes === 4) a.control.writeUInt32LE(cmsgLen, at);
  else a.control.writeBigUInt64LE(BigInt(cmsgLen), at);
}

const DATA_AT = CMSG_LEN(0);

test('putControlMessage writes what CMSG_LEN/CMSG_SPACE say, zero padding included', () => {
  const a = area();
  a.control.fill(0xff, 0, 64);
  assert.equal(a.putControlMessage(0, 7, 9, Buffer.from([1, 2, 3, 4, 5])), CMSG_SPACE(5));
  assert.equal(a.cmsgLength(0), CMSG_LEN(5));
  assert.deepEqual([a.cmsgLevel(0), a.cmsgType(0)], [7, 9]);
  assert.deepEqual([...a.control.subarray(DATA_AT, CMSG_SPACE(5))], [1, 2, 3, 4, 5, ...new Array(CMSG_SPACE(5) - DATA_AT - 5).fill(0)]);
  assert.equal(a.control[CMSG_SPACE(5)], 0xff, 'nothing written past CMSG_SPACE');
  a.putControlMessage(CMSG_SPACE(5), SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([-2, 123456]).buffer));
  assert.deepEqual([a.controlInt(CMSG_SPACE(5) + DATA_AT), a.controlInt(CMSG_SPACE(5) + DATA_AT + 4)], [-2, 123456]);
});

test('ControlCursor: two complete items, the second at CMSG_SPACE of the first', () => {
  const a = area();
  a.putControlMessage(0, 1, 2, Buffer.alloc(5, 1));
  a.putControlMessage(CMSG_SPACE(5), 3, 4, Buffer.alloc(4, 2));
  const end = CMSG_SPACE(5) + CMSG_SPACE(4);
  assert.deepEqual(walk(a, end), [
    [1, 2, DATA_AT, 5, 0],
    [3, 4, CMSG_SPACE(5) + DATA_AT, 4, 0],
  ]);
  // A controllen that stops inside the second header: only the first item.
  assert.deepEqual(walk(a, CMSG_SPACE(5) + DATA_AT - 1), [[1, 2, DATA_AT, 5, 0]]);
  // Nothing at all below one header.
  assert.deepEqual(walk(a, DATA_AT - 1), []);
  assert.deepEqual(walk(a, 0), []);
});

test('ControlCursor: data cut short by the end of the buffer is status 1 with what is there', () => {
  const a = area();
  a.putControlMessage(0, SOL_SOCKET, SCM_RIGHTS, Buffer.alloc(8));
  assert.deepEqual(walk(a, CMSG_LEN(6)), [[SOL_SOCKET, SCM_RIGHTS, DATA_AT, 6, 1]]);
  // A controllen beyond the control region is bounded by the region: an item whose data would run past
  // the region's end is cut there.
  const last = a.control.length - CMSG_SPACE(8);
  header(a, 0, last, 1, 1);
  a.putControlMessage(last, 5, 6, Buffer.alloc(4));
  header(a, last, CMSG_LEN(4 + CMSG_SPACE(8)), 5, 6);
  assert.deepEqual(walk(a, 1_000_000), [
    [1, 1, DATA_AT, last - DATA_AT, 0],
    [5, 6, last + DATA_AT, a.control.length - last - DATA_AT, 1],
  ]);
});

test('ControlCursor: a cmsg_len below CMSG_LEN(0) is malformed (status -1) and ends the walk', () => {
  const a = area();
  a.putControlMessage(0, 1, 1, Buffer.alloc(4));
  header(a, CMSG_SPACE(4), DATA_AT - 1, 7, 8);
  a.putControlMessage(2 * CMSG_SPACE(4), 1, 1, Buffer.alloc(4));
  assert.deepEqual(walk(a, 3 * CMSG_SPACE(4)), [
    [1, 1, DATA_AT, 4, 0],
    [7, 8, CMSG_SPACE(4) + DATA_AT, 0, -1],
  ]);
});

test('ControlCursor: a huge cmsg_len is cut at controllen; the walk ends after it', () => {
  const a = area();
  header(a, 0, 0x7fffffff, 5, 6);
  a.putControlMessage(64, 1, 1, Buffer.alloc(4));
  assert.deepEqual(walk(a, 128), [[5, 6, DATA_AT, 128 - DATA_AT, 1]]);
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
