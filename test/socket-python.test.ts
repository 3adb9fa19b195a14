/**
 * fd passing between iomux and a real CPython process, both ways: python3's socket.send_fds → iomux recvFds
 * and iomux sendFds → python3's socket.recv_fds, each received fd then used for I/O by its receiver. The
 * python end of a socketpair is handed to the child as its fd 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AF_UNIX, CMSG_SPACE, SCM_RIGHTS, SOCK_DGRAM, SOCK_SEQPACKET, SOL_SOCKET, recvFds, sendFds, type Socket } from 'iomux/socket';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks } from './support/fds.js';
import { socketPair } from './support/sockets.js';

expectNoFdLeaks();

interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `python3 -c script` with `sock` as its fd 3; resolves when it exits (killed after 20 s). */
async function runPython(script: string, sock: Socket): Promise<PyResult> {
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe', sock.fileno()] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

test('python3 socket.send_fds → iomux recvFds: the received pipe end carries data back to python', async (t) => {
  const [mine, theirs] = socketPair(t);
  const script = `
import os, socket
s = socket.socket(fileno=3)
r, w = os.pipe()
socket.send_fds(s, [b'from ', b'python'], [w])
os.close(w)
s.recv(1)  # wait until iomux has the fd
print(os.read(r, 100).decode())
`;
  const done = runPython(script, theirs);
  theirs.close();
  // recvFds blocks this thread until python has sent: fine, the child runs on its own.
  const [data, fds, flags, address] = recvFds(mine, 100, 4);
  assert.equal(data.toString(), 'from python');
  assert.equal(flags, 0);
  assert.equal(address, null);
  assert.equal(fds.length, 1);
  assert.equal(os.getInheritable(fds[0]!), false);
  os.write(fds[0]!, 'written by iomux');
  os.close(fds[0]!);
  mine.send('k');
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'written by iomux');
});

test('iomux sendFds → python3 socket.recv_fds: python writes into the pipe iomux passed it', async (t) => {
  const fds = new Fds(t);
  const [mine, theirs] = socketPair(t, AF_UNIX, SOCK_SEQPACKET);
  const [r, w] = fds.pipe();
  const script = `
import os, socket
s = socket.socket(fileno=3)
msg, got, flags, addr = socket.recv_fds(s, 100, 4)
assert len(got) == 2, got
os.write(got[0], b'python got ' + msg)
with os.fdopen(got[1], 'rb') as f:
    print('python read:', f.read().decode())
`;
  const done = runPython(script, theirs);
  theirs.close();
  // The second fd is the read end of another pipe iomux writes into and closes: python reads it to EOF.
  const [r2, w2] = fds.pipe();
  assert.equal(sendFds(mine, [Buffer.from('two fds')], [w, r2]), 7);
  os.write(w2, 'through the second fd');
  fds.close(w2);
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'python read: through the second fd');
  assert.equal(os.read(r, 100).toString(), 'python got two fds');
});

test('python3 sendmsg with SCM_RIGHTS and several buffers → iomux recvmsg; iomux sendmsg → python3 recvmsg', async (t) => {
  const fds = new Fds(t);
  const [mine, theirs] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  const [r, w] = fds.pipe();
  const script = `
import array, os, socket
s = socket.socket(fileno=3)
msg, anc, flags, addr = s.recvmsg(100, socket.CMSG_SPACE(4))
assert len(anc) == 1 and anc[0][:2] == (socket.SOL_SOCKET, socket.SCM_RIGHTS), anc
fd = array.array('i', anc[0][2])[0]
os.write(fd, msg.upper())
os.close(fd)
r, w = os.pipe()
s.sendmsg([b'a', b'b', b'c'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [w]))])
os.close(w)
print(os.read(r, 100).decode())
`;
  const done = runPython(script, theirs);
  theirs.close();
  mine.sendmsg([Buffer.from('shout '), Buffer.from('this')], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([w]).buffer)]]);
  const [data, anc, flags] = mine.recvmsg(100, CMSG_SPACE(4));
  assert.equal(data.toString(), 'abc');
  assert.equal(flags, 0);
  const fd = Buffer.from(anc[0]![2]).readInt32LE(0);
  os.write(fd, 'back to python');
  os.close(fd);
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'back to python');
  assert.equal(os.read(r, 100).toString(), 'SHOUT THIS');
});
