// Socket objects: creation, members, close-on-exec, blocking modes and timeouts, closed sockets, bad
// arguments and fd hygiene. Real sockets throughout; peers that must act while this thread is blocked
// live in child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  AF_INET, AF_INET6, AF_UNIX, IPPROTO_TCP, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF,
  SO_REUSEADDR, SO_TYPE, TCP_NODELAY, MSG_PEEK, SOMAXCONN, SO_ACCEPTCONN,
  Socket, socket, socketpair, createServer, createConnection, gaierror, getdefaulttimeout, setdefaulttimeout,
} from 'iomux/socket';
import {
  BlockingIOError, OSError, OverflowError, TimeoutError, ValueError,
} from 'iomux/errors';
import * as os from 'iomux/os';
import { catchSignals } from './support/children.js';
import { closeQuietly, fdCount, makeBadFd } from './support/fds.js';
import { socketPair } from './support/sockets.js';
import { secondsSince } from './support/timing.js';

const EBADF = 9;

/** A listener on 127.0.0.1, a client connected to it and the accepted end, all closed after the test. */
function tcpTriple(t: { after(fn: () => void): void }): { listener: Socket; client: Socket; server: Socket } {
  const listener = createServer(['127.0.0.1', 0]);
  t.after(() => listener.close());
  const client = createConnection(listener.getsockname() as [string, number]);
  t.after(() => client.close());
  const [server] = listener.accept();
  t.after(() => server.close());
  return { listener, client, server };
}

/** Runs `script` in a child node process; resolves with the child once it printed its first line. */
function startChild(script: string, args: string[] = []): Promise<{ child: ReturnType<typeof spawn>; line: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, line: out.slice(0, nl), exited });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
}

test('new Socket() defaults to a blocking AF_INET stream socket; socket() is the same', (t) => {
  const s = new Socket();
  t.after(() => s.close());
  assert.equal(s.family, AF_INET);
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.proto, 0);
  assert.ok(s.fileno() >= 0);
  assert.equal(s.getblocking(), true);
  assert.equal(s.gettimeout(), null);
  assert.equal(os.getBlocking(s.fileno()), true);
  const u = socket(AF_INET6, SOCK_DGRAM);
  t.after(() => u.close());
  assert.ok(u instanceof Socket);
  assert.equal(u.family, AF_INET6);
  assert.equal(u.type, SOCK_DGRAM);
  assert.equal(u.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
});

test('every socket iomux creates is close-on-exec: new, accepted, paired', (t) => {
  const { listener, client, server } = tcpTriple(t);
  const [a, b] = socketPair(t);
  for (const s of [listener, client, server, a, b]) assert.equal(os.getInheritable(s.fileno()), false, String(s));
});

test('SOCK_NONBLOCK in the type gives a non-blocking socket and is stripped from .type', (t) => {
  const s = new Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => s.close());
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.gettimeout(), 0);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s.fileno()), false);
});

test('wrapping an fd detects family, type and proto from the kernel', (t) => {
  const { server } = tcpTriple(t);
  const fd = os.dup(server.fileno());
  const wrapped = new Socket(undefined, undefined, undefined, fd);
  t.after(() => wrapped.close());
  assert.equal(wrapped.family, AF_INET);
  assert.equal(wrapped.type, SOCK_STREAM);
  assert.equal(wrapped.proto, IPPROTO_TCP);
  assert.deepEqual(wrapped.getsockname(), server.getsockname());
  const [r, w] = os.pipe();
  t.after(() => (os.close(r), os.close(w)));
  assert.throws(() => new Socket(undefined, undefined, undefined, r), (e: unknown) => e instanceof OSError && e.code === 'ENOTSOCK');
  assert.throws(() => new Socket(undefined, undefined, undefined, -3), ValueError);
});

test('setblocking and settimeout switch between the three modes, and the fd follows', (t) => {
  const s = new Socket();
  t.after(() => s.close());
  s.setblocking(false);
  assert.equal(s.gettimeout(), 0);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s.fileno()), false);
  s.settimeout(2.5);
  assert.equal(s.gettimeout(), 2.5);
  assert.equal(s.getblocking(), true);
  assert.equal(os.getBlocking(s.fileno()), false, 'timeout mode keeps the fd non-blocking and waits with poll');
  s.settimeout(null);
  assert.equal(s.gettimeout(), null);
  assert.equal(os.getBlocking(s.fileno()), true);
  s.setblocking(true);
  assert.equal(s.getblocking(), true);
});

