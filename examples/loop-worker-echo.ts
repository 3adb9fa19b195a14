/**
 * A worker thread running its own echo server: the worker creates an iomux listening socket and a
 * DefaultSelector and attaches it to *its own* event loop (each thread has one; iomux asks N-API for the
 * current thread's, never libuv's default loop, which is the main thread's). The main thread stays free: it
 * runs a timer and talks to the server with Node's `net` clients, then asks the worker to stop, which closes
 * everything and lets the worker end on its own.
 *
 *   npm run build && npm run build:dev && node build/examples/loop-worker-echo.js [CLIENTS]   (default 3)
 *
 * This file is both programs: the main thread starts itself again as the worker.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { BlockingIOError, OSError } from 'iomux/errors';
import { DefaultSelector, EVENT_READ, EVENT_WRITE } from 'iomux/selectors';
import { createServer, type Socket } from 'iomux/socket';

type Callback = (sock: Socket, events: number) => void;

/** The worker: an echo server on an attached selector; partial sends wait for EVENT_WRITE. */
function runServer(): void {
  const port = parentPort!;
  const selector = new DefaultSelector<Callback>();
  const listener = createServer(['127.0.0.1', 0]);
  listener.setblocking(false);
  const unsent = new Map<Socket, Buffer>();
  const buffer = Buffer.allocUnsafe(65536);

  const drop = (conn: Socket): void => {
    selector.unregister(conn);
    unsent.delete(conn);
    conn.close();
  };

  const serve: Callback = (conn, events) => {
    try {
      if (events & EVENT_READ && !unsent.has(conn)) {
        const n = conn.tryRecvInto(buffer);
        if (n === 0) return drop(conn);
        if (n > 0) unsent.set(conn, Buffer.from(buffer.subarray(0, n)));
      }
      const data = unsent.get(conn);
      if (data === undefined) return;
      const sent = conn.trySend(data);
      const rest = sent < 0 ? data : data.subarray(sent);
      if (rest.length === 0) unsent.delete(conn);
      else unsent.set(conn, rest);
      // Read again only once everything was sent: a client that does not read cannot make us buffer.
      selector.modify(conn, rest.length === 0 ? EVENT_READ : EVENT_WRITE, serve);
    } catch (err) {
      if (err instanceof OSError) return drop(conn); // reset by the peer, …
      throw err;
    }
  };

  selector.register(listener, EVENT_READ, () => {
    for (;;) {
      let conn: Socket;
      try {
        [conn] = listener.accept();
      } catch (err) {
        if (err instanceof BlockingIOError) return;
        throw err;
      }
      conn.setblocking(false);
      selector.register(conn, EVENT_READ, serve);
    }
  });
  selector.attach();

  port.on('message', (message) => {
    if (message !== 'stop') return;
    const sockets = [...selector.getMap()!.values()].map((key) => key.fileobj as Socket);
    selector.close(); // detached and forgotten first, then the sockets it watched are closed
    for (const sock of sockets) sock.close();
    port.close(); // nothing keeps the worker alive now: it ends
  });
  port.postMessage(listener.getsockname()[1]);
}

/** One client: sends each message and waits for its echo. */
async function client(serverPort: number, id: number): Promise<string[]> {
  const socket = connect(serverPort, '127.0.0.1');
  await once(socket, 'connect');
  const echoes: string[] = [];
  for (const word of ['hello', 'from', `client ${id}`]) {
    socket.write(word);
    let echo = '';
    while (echo.length < word.length) echo += ((await once(socket, 'data')) as [Buffer])[0].toString();
    echoes.push(echo);
  }
  socket.end();
  await once(socket, 'close');
  return echoes;
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 3);
  const worker = new Worker(new URL(import.meta.url));
  const [serverPort] = (await once(worker, 'message')) as [number];
  console.log(`the worker's echo server listens on 127.0.0.1:${serverPort}`);

  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const results = await Promise.all(Array.from({ length: clients }, (_, id) => client(serverPort, id)));
  clearInterval(timer);
  results.forEach((echoes, id) => console.log(`client ${id} got back: ${echoes.map((e) => JSON.stringify(e)).join(' ')}`));
  console.log(`the main thread's 1 ms timer ran ${ticks} times meanwhile`);

  worker.postMessage('stop');
  const [code] = (await once(worker, 'exit')) as [number];
  console.log(`worker exited with code ${code}`);
}

if (isMainThread) await main();
else runServer();
