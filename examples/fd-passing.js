// Passing open file descriptors between processes (SCM_RIGHTS): the pattern behind socket activation and
// zero-downtime restarts. This process owns the listening TCP port and accepts; a worker process (this file
// again, with `worker`, its end of a unix socketpair as fd 3) receives each connection with `recvFds` and
// serves it. The acceptor closes its own copy once it is sent: the connection now lives in the worker only.
//
//   node node_modules/iomux/examples/fd-passing.js [CLIENTS]   a demo with CLIENTS clients (3), then exit
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sockAccept } from 'iomux/loop';
import { AF_UNIX, SOCK_SEQPACKET, Socket, createServer, recvFds, sendFds, socketpair } from 'iomux/socket';

async function acceptor(clients) {
  const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
  const worker = spawn(process.execPath, [fileURLToPath(import.meta.url), 'worker'], {
    stdio: ['ignore', 'inherit', 'inherit', theirs.fileno()],
  });
  theirs.close(); // the worker has it now
  const listener = createServer(['127.0.0.1', 0]);
  listener.setblocking(false);
  const [host, port] = listener.getsockname();
  console.log(`acceptor ${process.pid}: listening on ${host}:${port}`);

  const answers = Array.from({ length: clients }, (_, i) => ask(port, `hello ${i}`));
  for (let i = 0; i < clients; i++) {
    const [conn, peer] = await sockAccept(listener);
    sendFds(mine, [Buffer.from(`connection from port ${peer[1]}`)], [conn.fileno()]);
    conn.close(); // the worker holds its own duplicate
  }
  for (const [i, answer] of (await Promise.all(answers)).entries()) console.log(`client ${i} got: ${answer}`);
  listener.close();
  mine.close(); // end of stream: the worker stops
  const [code] = await once(worker, 'exit');
  console.log(`worker exited with code ${code}`);
}

async function ask(port, line) {
  const client = connect(port, '127.0.0.1');
  client.end(`${line}\n`);
  let reply = '';
  for await (const chunk of client) reply += chunk;
  return reply.trim();
}

// The worker blocks on its control socket: it has nothing else to do (a blocking Socket, fd 3).
function worker() {
  const control = new Socket(undefined, undefined, undefined, 3);
  for (;;) {
    const [note, fds] = recvFds(control, 1024, 1);
    if (note.length === 0 && fds.length === 0) break; // the acceptor closed its end
    for (const fd of fds) {
      const conn = new Socket(undefined, undefined, undefined, fd);
      let request = '';
      while (!request.includes('\n')) {
        const chunk = conn.recv(1024);
        if (chunk.length === 0) break;
        request += chunk.toString();
      }
      conn.sendall(`worker ${process.pid} (${note}): ${request.trim()}\n`);
      conn.close();
    }
  }
  control.close();
}

if (process.argv[2] === 'worker') worker();
else await acceptor(Number(process.argv[2] ?? 3));
