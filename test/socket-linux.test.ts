/**
 * Linux socket features beyond Node's net/dgram: SO_PEERCRED and SCM_CREDENTIALS with SO_PASSCRED,
 * SOCK_SEQPACKET servers on abstract addresses, AF_UNIX datagrams sent with sendmsg to an address,
 * AF_NETLINK (NETLINK_ROUTE, unprivileged) and AF_PACKET on `lo` (needs CAP_NET_RAW: these tests run as root,
 * here and in CI) — with CPython's address forms and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  AF_NETLINK, AF_PACKET, AF_UNIX, CMSG_SPACE, ETH_P_ALL, MSG_CTRUNC, NETLINK_ROUTE, PACKET_HOST, PACKET_OUTGOING,
  SCM_CREDENTIALS, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOL_SOCKET, SO_PASSCRED, SO_PEERCRED, Socket, htonl, htons,
  ntohl, ntohs, packCredentials, peerCredentials, unpackCredentials,
} from 'iomux/socket';
import { OSError, OverflowError, ValueError } from 'iomux/errors';
import { Fds, expectNoFdLeaks, tempDir } from './support/fds.js';
import { socketPair } from './support/sockets.js';

expectNoFdLeaks();

const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };

function abstractName(tag: string): Buffer {
  return Buffer.from(`\0iomux-test-${process.pid}-${tag}-${Math.random().toString(36).slice(2)}`);
}

test('SO_PEERCRED: raw struct ucred bytes as CPython, and peerCredentials()', (t) => {
  const [a] = socketPair(t);
  const raw = a.getsockopt(SOL_SOCKET, SO_PEERCRED!, 12);
  assert.equal(raw.length, 12);
  assert.deepEqual(unpackCredentials(raw), me);
  assert.deepEqual(peerCredentials(a), me);
  assert.throws(() => unpackCredentials(Buffer.alloc(4)), ValueError);
});

test('SCM_CREDENTIALS: with SO_PASSCRED every message carries the sender\'s credentials; explicit ones too', (t) => {
  const [a, b] = socketPair(t, AF_UNIX, SOCK_DGRAM);
  b.setsockopt(SOL_SOCKET, SO_PASSCRED!, 1);
  a.sendmsg([Buffer.from('implicit')]);
  const [data, anc, flags] = b.recvmsg(100, CMSG_SPACE(12));
  assert.equal(data.toString(), 'implicit');
  assert.equal(flags, 0);
  assert.equal(anc.length, 1);
  assert.equal(anc[0]![0], SOL_SOCKET);
  assert.equal(anc[0]![1], SCM_CREDENTIALS);
  assert.deepEqual(unpackCredentials(anc[0]![2]), me);
  a.sendmsg([Buffer.from('explicit')], [[SOL_SOCKET, SCM_CREDENTIALS!, packCredentials(me)]]);
  const [, anc2] = b.recvmsg(100, CMSG_SPACE(12));
  assert.deepEqual(unpackCredentials(anc2[0]![2]), me);
  // No room for them: MSG_CTRUNC, nothing returned.
  a.sendmsg([Buffer.from('x')]);
  const [, anc3, flags3] = b.recvmsg(100, 0);
  assert.deepEqual(anc3, []);
  assert.equal(flags3 & MSG_CTRUNC, MSG_CTRUNC);
  // Room for the header and part of the data: the kernel truncates the item and says MSG_CTRUNC; the part
  // that arrived is returned, as CPython returns it.
  a.sendmsg([Buffer.from('y')]);
  const [, anc4, flags4] = b.recvmsg(100, CMSG_SPACE(12) - 8);
  assert.equal(flags4 & MSG_CTRUNC, MSG_CTRUNC);
  assert.equal(anc4.length, 1);
  assert.equal(anc4[0]![1], SCM_CREDENTIALS);
  assert.equal(anc4[0]![2].length, 8);
  assert.equal(anc4[0]![2].readInt32LE(0), process.pid);
  assert.throws(() => packCredentials({ pid: 1, uid: -1, gid: 0 }), ValueError);
});

test('SOCK_SEQPACKET server on an abstract address: accept, boundaries kept, abstract names as Buffers', (t) => {
  const fds = new Fds(t);
  const name = abstractName('seqpacket');
  const server = fds.own(new Socket(AF_UNIX, SOCK_SEQPACKET));
  server.bind(name);
  server.listen();
  assert.deepEqual(server.getsockname(), name);
  const client = fds.own(new Socket(AF_UNIX, SOCK_SEQPACKET));
  client.connect(name);
  const [conn, address] = server.accept();
  fds.own(conn);
  assert.equal(address, '');
  assert.equal(conn.type, SOCK_SEQPACKET);
  assert.deepEqual(client.getpeername(), name);
  client.sendmsg([Buffer.from('first')]);
  client.sendmsg([Buffer.from('sec'), Buffer.from('ond')]);
  assert.equal(conn.recvmsg(100)[0].toString(), 'first');
  assert.equal(conn.recvmsg(100)[0].toString(), 'second');
  client.close();
  assert.equal(conn.recvmsg(100)[0].length, 0);
});

test('AF_UNIX datagrams with sendmsg to an address: paths and abstract names, sender addresses returned', (t) => {
  const fds = new Fds(t);
  const dir = tempDir(t, 'iomux-msg-');
  const path = join(dir, 'rx.sock');
  const rx = fds.own(new Socket(AF_UNIX, SOCK_DGRAM));
  rx.bind(path);
  const tx = fds.own(new Socket(AF_UNIX, SOCK_DGRAM));
  const txName = abstractName('tx');
  tx.bind(txName);
  assert.equal(tx.sendmsg([Buffer.from('to a path')], [], 0, path), 9);
  const [data, , , from] = rx.recvmsg(100);
  assert.equal(data.toString(), 'to a path');
  assert.deepEqual(from, txName);
  // Reply to the abstract address the message came from.
  rx.sendmsg([Buffer.from('reply')], [], 0, from);
  const [reply, , , replyFrom] = tx.recvmsg(100);
  assert.equal(reply.toString(), 'reply');
  assert.equal(replyFrom, path);
  assert.throws(() => tx.sendmsg([Buffer.from('x')], [], 0, join(dir, 'nobody')), (e: unknown) => e instanceof OSError && e.code === 'ENOENT');
  assert.throws(() => tx.sendmsg([Buffer.from('x')], [], 0, abstractName('nobody')), (e: unknown) => e instanceof OSError && e.code === 'ECONNREFUSED');
  assert.throws(() => tx.sendmsg([Buffer.from('x')], [], 0, ['1.2.3.4', 5] as never), TypeError);
});

/** An RTM_GETLINK dump request: struct nlmsghdr + struct ifinfomsg. */
function getLinkRequest(seq: number): Buffer {
  const req = Buffer.alloc(32);
  req.writeUInt32LE(32, 0); // nlmsg_len
  req.writeUInt16LE(18, 4); // RTM_GETLINK
  req.writeUInt16LE(0x1 | 0x300, 6); // NLM_F_REQUEST | NLM_F_DUMP
  req.writeUInt32LE(seq, 8);
  return req;
}