test('settimeout rejects bad values with the documented errors', (t) => {
  const s = new Socket();
  t.after(() => s.close());
  assert.throws(() => s.settimeout(-1), { name: 'ValueError', message: 'Timeout value out of range' });
  assert.throws(() => s.settimeout(Number.NaN), ValueError);
  assert.throws(() => s.settimeout('1' as never), TypeError);
  assert.throws(() => s.settimeout(Infinity), OverflowError);
  assert.equal(s.gettimeout(), null, 'a rejected timeout changes nothing');
});

test('setdefaulttimeout applies to sockets created afterwards, including accepted ones', (t) => {
  assert.equal(getdefaulttimeout(), null);
  setdefaulttimeout(3);
  t.after(() => setdefaulttimeout(null));
  const s = new Socket();
  t.after(() => s.close());
  assert.equal(s.gettimeout(), 3);
  assert.equal(os.getBlocking(s.fileno()), false);
  const { server } = tcpTriple(t);
  assert.equal(server.gettimeout(), 3);
  setdefaulttimeout(null);
  const b = new Socket();
  t.after(() => b.close());
  assert.equal(b.gettimeout(), null);
});

test('non-blocking mode raises BlockingIOError (EAGAIN) from recv, recvInto, recvfrom and accept', (t) => {
  const { listener, client } = tcpTriple(t);
  client.setblocking(false);
  listener.setblocking(false);
  for (const call of [() => client.recv(10), () => client.recvInto(Buffer.alloc(4)), () => client.recvfrom(10), () => listener.accept()]) {
    assert.throws(call, (e: unknown) => e instanceof BlockingIOError && e.errno === 11 && e.message === '[Errno 11] Resource temporarily unavailable');
  }
});

test('timeout mode: recv raises TimeoutError("timed out") after about the timeout', (t) => {
  const { client } = tcpTriple(t);
  client.settimeout(1);
  const start = performance.now();
  assert.throws(() => client.recv(10), (e: unknown) => e instanceof TimeoutError && e.message === 'timed out' && e instanceof OSError);
  const took = secondsSince(start);
  assert.ok(took >= 0.8 && took < 2, `took ${took}s`);
});

test('timeout mode: accept raises TimeoutError after about the timeout', (t) => {
  const listener = createServer(['127.0.0.1', 0]);
  t.after(() => listener.close());
  listener.settimeout(0.5);
  const start = performance.now();
  assert.throws(() => listener.accept(), TimeoutError);
  const took = secondsSince(start);
  assert.ok(took >= 0.4 && took < 2, `took ${took}s`);
});

test('timeout mode: sendall covers the whole call with one deadline', (t) => {
  const [a] = socketPair(t);
  a.settimeout(0.5);
  const start = performance.now();
  assert.throws(() => a.sendall(Buffer.alloc(64 * 1024 * 1024)), TimeoutError);
  const took = secondsSince(start);
  assert.ok(took >= 0.4 && took < 2, `took ${took}s`);
});

test('timeout mode: data arriving before the deadline is returned', async (t) => {
  const listener = createServer(['127.0.0.1', 0]);
  t.after(() => listener.close());
  const port = (listener.getsockname() as [string, number])[1];
  const { child, exited } = await startChild(
    `const net = require('net');
     const c = net.connect(${port}, '127.0.0.1', () => { console.log('connected'); setTimeout(() => c.end('late'), 300); });`,
  );
  t.after(() => child.kill());
  listener.settimeout(5);
  const [conn] = listener.accept();
  t.after(() => conn.close());
  conn.settimeout(5);
  const start = performance.now();
  assert.equal(conn.recv(10).toString(), 'late');
  const took = secondsSince(start);
  assert.ok(took >= 0.2 && took < 4, `took ${took}s`);
  assert.equal(conn.recv(10).length, 0);
  conn.close(); // the child exits once its connection is fully closed
  assert.equal(await exited, 0);
});

