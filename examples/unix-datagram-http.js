// A unix datagram service beside an HTTP server, in one process and one thread. Node's `net` and `dgram`
// cannot open AF_UNIX/SOCK_DGRAM sockets; iomux can, and an attached selector serves it from Node's event
// loop. The service acknowledges every datagram ("ack N") to its sender; GET / reports what it received.
//
//   node node_modules/iomux/examples/unix-datagram-http.js           a demo: four datagrams, GET /, exit
//   node node_modules/iomux/examples/unix-datagram-http.js --serve   keep serving (it prints the socket path
//                                                                     and the HTTP port); Ctrl-C stops
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockingIOError } from 'iomux/errors';
import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
import { AF_UNIX, SOCK_DGRAM, Socket } from 'iomux/socket';

const serve = process.argv.includes('--serve');
const dir = mkdtempSync(join(tmpdir(), 'iomux-dgram-'));
const serverPath = join(dir, 'server.sock');
const selector = new DefaultSelector();
const received = [];

const service = new Socket(AF_UNIX, SOCK_DGRAM);
service.bind(serverPath);
service.setblocking(false);
selector.register(service, EVENT_READ, (sock) => {
  for (;;) {
    let data, from;
    try {
      [data, from] = sock.recvfrom(65536);
    } catch (err) {
      if (err instanceof BlockingIOError) return; // drained: wait for the next readiness
      throw err;
    }
    received.push(data.toString());
    // An unbound sender has no address to answer to; a full sender queue drops the ack.
    if (typeof from === 'string' && from !== '') {
      try {
        sock.sendto(`ack ${received.length}`, from);
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
      }
    }
  }
});
selector.attach();

const http = createHttpServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(`${JSON.stringify({ count: received.length, received })}\n`);
});
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const httpPort = http.address().port;

function shutdown() {
  selector.close(); // detaches and releases the poll handle
  service.close();
  http.close();
  rmSync(dir, { recursive: true, force: true });
}

if (serve) {
  console.log(`datagrams to ${serverPath}   (e.g. socat - UNIX-SENDTO:${serverPath})`);
  console.log(`status at http://127.0.0.1:${httpPort}/   (Ctrl-C stops)`);
  process.once('SIGINT', shutdown);
} else {
  // A client in the same process, bound so it can be answered; its acks come through the same selector.
  const client = new Socket(AF_UNIX, SOCK_DGRAM);
  client.bind(join(dir, 'client.sock'));
  client.setblocking(false);
  const messages = ['hello', 'from', 'a unix datagram', 'client'];
  const acks = [];
  const allAcked = new Promise((resolve) => {
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
  for (const text of messages) client.sendto(text, serverPath);
  await allAcked;
  console.log(`acks: ${acks.join(', ')}`);
  console.log('GET / →', (await (await fetch(`http://127.0.0.1:${httpPort}/`)).text()).trim());
  selector.unregister(client);
  client.close();
  shutdown();
}