test('AF_NETLINK NETLINK_ROUTE: [pid, groups] addresses, a link dump that lists lo', (t) => {
  const fds = new Fds(t);
  const nl = fds.own(new Socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  nl.bind([0, 0]);
  const [pid, groups] = nl.getsockname() as [number, number];
  assert.ok(pid > 0);
  assert.equal(groups, 0);
  assert.equal(nl.sendto(getLinkRequest(1), [0, 0]), 32);
  const indexes: number[] = [];
  for (let done = false; !done;) {
    const [reply, from] = nl.recvfrom(65536);
    assert.deepEqual(from, [0, 0], 'the kernel answers from pid 0');
    for (let at = 0; at + 16 <= reply.length;) {
      const len = reply.readUInt32LE(at);
      const type = reply.readUInt16LE(at + 4);
      if (type === 3 /* NLMSG_DONE */) done = true;
      else if (type === 16 /* RTM_NEWLINK */) indexes.push(reply.readInt32LE(at + 16 + 4));
      at += (len + 3) & ~3;
      if (len < 16) break;
    }
  }
  assert.ok(indexes.includes(1), `lo (index 1) in ${indexes.join(',')}`);
  assert.throws(() => nl.bind(0 as never), (e: unknown) => e instanceof TypeError && /AF_NETLINK address must be an array/.test(e.message));
  assert.throws(() => nl.bind([0] as never), (e: unknown) => e instanceof TypeError && e.message === 'AF_NETLINK address must be a pair (pid, groups)');
  assert.throws(() => nl.sendto(Buffer.alloc(1), [0, 0, 0] as never), TypeError);
  assert.throws(() => nl.bind(['a', 0] as never), TypeError);
  assert.throws(() => nl.bind([-1, 0]), OverflowError);
});

test('AF_PACKET on lo (CAP_NET_RAW): CPython\'s 5-item addresses; a frame sent is received with its address', (t) => {
  const fds = new Fds(t);
  const ETHERTYPE = 0x88b5; // IEEE 802 local experimental
  const rx = fds.own(new Socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE)));
  rx.bind(['lo', ETHERTYPE]);
  const all = fds.own(new Socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
  all.bind(['lo', ETH_P_ALL]);
  assert.deepEqual(all.getsockname(), ['lo', ETH_P_ALL, 0, 772, Buffer.alloc(6)]);
  const tx = fds.own(new Socket(AF_PACKET, SOCK_RAW, 0));
  const frame = Buffer.concat([Buffer.alloc(6), Buffer.alloc(6), Buffer.from([0x88, 0xb5]), Buffer.from('iomux packet')]);
  assert.equal(tx.sendto(frame, ['lo', ETHERTYPE]), frame.length);
  rx.settimeout(5);
  const [got, address] = rx.recvfrom(1500);
  assert.ok(got.equals(frame));
  assert.deepEqual(address, ['lo', ETHERTYPE, PACKET_HOST, 772, Buffer.alloc(6)]);
  // An ETH_P_ALL socket sees the frame twice on lo: going out, then coming in (other lo traffic is skipped).
  all.settimeout(5);
  const seen: number[] = [];
  while (seen.length < 2) {
    const [g, a] = all.recvfrom(1500);
    if (!g.equals(frame)) continue;
    const [ifname, proto, pkttype] = a as [string, number, number, number, Buffer];
    assert.deepEqual([ifname, proto], ['lo', ETHERTYPE]);
    seen.push(pkttype);
  }
  assert.deepEqual(seen.sort(), [PACKET_HOST, PACKET_OUTGOING].sort());
  assert.throws(() => rx.bind(['nope0', 0]), (e: unknown) => e instanceof OSError && e.errno === 19 && e.message === '[Errno 19] No such device');
  assert.throws(() => rx.bind(['', 0]), (e: unknown) => e instanceof OSError && e.errno === 19);
  assert.throws(() => rx.bind(['lo'] as never), (e: unknown) => e instanceof TypeError && e.message === 'AF_PACKET address must be a tuple of two to five elements');
  assert.throws(() => rx.bind('lo'), TypeError);
  assert.throws(() => rx.bind(['lo', 0, 0, 0, Buffer.alloc(9)]), (e: unknown) => e instanceof ValueError && e.message === 'Hardware address must be 8 bytes or less');
  assert.throws(() => rx.bind(['lo', 0x10000]), (e: unknown) => e instanceof OverflowError && e.message === 'bind(): proto must be 0-65535.');
  assert.throws(() => rx.bind(['lo', 0, 0, 0, 'abc'] as never), TypeError);
});

test('htons/ntohs/htonl/ntohl, with CPython\'s range errors', () => {
  assert.equal(htons(1), 256);
  assert.equal(ntohs(htons(0x1234)), 0x1234);
  assert.equal(ntohl(1), 16777216);
  assert.equal(htonl(0xdeadbeef), 0xefbeadde);
  assert.throws(() => htons(-1), (e: unknown) => e instanceof OverflowError && e.message === "htons: can't convert negative Python int to C 16-bit unsigned integer");
  assert.throws(() => htons(2 ** 16), (e: unknown) => e instanceof OverflowError && e.message === 'htons: Python int too large to convert to C 16-bit unsigned integer');
  assert.throws(() => htonl(2 ** 32), (e: unknown) => e instanceof OverflowError && e.message === 'int larger than 32 bits');
  assert.throws(() => htons(1.5), TypeError);
});
