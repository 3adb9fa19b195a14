/**
 * Handing accepted TCP connections from one process to another over a unix socket (SCM_RIGHTS) — the
 * pattern behind socket activation and zero-downtime restarts: the acceptor owns the listening port, a
 * worker process serves the connections, and a new worker can take over without the port ever closing.
 *
 * The demo (no arguments) is the acceptor: it starts a worker (this same file with `worker`, its end of a
 * socketpair as fd 3), listens on 127.0.0.1, accepts with the awaitable `sockAccept` while Node's own `net`
 * clients connect, and passes each connection to the worker with `sendFds`, closing its own copy. The worker
 * answers each client and exits when the acceptor closes the unix socket.
 *
 *   npm run build && npm run build:dev && node build/examples/fd-handoff.js [clients]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sockAccept } from 'iomux/loop';
import { AF_UNIX, SOCK_SEQPACKET, Socket, createServer, recvFds, sendFds, socketpair } from 'iomux/socket';

async function acceptor(clients: number): Promise<void> {
  const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
  const worker = spawn(process.execPath, [fileURLToPath(import.meta.url), 'worker'], { stdio: ['ignore', 'inherit', 'inherit', theirs.fileno()] });
  theirs.close();
  const listener = createServer(['127.0.0.1', 0]);
  listener.setblocking(false);
  const [host, port] = listener.getsockname() as [string, number];
  console.log(`acceptor ${process.pid}: listening on ${host}:${port}`);

  const answers = Array.from({ length: clients }, (_, i) => ask(port, `hello ${i}`));
  for (let i = 0; i < clients; i++) {
    const [conn, peer] = await sockAccept(listener);
    sendFds(mine, [Buffer.from(`connection from ${JSON.stringify(peer)}`)], [conn.fileno()]);
    conn.close(); // the worker has its own duplicate now
  }
  for (const [i, answer] of (await Promise.all(answers)).entries()) console.log(`client ${i} got: ${answer}`);
  listener.close();
  mine.close(); // end of stream for the worker
  const [code] = (await once(worker, 'exit')) as [number | null];
  console.log(`worker exited with code ${code}`);
}

async function ask(port: number, line: string): Promise<string> {
  const client = connect(port, '127.0.0.1');
  client.end(`${line}\n`);
  let reply = '';
  for await (const chunk of client) reply += chunk;
  return reply.trim();
}

function worker(): void {
  const control = new Socket(undefined, undefined, undefined, 3);
  for (;;) {
    const [note, fds] = recvFds(control, 1024, 1);
    if (note.length === 0 && fds.length === 0) break; // the acceptor closed the unix socket
    for (const fd of fds) {
      using conn = new Socket(undefined, undefined, undefined, fd);
      let request = '';
      while (!request.includes('\n')) {
        const chunk = conn.recv(1024);
        if (chunk.length === 0) break;
        request += chunk.toString();
      }
      conn.sendall(`handled by worker ${process.pid} (${note.toString()}): ${request.trim()}\n`);
    }
  }
  control.close();
}

if (process.argv[2] === 'worker') worker();
else await acceptor(Number(process.argv[2] ?? 3));