test('blocking mode blocks the thread until the peer (another process) sends', async (t) => {
  const listener = createServer(['127.0.0.1', 0]);
  t.after(() => listener.close());
  const port = (listener.getsockname() as [string, number])[1];
  const { child, exited } = await startChild(
    `const net = require('net');
     const c = net.connect(${port}, '127.0.0.1', () => { console.log('up'); setTimeout(() => c.end('wake up'), 400); });`,
  );
  t.after(() => child.kill());
  const [conn] = listener.accept();
  t.after(() => conn.close());
  assert.equal(conn.gettimeout(), null);
  const start = performance.now();
  const got = conn.recv(100);
  const took = secondsSince(start);
  assert.equal(got.toString(), 'wake up');
  assert.ok(took >= 0.3, `recv returned after ${took}s, before the peer sent`);
  conn.close();
  assert.equal(await exited, 0);
});

test('a signal during a timeout-mode wait resumes with the time left (PEP 475)', async (t) => {
  const { client } = tcpTriple(t);
  catchSignals('SIGUSR2', t);
  const { child, exited } = await startChild(
    `console.log('ready'); setTimeout(() => process.kill(${process.pid}, 'SIGUSR2'), 200);`,
  );
  t.after(() => child.kill());
  client.settimeout(1);
  const start = performance.now();
  assert.throws(() => client.recv(10), TimeoutError);
  const took = secondsSince(start);
  assert.ok(took >= 0.8 && took < 1.9, `took ${took}s: EINTR must neither end the wait nor restart the full timeout`);
  assert.equal(await exited, 0);
});

test('a closed socket: fileno() -1, EBADF from every operation, close() idempotent', () => {
  const s = new Socket();
  const fd = s.fileno();
  s.close();
  assert.equal(s.fileno(), -1);
  assert.equal(s.closed, true);
  s.close();
  s[Symbol.dispose]();
  const ebadf = (e: unknown): boolean => e instanceof OSError && e.errno === EBADF && e.code === 'EBADF';
  assert.throws(() => s.recv(1), ebadf);
  assert.throws(() => s.recvInto(Buffer.alloc(1)), ebadf);
  assert.throws(() => s.tryRecvInto(Buffer.alloc(1)), ebadf);
  assert.throws(() => s.send(Buffer.from('x')), ebadf);
  assert.throws(() => s.trySend(Buffer.from('x')), ebadf);
  assert.throws(() => s.sendall(Buffer.from('x')), ebadf);
  assert.throws(() => s.sendto(Buffer.from('x'), ['127.0.0.1', 9]), ebadf);
  assert.throws(() => s.connect(['127.0.0.1', 9]), ebadf);
  assert.throws(() => s.bind(['127.0.0.1', 0]), ebadf);
  assert.throws(() => s.listen(), ebadf);
  assert.throws(() => s.accept(), ebadf);
  assert.throws(() => s.getpeername(), ebadf);
  assert.throws(() => s.getsockname(), ebadf);
  assert.throws(() => s.getsockopt(SOL_SOCKET, SO_TYPE), ebadf);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1), ebadf);
  assert.throws(() => s.shutdown(2), ebadf);
  assert.throws(() => s.settimeout(1), ebadf);
  assert.equal(s.connectEx(['127.0.0.1', 9]), EBADF);
  assert.match(String(s), /\[closed\] fd=-1/);
  // The fd number really was released.
  assert.throws(() => os.getBlocking(fd), ebadf);
});

test('detach() hands over the fd without closing it', (t) => {
  const s = new Socket();
  const fd = s.detach();
  t.after(() => os.close(fd));
  assert.equal(s.fileno(), -1);
  s.close(); // must not close the detached fd
  assert.equal(os.getBlocking(fd), true);
  const again = new Socket(AF_INET, SOCK_STREAM, 0, os.dup(fd));
  t.after(() => again.close());
  assert.deepEqual(again.getsockname(), ['0.0.0.0', 0]);
});

test('using disposes (closes) the socket', () => {
  let fd: number;
  {
    using s = new Socket();
    fd = s.fileno();
    assert.ok(fd >= 0);
  }
  assert.throws(() => os.getBlocking(fd), (e: unknown) => e instanceof OSError && e.errno === EBADF);
});

