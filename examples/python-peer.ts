/**
 * Messages and fds exchanged with a Python process, from ordinary async Node code. Node hands python3 an
 * open file (its fd, with a request); Python reads it through that fd and answers with the read end of a
 * pipe it writes its result into. Both sides use the sendmsg/recvmsg family over a SOCK_SEQPACKET
 * socketpair; Node's side awaits `sockSendmsg`/`sockRecvmsg`, so a timer keeps ticking meanwhile.
 *
 *   npm run build && npm run build:dev && node build/examples/python-peer.js
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sockRecvmsg, sockSendmsg } from 'iomux/loop';
import * as os from 'iomux/os';
import { AF_UNIX, CMSG_SPACE, MSG_CMSG_CLOEXEC, SCM_RIGHTS, SOCK_SEQPACKET, SOL_SOCKET, socketpair } from 'iomux/socket';

const PYTHON = `
import os, socket
s = socket.socket(fileno=3)
while True:
    msg, fds, flags, addr = socket.recv_fds(s, 1024, 1)
    if not msg:
        break
    with os.fdopen(fds[0], 'rb') as f:
        words = f.read().split()
    r, w = os.pipe()
    socket.send_fds(s, [b'result for ' + msg], [r])
    os.close(r)
    os.write(w, b'%d words, longest %s' % (len(words), max(words, key=len)))
    os.close(w)
`;

const dir = mkdtempSync(join(tmpdir(), 'iomux-pypeer-'));
const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
mine.setblocking(false);
const python = spawn('python3', ['-c', PYTHON], { stdio: ['ignore', 'inherit', 'inherit', theirs.fileno()] });
theirs.close();
let ticks = 0;
const timer = setInterval(() => ticks++, 1);

try {
  for (const [name, text] of [['a.txt', 'the quick brown fox'], ['b.txt', 'iomux passes file descriptors between processes']]) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const fd = openSync(path, 'r');
    await sockSendmsg(mine, [Buffer.from(name)], [[SOL_SOCKET, SCM_RIGHTS, Buffer.from(new Int32Array([fd]).buffer)]]);
    os.close(fd); // Python has its own duplicate
    const [reply, ancdata] = await sockRecvmsg(mine, 1024, CMSG_SPACE(4), { flags: MSG_CMSG_CLOEXEC });
    const pipeFd = ancdata[0]![2].readInt32LE(0);
    let result = '';
    for (let chunk = os.read(pipeFd, 1024); chunk.length > 0; chunk = os.read(pipeFd, 1024)) result += chunk.toString();
    os.close(pipeFd);
    console.log(`${reply.toString()}: ${result}`);
  }
} finally {
  mine.close(); // Python sees end of stream and exits
  const [code] = (await once(python, 'exit')) as [number | null];
  clearInterval(timer);
  rmSync(dir, { recursive: true, force: true });
  console.log(`python exited with code ${code}; the timer ticked ${ticks > 0 ? 'meanwhile' : 'never'}`);
}
