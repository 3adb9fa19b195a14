// The seeds' echo server without blocking the thread: the same callbacks, registered on a selector that is
// attached to Node's event loop, so an HTTP server (and timers, and promises) run beside it in one thread.
//
//   node node_modules/iomux/examples/echo-attached.js           a demo: clients, one HTTP request, then exit
//   node node_modules/iomux/examples/echo-attached.js --serve   echo on 127.0.0.1:10000, HTTP on :8080
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect } from 'node:net';
import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
import { createServer } from 'iomux/socket';

const serve = process.argv.includes('--serve');
const sel = new DefaultSelector();
let echoed = 0;

const listener = createServer(['127.0.0.1', serve ? 10000 : 0]);
listener.setblocking(false);
sel.register(listener, EVENT_READ, (sock) => {
  const [conn] = sock.accept();
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, (c) => {
    const data = c.recv(4096);
    if (data.length > 0) {
      echoed += data.length;
      c.sendall(data);
    } else {
      sel.unregister(c);
      c.close();
    }
  });
});
sel.attach(); // Node now calls key.data(key.fileobj, mask) for each ready registration

const http = createHttpServer((_req, res) => res.end(`${sel.getMap().size - 1} echo connections, ${echoed} bytes echoed\n`));
http.listen(serve ? 8080 : 0, '127.0.0.1');
await once(http, 'listening');
const echoPort = listener.getsockname()[1];
const httpPort = http.address().port;
console.log(`echo on 127.0.0.1:${echoPort}, HTTP on http://127.0.0.1:${httpPort}/`);

if (!serve) {
  // Node's own clients, served by the attached selector while the HTTP server answers in between.
  const replies = await Promise.all(['one', 'two', 'three'].map(async (word) => {
    const client = connect(echoPort, '127.0.0.1');
    client.end(word);
    let reply = '';
    for await (const chunk of client) reply += chunk;
    return reply;
  }));
  console.log('echoed back:', replies.join(' '));
  const status = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
  console.log('GET / →', status.trim());
  http.close();
  sel.close(); // detaches and forgets the registrations; with nothing left, the process ends
  listener.close();
}