test('setsockopt/getsockopt: ints, booleans and raw bytes', (t) => {
  const { client } = tcpTriple(t);
  client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
  client.setsockopt(IPPROTO_TCP, TCP_NODELAY, false);
  assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  client.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
  assert.ok(client.getsockopt(SOL_SOCKET, SO_RCVBUF) >= 65536);
  const raw = client.getsockopt(SOL_SOCKET, SO_RCVBUF, 4);
  assert.ok(Buffer.isBuffer(raw) && raw.length === 4);
  assert.equal(raw.readInt32LE(0), client.getsockopt(SOL_SOCKET, SO_RCVBUF));
  const nodelay = Buffer.alloc(4);
  nodelay.writeInt32LE(1, 0);
  client.setsockopt(IPPROTO_TCP, TCP_NODELAY, nodelay);
  assert.equal(client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
  assert.throws(() => client.getsockopt(SOL_SOCKET, SO_RCVBUF, 2000), (e: unknown) => e instanceof OSError && /buflen out of range/.test(e.message));
  assert.throws(() => client.setsockopt(SOL_SOCKET, SO_RCVBUF, 'big' as never), TypeError);
  assert.throws(() => client.setsockopt(SOL_SOCKET, SO_RCVBUF, 2 ** 40), OverflowError);
  assert.throws(() => client.setsockopt(SOL_SOCKET, 9999, 1), (e: unknown) => e instanceof OSError && e.errno === 92);
});

test('listen() uses min(SOMAXCONN, 128) and SO_ACCEPTCONN shows the listener', (t) => {
  assert.ok(SOMAXCONN >= 128);
  const s = new Socket();
  t.after(() => s.close());
  s.bind(['127.0.0.1', 0]);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_ACCEPTCONN), 0);
  s.listen();
  assert.equal(s.getsockopt(SOL_SOCKET, SO_ACCEPTCONN), 1);
  const n = new Socket();
  t.after(() => n.close());
  n.bind(['127.0.0.1', 0]);
  n.listen(-5); // negative counts as 0, as in Python
  assert.equal(n.getsockopt(SOL_SOCKET, SO_ACCEPTCONN), 1);
});

