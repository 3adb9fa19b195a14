// AF_UNIX (filesystem paths, the abstract namespace, socketpair) and UDP datagrams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AF_INET, AF_INET6, AF_UNIX, MSG_DONTWAIT, MSG_PEEK, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET, SOCK_STREAM,
  SOL_SOCKET, SO_BROADCAST, Socket, createServer, socketpair,
} from 'iomux/socket';
import { select } from 'iomux/select';
import { BlockingIOError, BrokenPipeError, FileNotFoundError, OSError } from 'iomux/errors';
import * as os from 'iomux/os';
import { tempDir } from './support/fds.js';
import { socketPair } from './support/sockets.js';

function abstractName(tag: string): string {
  return `\0iomux-test-${process.pid}-${tag}-${Math.random().toString(36).slice(2)}`;
}

test('socketpair(): AF_UNIX stream, blocking, close-on-exec, unnamed ends', (t) => {
  const [a, b] = socketPair(t);
  for (const s of [a, b]) {
    assert.equal(s.family, AF_UNIX);
    assert.equal(s.type, SOCK_STREAM);
    assert.equal(s.proto, 0);
    assert.equal(s.gettimeout(), null);
    assert.equal(os.getBlocking(s.fileno()), true);
    assert.equal(os.getInheritable(s.fileno()), false);
    assert.equal(s.getsockname(), '');
    assert.equal(s.getpeername(), '');
  }
  a.sendall('ping');
  assert.equal(b.recv(10).toString(), 'ping');
  b.sendall(Buffer.from('pong'));
  assert.equal(a.recv(10).toString(), 'pong');
  b.close();
  assert.equal(a.getpeername(), '', 'still unnamed after the peer closed');
});

