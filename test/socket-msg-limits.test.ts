/**
 * The limits of iomux/socket's ancillary messages: CMSG_LEN/CMSG_SPACE at the edges of their range
 * against python3's, and recvmsg control buffers too small for the fds sent (none may stay open unseen).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CMSG_LEN, CMSG_SPACE, SCM_RIGHTS, SOL_SOCKET, sendFds, socketpair } from 'iomux/socket';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks, fdCount } from './support/fds.js';

expectNoFdLeaks();

const EDGES = [0, 1, 2 ** 31 - 1 - 24, 2 ** 31 - 24, 2 ** 31 - 1 - 16, 2 ** 31 - 16, 2 ** 31 - 1, 2 ** 31, 2 ** 32];

function outcome(fn: () => number): string {
  try {
    return String(fn());
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

test('CMSG_LEN and CMSG_SPACE agree with python3 at the edges of their range (values and OverflowError)', () => {
  const script = `
import socket
for v in ${JSON.stringify(EDGES)}:
    for f in (socket.CMSG_LEN, socket.CMSG_SPACE):
        try: print(f(v))
        except Exception as e: print(f"{type(e).__name__}: {e}")`;
  const py = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const ours = EDGES.flatMap((v) => [outcome(() => CMSG_LEN(v)), outcome(() => CMSG_SPACE(v))]);
  assert.deepEqual(ours, py.stdout.trim().split('\n'));
});

test('recvmsg with control room for fewer fds than were sent: the fds it returns are all that stay open', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketpair();
  fds.own(a);
  fds.own(b);
  const [, w] = fds.pipe();
  for (const room of [0, 1, CMSG_LEN(0), CMSG_LEN(4), CMSG_LEN(4) + 2, CMSG_SPACE(8), CMSG_LEN(40)]) {
    const before = fdCount();
    sendFds(a, [Buffer.from('xyz')], new Array<number>(10).fill(w));
    const [, ancdata] = b.recvmsg(1, room);
    const got: number[] = [];
    for (const [level, type, data] of ancdata) {
      assert.deepEqual([level, type], [SOL_SOCKET, SCM_RIGHTS]);
      for (let i = 0; i + 4 <= data.length; i += 4) got.push(data.readInt32LE(i));
    }
    assert.equal(fdCount() - before, got.length, `ancbufsize ${room}: fds open beyond the ${got.length} returned`);
    for (const fd of got) os.close(fd);
    b.recv(100);
  }
});