test('bad arguments raise TypeError, ValueError or OverflowError naming the problem', (t) => {
  const s = new Socket();
  t.after(() => s.close());
  const u = new Socket(AF_UNIX);
  t.after(() => u.close());
  const six = new Socket(AF_INET6);
  t.after(() => six.close());
  assert.throws(() => s.connect(['127.0.0.1', 70000]), { name: 'OverflowError', message: 'connect(): port must be 0-65535.' });
  assert.throws(() => s.bind(['127.0.0.1', -1]), { name: 'OverflowError', message: 'bind(): port must be 0-65535.' });
  assert.throws(() => s.connect('127.0.0.1:80' as never), { name: 'TypeError', message: /AF_INET address must be an array \[host, port\]/ });
  assert.throws(() => s.connect(['127.0.0.1'] as never), { name: 'TypeError', message: /must be a pair \[host, port\]/ });
  assert.throws(() => s.connect(['127.0.0.1', 80, 0] as never), { name: 'TypeError', message: /got 3 items/ });
  assert.throws(() => s.connect([80, 80] as never), { name: 'TypeError', message: /host must be a string/ });
  assert.throws(() => s.connect(['127.0.0.1', '80'] as never), { name: 'TypeError', message: /port must be an integer/ });
  assert.throws(() => s.connect(['127.0.0.1', 1.5]), { name: 'TypeError', message: /port must be an integer/ });
  assert.throws(() => s.connect(['a\0b', 80]), { name: 'TypeError', message: /null character/ });
  assert.throws(() => six.connect(['::1', 80, 1 << 20]), { name: 'OverflowError', message: 'connect(): flowinfo must be 0-1048575.' });
  assert.throws(() => six.connect(['::1', 80, 0, -1]), OverflowError);
  assert.throws(() => six.connect(['::1'] as never), { name: 'TypeError', message: /AF_INET6 address/ });
  assert.throws(() => six.bind(['<broadcast>', 0]), (e: unknown) => e instanceof OSError && /address family mismatched/.test(e.message));
  assert.throws(() => u.connect(['x', 1] as never), { name: 'TypeError', message: /AF_UNIX address must be a string or Buffer/ });
  assert.throws(() => u.connect('x'.repeat(108)), (e: unknown) => e instanceof OSError && /AF_UNIX path too long/.test(e.message));
  assert.throws(() => s.connect(['no-such-host.invalid', 80]), (e: unknown) => e instanceof gaierror && e instanceof OSError && e.errno! < 0);
  assert.throws(() => s.recv(-1), { name: 'ValueError', message: 'negative buffersize in recv' });
  assert.throws(() => s.recv('1' as never), TypeError);
  assert.throws(() => s.recvfrom(-1), ValueError);
  assert.throws(() => s.recvInto(Buffer.alloc(4), 8), { name: 'ValueError', message: /buffer too small/ });
  assert.throws(() => s.recvInto(Buffer.alloc(4), -1), ValueError);
  assert.throws(() => s.recvInto('abc' as never), TypeError);
  assert.throws(() => s.tryRecvInto(Buffer.alloc(4), 2, 3), RangeError);
  assert.throws(() => s.tryRecvInto(Buffer.alloc(4), 5), RangeError);
  assert.throws(() => s.trySend(Buffer.alloc(4), 0, 5), RangeError);
  // The messages name the argument that is wrong and the range it must fit.
  assert.throws(() => s.tryRecvInto(Buffer.alloc(4), 5), { name: 'RangeError', message: 'offset must be an integer from 0 to 4 (got 5)' });
  assert.throws(() => s.tryRecvInto(Buffer.alloc(4), 1.5), { name: 'RangeError', message: /^offset must be an integer from 0 to 4/ });
  assert.throws(() => s.tryRecvInto(Buffer.alloc(4), 2, 3), { name: 'RangeError', message: 'length must be an integer from 0 to 2 (got 3)' });
  assert.throws(() => s.trySend(Buffer.alloc(4), 0, NaN), { name: 'RangeError', message: /^length must be an integer from 0 to 4/ });
  assert.throws(() => s.trySend(Buffer.alloc(4), 0, -1), { name: 'RangeError', message: 'length must be an integer from 0 to 4 (got -1)' });
  assert.throws(() => s.trySend(Buffer.alloc(4), '1' as never, 1), { name: 'RangeError', message: /^offset must be an integer from 0 to 4/ });
  assert.throws(() => s.send(42 as never), { name: 'TypeError', message: /data must be a Buffer/ });
  assert.throws(() => s.sendall({} as never), TypeError);
  assert.throws(() => s.shutdown('both' as never), TypeError);
  assert.throws(() => s.listen('5' as never), TypeError);
  assert.throws(() => new Socket('inet' as never), { name: 'TypeError', message: /family must be an integer/ });
  assert.throws(() => new Socket(12345), (e: unknown) => e instanceof OSError && e.code === 'EAFNOSUPPORT');
  assert.throws(() => createServer(['127.0.0.1', 0], { family: AF_INET, dualstackIpv6: true }), ValueError);
  assert.throws(() => createConnection(['127.0.0.1', 65536]), { name: 'OverflowError', message: /port must be 0-65535\./ });
  assert.throws(() => createConnection('127.0.0.1' as never), TypeError);
});

test('createServer rejects option names it does not know, before opening anything', () => {
  const before = fdCount();
  for (const name of ['reuseport', 'dualstack', 'reuse_port', 'backLog']) {
    assert.throws(() => createServer(['127.0.0.1', 0], { [name]: true } as never), {
      name: 'TypeError',
      message: `createServer() got an unexpected option '${name}'`,
    });
  }
  assert.throws(() => createServer(['127.0.0.1', 0], { reusePort: true, extra: 1 } as never), { name: 'TypeError', message: /unexpected option 'extra'/ });
  assert.equal(fdCount(), before);
  // undefined for a known option means "the default", as leaving it out does.
  const s = createServer(['127.0.0.1', 0], { reusePort: undefined, dualstackIpv6: undefined, backlog: undefined, family: undefined });
  s.close();
});