test('socketpair with SOCK_NONBLOCK is non-blocking; datagram and seqpacket pairs keep message boundaries', (t) => {
  const [a] = socketPair(t, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  assert.equal(a.gettimeout(), 0);
  assert.equal(a.type, SOCK_STREAM);
  assert.throws(() => a.recv(1), BlockingIOError);
  for (const type of [SOCK_DGRAM, SOCK_SEQPACKET]) {
    const [x, y] = socketPair(t, AF_UNIX, type);
    assert.equal(x.type, type);
    x.send('one');
    x.send('two');
    assert.equal(y.recv(100).toString(), 'one');
    assert.equal(y.recv(100).toString(), 'two');
  }
});

test('socketpair(AF_INET) raises OSError EOPNOTSUPP, as on Linux Python', () => {
  assert.throws(() => socketpair(AF_INET), (e: unknown) => e instanceof OSError && e.errno === 95 && e.constructor === OSError);
});

test('BrokenPipeError at once when sending on a unix socketpair whose peer closed', (t) => {
  const [a, b] = socketpair();
  t.after(() => a.close());
  b.close();
  assert.throws(() => a.send('x'), (e: unknown) => e instanceof BrokenPipeError && e.errno === 32 && e.message === '[Errno 32] Broken pipe');
  assert.throws(() => a.sendall('x'), BrokenPipeError);
  assert.throws(() => a.trySend(Buffer.from('x')), BrokenPipeError);
  assert.equal(a.recv(10).length, 0);
});

test('a non-blocking socketpair driven from one thread: partial sends, trySend/tryRecvInto flow control', (t) => {
  const [a, b] = socketPair(t);
  a.setblocking(false);
  b.setblocking(false);
  const payload = Buffer.alloc(2_000_000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const sink = Buffer.alloc(payload.length);
  let sent = 0;
  let got = 0;
  let wouldBlock = 0;
  while (got < payload.length) {
    // Send until the kernel refuses more, then drain what arrived: both ends run in this one thread.
    while (sent < payload.length) {
      const n = a.trySend(payload, sent, payload.length - sent);
      if (n < 0) {
        wouldBlock++;
        break;
      }
      sent += n;
    }
    for (let r = b.tryRecvInto(sink, got, sink.length - got); r > 0; r = b.tryRecvInto(sink, got, sink.length - got)) got += r;
  }
  assert.ok(wouldBlock > 0, 'the buffer filled at least once');
  assert.ok(sink.equals(payload));
  assert.equal(b.tryRecvInto(sink, 0, 1), -1);
});

test('AF_UNIX filesystem path: bind, listen, connect, names on both sides', (t) => {
  const path = join(tempDir(t, 'iomux-sock-'), 'stream.sock');
  const listener = createServer(path, { family: AF_UNIX });
  t.after(() => listener.close());
  assert.ok(statSync(path).isSocket());
  assert.equal(listener.getsockname(), path);
  const client = new Socket(AF_UNIX, SOCK_STREAM);
  t.after(() => client.close());
  client.connect(path);
  const [conn, peer] = listener.accept();
  t.after(() => conn.close());
  assert.equal(peer, '', 'an unbound client is unnamed');
  assert.equal(client.getpeername(), path);
  assert.equal(conn.getsockname(), path);
  client.sendall('over a path');
  assert.equal(conn.recv(100).toString(), 'over a path');
  // A Buffer path works too.
  const byBuffer = new Socket(AF_UNIX, SOCK_STREAM);
  t.after(() => byBuffer.close());
  byBuffer.connect(Buffer.from(path));
  listener.accept()[0].close();
});

test('AF_UNIX connect to a missing path raises FileNotFoundError; a path too long raises OSError', (t) => {
  const dir = tempDir(t, 'iomux-sock-');
  const s = new Socket(AF_UNIX);
  t.after(() => s.close());
  assert.throws(() => s.connect(join(dir, 'missing.sock')), (e: unknown) => e instanceof FileNotFoundError && e.errno === 2);
  assert.throws(() => s.bind('/tmp/' + 'x'.repeat(103)), (e: unknown) => e instanceof OSError && /AF_UNIX path too long/.test(e.message));
  // 107 bytes plus the NUL fill sun_path exactly: accepted by the encoder (the kernel decides the rest).
  assert.throws(() => s.connect(join(dir, 'y'.repeat(107 - dir.length - 1))), FileNotFoundError);
});

test('AF_UNIX abstract names: string with a leading NUL or a Buffer; names come back as Buffers', (t) => {
  const name = abstractName('stream');
  const listener = new Socket(AF_UNIX, SOCK_STREAM);
  t.after(() => listener.close());
  listener.bind(name);
  listener.listen();
  const bound = listener.getsockname();
  assert.ok(Buffer.isBuffer(bound));
  assert.ok(bound.equals(Buffer.from(name)));
  const client = new Socket(AF_UNIX, SOCK_STREAM);
  t.after(() => client.close());
  client.connect(Buffer.from(name));
  const [conn] = listener.accept();
  t.after(() => conn.close());
  assert.ok((client.getpeername() as Buffer).equals(Buffer.from(name)));
  conn.sendall('abstract');
  assert.equal(client.recv(100).toString(), 'abstract');
  // The longest abstract name, 108 bytes, fits.
  const longest = Buffer.alloc(108, 0x61);
  longest[0] = 0;
  Buffer.from(`${process.pid}`).copy(longest, 1);
  const big = new Socket(AF_UNIX, SOCK_DGRAM);
  t.after(() => big.close());
  big.bind(longest);
  assert.ok((big.getsockname() as Buffer).equals(longest));
  assert.throws(() => big.connect(Buffer.concat([longest, Buffer.from('b')])), /AF_UNIX path too long/);
});

test('AF_UNIX datagrams: sendto/recvfrom with path senders and unnamed senders', (t) => {
  const dir = tempDir(t, 'iomux-sock-');
  const serverPath = join(dir, 'server.sock');
  const clientPath = join(dir, 'client.sock');
  const server = new Socket(AF_UNIX, SOCK_DGRAM);
  t.after(() => server.close());
  server.bind(serverPath);
  const client = new Socket(AF_UNIX, SOCK_DGRAM);
  t.after(() => client.close());
  client.bind(clientPath);
  assert.equal(client.sendto('from a path', serverPath), 11);
  assert.deepEqual(server.recvfrom(100), [Buffer.from('from a path'), clientPath]);
  const anonymous = new Socket(AF_UNIX, SOCK_DGRAM);
  t.after(() => anonymous.close());
  anonymous.sendto(Buffer.from('anon'), 0, serverPath);
  const [data, from] = server.recvfrom(100);
  assert.equal(data.toString(), 'anon');
  assert.equal(from, null, 'an unbound AF_UNIX sender has no address (Python: None)');
  server.sendto('reply', clientPath);
  assert.deepEqual(client.recvfrom(100), [Buffer.from('reply'), serverPath]);
});

test('UDP over 127.0.0.1: sendto/recvfrom with the sender address, recvfromInto, MSG_PEEK, truncation', (t) => {
  const server = new Socket(AF_INET, SOCK_DGRAM);
  t.after(() => server.close());
  server.bind(['127.0.0.1', 0]);
  const client = new Socket(AF_INET, SOCK_DGRAM);
  t.after(() => client.close());
  const target = server.getsockname() as [string, number];
  assert.equal(client.sendto(Buffer.from('datagram one'), target), 12);
  const [data, from] = server.recvfrom(1024);
  assert.equal(data.toString(), 'datagram one');
  const clientPort = (client.getsockname() as [string, number])[1];
  assert.deepEqual(from, ['127.0.0.1', clientPort]);
  client.sendto('datagram two', 0, target);
  assert.equal(server.recv(100, MSG_PEEK).toString(), 'datagram two');
  const buf = Buffer.alloc(64);
  const [n, sender] = server.recvfromInto(buf);
  assert.equal(buf.toString('utf8', 0, n), 'datagram two');
  assert.deepEqual(sender, ['127.0.0.1', clientPort]);
  // A datagram longer than the buffer is truncated; the rest is dropped.
  client.sendto('0123456789', target);
  assert.equal(server.recv(4).toString(), '0123');
  server.setblocking(false);
  assert.throws(() => server.recvfrom(10), BlockingIOError);
  assert.throws(() => server.recv(10, MSG_DONTWAIT), BlockingIOError);
  // Replies go back to the address recvfrom gave.
  server.sendto('reply', from!);
  assert.equal(client.recv(100).toString(), 'reply');
});

test('UDP connect + send/recv, and recvfrom on a stream socket gives a null address', (t) => {
  const a = new Socket(AF_INET, SOCK_DGRAM);
  t.after(() => a.close());
  a.bind(['127.0.0.1', 0]);
  const b = new Socket(AF_INET, SOCK_DGRAM);
  t.after(() => b.close());
  b.connect(a.getsockname() as [string, number]);
  b.send('connected datagram');
  assert.equal(a.recv(100).toString(), 'connected datagram');
  const [x, y] = socketPair(t);
  x.sendall('stream');
  const [data, from] = y.recvfrom(100);
  assert.equal(data.toString(), 'stream');
  assert.equal(from, null);
});

test('UDP over ::1 with 4-tuples', (t) => {
  const server = new Socket(AF_INET6, SOCK_DGRAM);
  t.after(() => server.close());
  server.bind(['::1', 0]);
  const client = new Socket(AF_INET6, SOCK_DGRAM);
  t.after(() => client.close());
  const [host, port] = server.getsockname() as [string, number, number, number];
  assert.equal(host, '::1');
  client.sendto('six', [host, port, 0, 0]);
  const [data, from] = server.recvfrom(10);
  assert.equal(data.toString(), 'six');
  assert.ok(Array.isArray(from) && from.length === 4 && from[0] === '::1');
});

test("'<broadcast>' is 255.255.255.255 on AF_INET (with SO_BROADCAST)", (t) => {
  const s = new Socket(AF_INET, SOCK_DGRAM);
  t.after(() => s.close());
  s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
  s.connect(['<broadcast>', 9]);
  assert.deepEqual(s.getpeername(), ['255.255.255.255', 9]);
});

test('a listener is readable only while a connection is pending; a peer FIN makes a socket readable', (t) => {
  const path = abstractName('ready');
  const listener = createServer(path, { family: AF_UNIX });
  t.after(() => listener.close());
  assert.deepEqual(select([listener], [listener], [], 0), [[], [], []]);
  const client = new Socket(AF_UNIX);
  t.after(() => client.close());
  client.connect(path);
  assert.deepEqual(select([listener], [], [], 5)[0], [listener]);
  const [conn] = listener.accept();
  t.after(() => conn.close());
  client.shutdown(1);
  assert.deepEqual(select([conn], [], [], 5)[0], [conn]);
  assert.equal(conn.recv(10).length, 0);
});
