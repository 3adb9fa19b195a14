/**
 * The echo server of the Python `selectors` docs, which the seeds build on, ported line for line: each
 * registration carries its callback as the key's data (`accept` for the listener, `read` and `write` for
 * connections) and the loop calls `key.data(key.fileobj, mask)`.
 *
 * Unlike the docs' version it is correct about partial sends: `send()` may take only part of the data, or
 * nothing (BlockingIOError). The rest is kept, the connection waits for EVENT_WRITE instead of EVENT_READ
 * until it is sent, and only then reads again, so a client that does not read cannot make it buffer without
 * bound.
 *
 *   npm run build && npm run build:dev && node build/examples/selectors-echo.js [PORT]   (default 1234; 0: any)
 */
import { writeSync } from 'node:fs';
import { BlockingIOError, ConnectionAbortedError, OSError } from 'iomux/errors';
import { DefaultSelector, EVENT_READ, EVENT_WRITE } from 'iomux/selectors';
import { Socket, SO_REUSEADDR, SOL_SOCKET } from 'iomux/socket';

type Callback = (conn: Socket, mask: number) => void;

/**
 * Python's print: written before it returns. (console.log queues what a full pipe does not take, and only
 * Node's event loop would flush it; this loop never gives it a turn.)
 */
function print(...parts: unknown[]): void {
  writeSync(1, `${parts.map(repr).join(' ')}\n`);
}

/** Addresses as Python shows its tuples: ('127.0.0.1', 55821). */
function repr(value: unknown): string {
  if (!Array.isArray(value)) return String(value);
  return `(${value.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`;
}

const sel = new DefaultSelector<Callback>();
/** What the kernel did not take yet, per connection. */
const unsent = new Map<Socket, Buffer>();

function accept(sock: Socket): void {
  let conn: Socket;
  let addr: unknown;
  try {
    [conn, addr] = sock.accept(); // should be ready
  } catch (err) {
    // The client gave up in between: nothing to accept after all.
    if (err instanceof BlockingIOError || err instanceof ConnectionAbortedError) return;
    throw err;
  }
  print('accepted', conn, 'from', addr);
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, read);
}

function read(conn: Socket): void {
  let data: Buffer;
  try {
    data = conn.recv(1000); // should be ready
  } catch (err) {
    if (err instanceof BlockingIOError) return;
    return close(conn, err);
  }
  if (data.length === 0) return close(conn);
  print('echoing', data.length, 'bytes to', conn);
  send(conn, data);
}

function write(conn: Socket): void {
  const data = unsent.get(conn)!;
  unsent.delete(conn);
  send(conn, data);
}

/** Sends what the kernel takes; keeps the rest and waits for EVENT_WRITE until it is gone. */
function send(conn: Socket, data: Buffer): void {
  let n = 0;
  try {
    n = conn.send(data);
  } catch (err) {
    if (!(err instanceof BlockingIOError)) return close(conn, err);
  }
  if (n < data.length) {
    unsent.set(conn, data.subarray(n));
    sel.modify(conn, EVENT_WRITE, write);
  } else {
    sel.modify(conn, EVENT_READ, read);
  }
}

function close(conn: Socket, err?: unknown): void {
  if (err !== undefined && !(err instanceof OSError)) throw err;
  print('closing', conn, err instanceof OSError ? `(${err.message})` : '');
  sel.unregister(conn); // before close, as the docs require
  unsent.delete(conn);
  conn.close();
}

const port = Number(process.argv[2] ?? 1234);
const sock = new Socket();
sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
sock.bind(['localhost', port]);
sock.listen(100);
sock.setblocking(false);
sel.register(sock, EVENT_READ, accept);
print('listening on localhost port', sock.getsockname()[1]);

for (;;) {
  const events = sel.select();
  for (const [key, mask] of events) key.data(key.fileobj as Socket, mask);
}
