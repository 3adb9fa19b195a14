/**
 * CPython's socket module helpers: getnameinfo, inet_pton/ntop/aton/ntoa, if_* and gethostname, fromfd,
 * sock.dup() and the inheritable flag. Expected values, error classes and messages are CPython 3.13's on
 * Linux (checked beside python3); the host name and interface list are compared with a live python3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import {
  AF_INET, AF_INET6, AF_UNIX, NI_NUMERICHOST, NI_NUMERICSERV, SOCK_DGRAM, SOCK_STREAM, Socket, fromfd, gaierror,
  gethostname, getnameinfo, ifIndextoname, ifNameindex, ifNametoindex, inetAton, inetNtoa, inetNtop, inetPton,
} from 'iomux/socket';
import { OSError, OverflowError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { Fds, expectNoFdLeaks, makeBadFd, openFdNumbers } from './support/fds.js';
import { socketPair } from './support/sockets.js';

expectNoFdLeaks();

function isOSError(message: string, errno: number | null = null) {
  return (e: unknown): boolean => e instanceof OSError && e.message === message && e.errno === errno;
}

function python(code: string): string {
  return execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim();
}

test('inetPton/inetNtop round trips and errors', () => {
  assert.deepEqual([...inetPton(AF_INET, '1.2.3.4')], [1, 2, 3, 4]);
  assert.deepEqual([...inetPton(AF_INET6, '::1')], [...Array(15).fill(0), 1]);
  assert.throws(() => inetPton(AF_INET, '1.2.3'), isOSError('illegal IP address string passed to inet_pton'));
  assert.throws(() => inetPton(AF_INET6, 'x'), isOSError('illegal IP address string passed to inet_pton'));
  assert.throws(() => inetPton(3, '1.2.3.4'), isOSError('[Errno 97] Address family not supported by protocol', 97));
  assert.throws(() => inetPton(AF_INET, '1.2.3.4\0'), (e: unknown) => e instanceof ValueError && e.message === 'embedded null character');
  assert.throws(() => inetPton(AF_INET, Buffer.from('1.2.3.4') as never), TypeError);
  assert.equal(inetNtop(AF_INET, Buffer.from([1, 2, 3, 4])), '1.2.3.4');
  assert.equal(inetNtop(AF_INET6, Buffer.alloc(16)), '::');
  assert.equal(inetNtop(AF_INET6, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4])), '::ffff:1.2.3.4');
  const badLength = (e: unknown): boolean => e instanceof ValueError && e.message === 'invalid length of packed IP address string';
  assert.throws(() => inetNtop(AF_INET, Buffer.from([1, 2, 3])), badLength);
  assert.throws(() => inetNtop(AF_INET6, Buffer.alloc(15)), badLength);
  assert.throws(() => inetNtop(3, Buffer.from('1234')), (e: unknown) => e instanceof ValueError && e.message === 'unknown address family 3');
  assert.throws(() => inetNtop(AF_INET, '1234' as never), TypeError);
});

test('inetAton accepts what inet_aton(3) does; inetNtoa wants 4 bytes', () => {
  assert.deepEqual([...inetAton('1')], [0, 0, 0, 1]);
  assert.deepEqual([...inetAton('127.1')], [127, 0, 0, 1]);
  assert.deepEqual([...inetAton('0x7f.1')], [127, 0, 0, 1]);
  assert.deepEqual([...inetAton('1.2.3.4 junk')], [1, 2, 3, 4]);
  for (const bad of ['x', '']) assert.throws(() => inetAton(bad), isOSError('illegal IP address string passed to inet_aton'));
  assert.throws(() => inetAton('1.2.3.4\0'), ValueError);
  assert.equal(inetNtoa(Buffer.from([1, 2, 3, 4])), '1.2.3.4');
  assert.equal(inetNtoa(new Uint8Array([255, 0, 0, 7])), '255.0.0.7');
  assert.throws(() => inetNtoa(Buffer.from([1, 2, 3])), isOSError('packed IP wrong length for inet_ntoa'));
  assert.throws(() => inetNtoa('abcd' as never), TypeError);
});

test('getnameinfo: numeric and named results, CPython\'s errors', () => {
  assert.deepEqual(getnameinfo(['127.0.0.1', 80], NI_NUMERICHOST | NI_NUMERICSERV), ['127.0.0.1', '80']);
  assert.deepEqual(getnameinfo(['127.0.0.1', 80], NI_NUMERICHOST), ['127.0.0.1', 'http']);
  assert.deepEqual(getnameinfo(['::1', 80, 0, 0], NI_NUMERICHOST), ['::1', 'http']);
  assert.deepEqual(getnameinfo(['::1', 80, 0, 1], NI_NUMERICHOST), ['::1%1', 'http']);
  // The array's scope id wins over a "%interface" suffix, as in CPython.
  assert.deepEqual(getnameinfo(['fe80::1%lo', 80], NI_NUMERICHOST), ['fe80::1', 'http']);
  const [pyHost] = JSON.parse(python("import socket, json; print(json.dumps(socket.getnameinfo(('127.0.0.1', 22), 0)))")) as [string];
  assert.equal(getnameinfo(['127.0.0.1', 22], 0)[0], pyHost);
  assert.throws(() => getnameinfo(['127.0.0.1'] as never, 0), (e: unknown) => e instanceof TypeError && e.message === 'getnameinfo(): illegal sockaddr argument');
  assert.throws(() => getnameinfo(['127.0.0.1', 80, 0], 0), isOSError('IPv4 sockaddr must be 2 tuple'));
  assert.throws(() => getnameinfo(['localhost', 80], 0), (e: unknown) => e instanceof gaierror && e.errno === -2 && e.message === '[Errno -2] Name or service not known');
  assert.throws(() => getnameinfo(['', 80], 0), gaierror);
  assert.throws(() => getnameinfo(['127.0.0.1', -1], 0), (e: unknown) => e instanceof gaierror && e.errno === -8);
  assert.throws(() => getnameinfo(['127.0.0.1', 80], 999999), (e: unknown) => e instanceof gaierror && e.message === '[Errno -1] Bad value for ai_flags');
  assert.throws(() => getnameinfo(['::1', 80, 2 ** 20, 0], 0), (e: unknown) => e instanceof OverflowError && e.message === 'getnameinfo(): flowinfo must be 0-1048575.');
  assert.throws(() => getnameinfo('x' as never, 0), TypeError);
  assert.throws(() => getnameinfo(['127.0.0.1', 'http'] as never, 0), TypeError);
});

test('interfaces: lo is index 1 both ways; ifNameindex matches python3\'s if_nameindex()', () => {
  assert.equal(ifNametoindex('lo'), 1);
  assert.equal(ifNametoindex(Buffer.from('lo')), 1);
  assert.equal(ifIndextoname(1), 'lo');
  for (const bad of ['nope0', '', 'a'.repeat(100)]) assert.throws(() => ifNametoindex(bad), isOSError('no interface with this name'));
  assert.throws(() => ifNametoindex('lo\0'), (e: unknown) => e instanceof ValueError && e.message === 'embedded null byte');
  assert.throws(() => ifNametoindex(1 as never), TypeError);
  for (const bad of [0, 99999, 2 ** 32 - 1]) assert.throws(() => ifIndextoname(bad), isOSError('[Errno 6] No such device or address', 6));
  assert.throws(() => ifIndextoname(-1), (e: unknown) => e instanceof OverflowError && e.message === "can't convert negative value to unsigned int");
  assert.throws(() => ifIndextoname(2 ** 32), (e: unknown) => e instanceof OverflowError && e.message === 'index is too large');
  assert.throws(() => ifIndextoname('1' as never), TypeError);
  // The netlink example's test (another file, possibly running at the same time) adds and removes its own
  // iomuxtest* interfaces: compare the machine's other interfaces, which nothing here changes.
  const stable = (list: Array<[number, string]>) => list.filter(([, name]) => !name.startsWith('iomuxtest'));
  const expected = JSON.parse(python('import socket, json; print(json.dumps(socket.if_nameindex()))')) as Array<[number, string]>;
  assert.deepEqual(stable(ifNameindex()), stable(expected));
});

test('gethostname is the kernel\'s node name, as python3 and Node see it', () => {
  assert.equal(gethostname(), hostname());
  assert.equal(gethostname(), python('import socket; print(socket.gethostname())'));
});

test('fromfd dups the fd (close-on-exec) and checks it is a socket', (t) => {
  const fds = new Fds(t);
  const [a, b] = socketPair(t);
  const c = fds.own(fromfd(a.fileno(), AF_UNIX, SOCK_STREAM));
  assert.notEqual(c.fileno(), a.fileno());
  assert.equal(c.family, AF_UNIX);
  assert.equal(c.getInheritable(), false);
  c.sendall('via dup');
  assert.equal(b.recv(10).toString(), 'via dup');
  c.close();
  a.sendall('original still open');
  assert.equal(b.recv(100).toString(), 'original still open');
  const bad = makeBadFd(500, 600);
  assert.throws(() => fromfd(bad, AF_INET, SOCK_STREAM), isOSError('[Errno 9] Bad file descriptor', 9));
  assert.throws(() => fromfd(-1, AF_INET, SOCK_STREAM), isOSError('[Errno 9] Bad file descriptor', 9));
  const [r] = fds.pipe();
  const before = openFdNumbers();
  assert.throws(() => fromfd(r, AF_INET, SOCK_STREAM), isOSError('[Errno 88] Socket operation on non-socket', 88));
  assert.deepEqual(openFdNumbers(), before, 'the failed dup was closed');
});

test('sock.dup(): same family/type/proto/timeout, non-inheritable, independent close', (t) => {
  const fds = new Fds(t);
  const s = fds.own(new Socket(AF_INET, SOCK_DGRAM));
  s.settimeout(2.5);
  const d = fds.own(s.dup());
  assert.notEqual(d.fileno(), s.fileno());
  assert.deepEqual([d.family, d.type, d.proto, d.gettimeout()], [AF_INET, SOCK_DGRAM, 0, 2.5]);
  assert.equal(d.getInheritable(), false);
  s.bind(['127.0.0.1', 0]);
  assert.deepEqual(d.getsockname(), s.getsockname());
  d.close();
  assert.equal(s.getsockname()[0], '127.0.0.1');
  s.close();
  assert.throws(() => s.dup(), isOSError('[Errno 9] Bad file descriptor', 9));
});

test('getInheritable/setInheritable toggle FD_CLOEXEC; EBADF once closed', () => {
  const s = new Socket(AF_UNIX, SOCK_STREAM);
  assert.equal(s.getInheritable(), false);
  s.setInheritable(true);
  assert.equal(s.getInheritable(), true);
  assert.equal(os.getInheritable(s.fileno()), true);
  s.setInheritable(false);
  assert.equal(os.getInheritable(s.fileno()), false);
  s.close();
  assert.throws(() => s.getInheritable(), isOSError('[Errno 9] Bad file descriptor', 9));
  assert.throws(() => s.setInheritable(true), isOSError('[Errno 9] Bad file descriptor', 9));
});
