/**
 * A unix datagram socket served next to an HTTP server, in one process and one thread. Node's `net` and
 * `dgram` cannot open AF_UNIX/SOCK_DGRAM sockets; iomux can, and an attached selector serves it from Node's
 * own event loop, so the HTTP server keeps answering in between.
 *
 * The datagram server acknowledges every datagram ("ack N") to the sender; the HTTP server reports what it
 * received as JSON. The demo sends a few datagrams from a second unix socket, reads the acks, asks the HTTP
 * server, and shuts everything down. With `--serve` it keeps running and prints how to talk to it:
 *
 *   npm run build && npm run build:dev && node build/examples/loop-unix-datagram.js [--serve]
 *   (then, e.g.:  socat - UNIX-SENDTO:/tmp/…/server.sock   and   curl http://127.0.0.1:PORT/)
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockingIOError } from 'iomux/errors';
import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
import { AF_UNIX, SOCK_DGRAM, Socket } from 'iomux/socket';

const serve = process.argv.includes('--serve');
const dir = mkdtempSync(join(tmpdir(), 'iomux-dgram-'));
const serverPath = join(dir, 'server.sock');
const clientPath = join(dir, 'client.sock');

type Handler = (sock: Socket) => void;
const selector = new DefaultSelector<Handler>();

// --- the datagram server
const received: Array<{ from: string | null; text: string }> = [];
const server = new Socket(AF_UNIX, SOCK_DGRAM);
server.bind(serverPath);
server.setblocking(false);

function onDatagrams(sock: Socket): void {
  for (;;) {
    let data: Buffer;
    let from: unknown;
    try {
      [data, from] = sock.recvfrom(65536);
    } catch (err) {
      if (err instanceof BlockingIOError) return; // drained: wait for the next readiness
      throw err;
    }
    const sender = typeof from === 'string' && from !== '' ? from : null;
    received.push({ from: sender, text: data.toString() });
    // An unbound sender has no address to answer to.
    if (sender !== null) {
      try {
        sock.sendto(Buffer.from(`ack ${received.length}`), sender);
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err; // the sender's queue is full: drop the ack
      }
    }
  }
}
selector.register(server, EVENT_READ, onDatagrams);

// --- the HTTP server, on the same event loop
const http = createHttpServer((_request, reply) => {
  reply.setHeader('content-type', 'application/json');
  reply.end(`${JSON.stringify({ count: received.length, received }, null, 2)}\n`);
});
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const httpPort = (http.address() as AddressInfo).port;

// Dispatch every readiness from Node's loop: key.data(key.fileobj, events) for each ready socket.
selector.attach();

function shutdown(): void {
  selector.close(); // detaches, releases the loop's poll handle, closes the epoll fd
  server.close();
  http.close();
  rmSync(dir, { recursive: true, force: true });
}

if (serve) {
  console.log(`datagram server on ${serverPath}\nHTTP status on http://127.0.0.1:${httpPort}/   (Ctrl-C stops)`);
  process.once('SIGINT', () => {
    shutdown();
    console.log('\nstopped');
  });
} else {
  // --- a client in the same process: its acks are dispatched by the same attached selector
  const client = new Socket(AF_UNIX, SOCK_DGRAM);
  client.bind(clientPath);
  client.setblocking(false);
  const acks: string[] = [];
  const messages = ['hello', 'from', 'a unix datagram', 'client'];
  const allAcked = new Promise<void>((resolve) => {
    selector.register(client, EVENT_READ, (sock) => {
      for (;;) {
        try {
          acks.push(sock.recv(100).toString());
        } catch (err) {
          if (err instanceof BlockingIOError) break;
          throw err;
        }
      }
      if (acks.length === messages.length) resolve();
    });
  });
  for (const text of messages) client.sendto(Buffer.from(text), serverPath);
  await allAcked;
  console.log(`acks: ${acks.join(', ')}`);

  const status = await new Promise<string>((resolve, reject) => {
    httpGet(`http://127.0.0.1:${httpPort}/`, (reply) => {
      let body = '';
      reply.on('data', (chunk: Buffer) => (body += chunk.toString()));
      reply.on('end', () => resolve(body));
    }).on('error', reject);
  });
  console.log(`GET / →\n${status}`);
  selector.unregister(client);
  client.close();
  shutdown();
}
