// The seeds' echo server: Python's `selectors` example, ported line for line. Each registration carries
// its callback as the key's data, and a blocking `sel.select()` loop calls `key.data(key.fileobj, mask)`.
// The loop owns the thread (no timers, no other I/O): the style of a script or a worker thread.
//
//   node node_modules/iomux/examples/echo-server.js            a demo: a client in the same loop, then exit
//   node node_modules/iomux/examples/echo-server.js --serve    serve on 127.0.0.1:10000 until Ctrl-C
//                                                               (then: nc 127.0.0.1 10000)
import { BlockingIOError } from 'iomux/errors';
import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
import { createServer, createConnection } from 'iomux/socket';

const serve = process.argv.includes('--serve');
const sel = new DefaultSelector();

function accept(sock) {
  const [conn, addr] = sock.accept(); // should be ready
  console.log('accepted', conn.fileno(), 'from', addr);
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, read);
}

function read(conn) {
  const data = conn.recv(1000); // should be ready
  if (data.length > 0) {
    console.log('echoing', JSON.stringify(data.toString()), 'to', conn.fileno());
    conn.sendall(data); // small lines: the kernel takes them whole (examples/selectors-echo.ts queues the rest)
  } else {
    console.log('closing', conn.fileno());
    sel.unregister(conn);
    conn.close();
  }
}

const sock = createServer(['127.0.0.1', serve ? 10000 : 0]);
sock.setblocking(false);
sel.register(sock, EVENT_READ, accept);
const [host, port] = sock.getsockname();
console.log(`listening on ${host}:${port}`);

// The demo's client is one more registration of the same loop: it sends its lines one at a time and stops
// the loop when the last echo is back.
let running = true;
if (!serve) {
  const lines = ['hello', 'from', 'the seeds'];
  const client = createConnection([host, port]);
  client.setblocking(false);
  client.sendall(`${lines[0]}\n`);
  let received = '';
  sel.register(client, EVENT_READ, (c) => {
    try {
      received += c.recv(1000).toString();
    } catch (err) {
      if (err instanceof BlockingIOError) return;
      throw err;
    }
    const done = received.split('\n').length - 1;
    if (done < lines.length) c.sendall(`${lines[done]}\n`);
    else {
      console.log('client got back:', JSON.stringify(received));
      sel.unregister(c);
      c.close();
      running = false;
    }
  });
}

while (running) {
  for (const [key, mask] of sel.select()) key.data(key.fileobj, mask);
}
for (const key of [...sel.getMap().values()]) key.fileobj.close(); // the listener and any connection left
sel.close();