test('wrapping an fd always checks that it is an open socket, even with family, type and proto given', (t) => {
  const before = fdCount();
  const bad = makeBadFd(900, 1000);
  assert.throws(() => new Socket(AF_INET, SOCK_STREAM, 0, bad), (e: unknown) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => socket(AF_UNIX, SOCK_STREAM, 0, bad), (e: unknown) => e instanceof OSError && e.code === 'EBADF');
  const [r, w] = os.pipe();
  try {
    assert.throws(() => new Socket(AF_INET, SOCK_STREAM, 0, r), (e: unknown) => e instanceof OSError && e.code === 'ENOTSOCK');
    assert.throws(() => new Socket(AF_UNIX, SOCK_DGRAM, 0, w), (e: unknown) => e instanceof OSError && e.code === 'ENOTSOCK');
    // Also with a default timeout, which would otherwise make the fd non-blocking first.
    setdefaulttimeout(1);
    try {
      assert.throws(() => new Socket(AF_INET, SOCK_STREAM, 0, r), (e: unknown) => e instanceof OSError && e.code === 'ENOTSOCK');
    } finally {
      setdefaulttimeout(null);
    }
    // The fd given is the caller's: a refused one is left open and untouched, and nothing else was opened.
    assert.equal(os.getBlocking(r), true);
    os.write(w, 'still open');
    assert.equal(os.read(r, 100).toString(), 'still open');
    assert.equal(fdCount(), before + 2);
  } finally {
    closeQuietly(r, w);
  }
  assert.equal(fdCount(), before);
  // A real socket with everything given is accepted as it is.
  const [a, b] = socketPair(t);
  const fd = os.dup(a.fileno());
  const wrapped = new Socket(AF_UNIX, SOCK_STREAM, 0, fd);
  t.after(() => wrapped.close());
  wrapped.sendall('via the wrapper');
  assert.equal(b.recv(100).toString(), 'via the wrapper');
});

test('bind on an address in use raises OSError EADDRINUSE naming the address; the socket is closed', (t) => {
  const first = createServer(['127.0.0.1', 0]);
  t.after(() => first.close());
  const address = first.getsockname() as [string, number];
  const before = fdCount();
  assert.throws(() => createServer(address), (e: unknown) =>
    e instanceof OSError && e.code === 'EADDRINUSE' && e.message.includes(`while attempting to bind on address ('127.0.0.1', ${address[1]})`));
  assert.equal(fdCount(), before);
});

test('MSG_PEEK leaves the data in place', (t) => {
  const { client, server } = tcpTriple(t);
  client.sendall('peekaboo');
  assert.equal(server.recv(4, MSG_PEEK).toString(), 'peek');
  assert.equal(server.recv(100).toString(), 'peekaboo');
});

test('toString shows fd, family, type and addresses like Python\'s repr', (t) => {
  const { client, listener } = tcpTriple(t);
  const [host, port] = listener.getsockname() as [string, number];
  const [a] = socketPair(t);
  assert.match(String(a), /^<Socket fd=\d+, family=1, type=1, proto=0>$/, 'unnamed addresses are left out');
  assert.match(String(client), new RegExp(`^<Socket fd=\\d+, family=2, type=1, proto=6, laddr=\\('127\\.0\\.0\\.1', \\d+\\), raddr=\\('${host.replace(/\./g, '\\.')}', ${port}\\)>$`));
});

test('no fd leaks, exactly: every socket made by a factory or accept is closed by close()', () => {
  const before = fdCount();
  for (let i = 0; i < 50; i++) {
    const listener = createServer(['127.0.0.1', 0]);
    const client = createConnection(listener.getsockname() as [string, number]);
    const [server] = listener.accept();
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
    const closedPort = new Socket();
    closedPort.bind(['127.0.0.1', 0]);
    assert.throws(() => createConnection(closedPort.getsockname() as [string, number]), OSError);
    assert.throws(() => createServer(listener.getsockname() as [string, number]), OSError);
    assert.throws(() => socketpair(AF_INET), OSError);
    assert.throws(() => closedPort.connect(['127.0.0.1', 99999]), OverflowError);
    assert.throws(() => new Socket(AF_INET, SOCK_STREAM, 0, -1), ValueError);
    const timed = createConnection(listener.getsockname() as [string, number], 2);
    const [timedPeer] = listener.accept();
    timed.sendall('x');
    assert.equal(timedPeer.recv(1).toString(), 'x');
    for (const s of [listener, client, server, a, b, closedPort, timed, timedPeer]) s.close();
  }
  assert.equal(fdCount(), before);
});
