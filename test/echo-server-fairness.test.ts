/**
 * Fairness without timing, checked from the verbose log, where each wake-up ends with "waiting for the next
 * event". A wake-up reads each ready connection at most once and stops reading at a budget (512 KiB and
 * one read): light connections (whose last read emptied their socket) first, then a ring of the others,
 * first in first out, at least two of each ring per wake-up, the rest in the next wake-ups. So a crowd of busy
 * clients can neither make a quiet one wait behind them nor starve one of their own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { describe, test } from 'node:test';
import './support/kqueue.js';
import { requireKqueue } from './support/kqueue.js';
import { collect, connect, label, withServer, type ServerProcess } from './echo-server-harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The most a wake-up may read: the core's budget plus its last read (64 KiB), with room to spare. */
const WAKE_LIMIT = MiB;
/** The ring serves at least this many a wake-up (policies/scheduler.ts's MIN_TURNS_PER_RING, for each of its rings). */
const MIN_TURNS_PER_RING = 2;

interface Read {
  wakeup: number;
  bytes: number;
}

/** The reads of each peer after the log's first `from` lines, numbered by wake-up (0: the first with a read). */
function readsByPeer(server: ServerProcess, skipLines: number): Map<string, Read[]> {
  const byPeer = new Map<string, Read[]>();
  let wakeup = -1;
  let readInThisWakeup = false;
  for (const line of server.lines().slice(skipLines)) {
    if (line === 'waiting for the next event') {
      readInThisWakeup = false;
      continue;
    }
    const m = /^received .*?(?:\((\d+) bytes\) )?from (\S+)$/.exec(line);
    if (!m) continue;
    if (!readInThisWakeup) {
      readInThisWakeup = true;
      wakeup++;
    }
    const reads = byPeer.get(m[2]!) ?? [];
    // Short payloads are shown whole, without a byte count.
    reads.push({ wakeup, bytes: m[1] === undefined ? 60 : Number(m[1]) });
    byPeer.set(m[2]!, reads);
  }
  return byPeer;
}

function assertWakeupsBounded(byPeer: Map<string, Read[]>): void {
  const perWakeup = new Map<number, number>();
  for (const [peer, reads] of byPeer) {
    for (let i = 1; i < reads.length; i++) assert.notEqual(reads[i]!.wakeup, reads[i - 1]!.wakeup, `${peer} was read twice in one wake-up`);
    for (const r of reads) perWakeup.set(r.wakeup, (perWakeup.get(r.wakeup) ?? 0) + r.bytes);
  }
  const busiest = Math.max(...perWakeup.values());
  assert.ok(busiest <= WAKE_LIMIT, `${busiest} bytes read in one wake-up`);
}

for (const backend of ['epoll', 'uring']) test(`20 clients sending 2 MiB at once (--backend ${backend}): each wake-up reads each connection at most once, 1 MiB in all`, async (t) => {
  await withServer(['--backend', backend], async (server) => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(server.port)));
    try {
      const payload = randomBytes(2 * MiB);
      const echoes = clients.map((sock) => collect(sock, payload.length));
      for (const sock of clients) sock.write(payload);
      for (const echo of echoes) assert.ok((await echo).equals(payload));
    } finally {
      for (const sock of clients) sock.destroy();
    }
    const byPeer = readsByPeer(server, 0);
    assertWakeupsBounded(byPeer);
    const wakeups = Math.max(...[...byPeer.values()].map((reads) => reads[reads.length - 1]!.wakeup)) + 1;
    t.diagnostic(`${wakeups} wake-ups read 40 MiB`);
    assert.ok(wakeups >= 40, `${wakeups} wake-ups`);
  });
});

/**
 * 30 streaming clients and a quiet one, everything already in the kernel when the server starts reading
 * (it is stopped while they write), so every connection stays readable until its last read: a connection
 * that waits longer than the ring's length allows is starved, whatever the machine's speed.
 */
const BUSY = 30;
const STREAM_BYTES = MiB;
const CONFIGURATIONS: Array<[string, string[]]> = [
  ['epoll', ['--backend', 'epoll']],
  ['poll', ['--backend', 'poll']],
  ['select', ['--backend', 'select']],
  ['kqueue', ['--backend', 'kqueue']],
  ['uring', ['--backend', 'uring']],
  ['selectors (DefaultSelector)', ['--backend', 'selectors']],
  ['selectors attached to the Node loop', ['--backend', 'selectors', '--driver', 'loop']],
];

describe('no connection starves while 30 clients stream', () => {
  for (const [name, args] of CONFIGURATIONS) {
    test(`${name}: every read comes within ${Math.ceil((BUSY + 1) / MIN_TURNS_PER_RING) + 1} wake-ups of the previous one, the quiet client's too`, async (t) => {
      if (args.includes('kqueue')) requireKqueue();
      await withServer(args, async (server) => {
        const sockets: net.Socket[] = [];
        try {
          for (let i = 0; i <= BUSY; i++) sockets.push(await connect(server.port));
          await server.waitForCount(/^new connection from /, BUSY + 1);
          const quiet = sockets[BUSY]!;
          const stream = Buffer.alloc(STREAM_BYTES, 'stream of a busy client. ');
          const ping = Buffer.from('ping');
          const echoes = sockets.map((sock) => collect(sock, sock === quiet ? ping.length : STREAM_BYTES));
          const skip = server.lines().length - 1;
          // Stopped, the server reads nothing: once every write has reached the kernel, every
          // connection is readable at once, and stays so until its last read.
          server.child.kill('SIGSTOP');
          try {
            await Promise.all(sockets.map((sock) => new Promise<void>((resolve, reject) => {
              sock.write(sock === quiet ? ping : stream, (err) => (err ? reject(err) : resolve()));
            })));
          } finally {
            server.child.kill('SIGCONT');
          }
          for (const [i, echo] of echoes.entries()) assert.ok((await echo).equals(i === BUSY ? ping : stream), `echo ${i}`);

          const byPeer = readsByPeer(server, skip);
          assertWakeupsBounded(byPeer);
          const bound = Math.ceil((BUSY + 1) / MIN_TURNS_PER_RING) + 1;
          let longest = 0;
          for (const sock of sockets) {
            const reads = byPeer.get(label(sock));
            assert.ok(reads, `no read from ${label(sock)}`);
            // The first wait counts from the first wake-up, when every connection was already readable.
            let previous = 0;
            for (const r of reads) {
              longest = Math.max(longest, r.wakeup - previous);
              assert.ok(r.wakeup - previous <= bound, `${label(sock)} waited ${r.wakeup - previous} wake-ups for a read (at most ${bound})`);
              previous = r.wakeup;
            }
          }
          const quietRead = byPeer.get(label(quiet))![0]!.wakeup;
          const wakeups = Math.max(...[...byPeer.values()].map((reads) => reads[reads.length - 1]!.wakeup)) + 1;
          t.diagnostic(`${wakeups} wake-ups; the quiet client was read in wake-up ${quietRead + 1}; the longest wait ${longest} wake-ups`);
          // The quiet client was served while the busy ones were still streaming.
          assert.ok(quietRead < wakeups - 1, `the quiet client was read only in the last wake-up (${wakeups})`);
        } finally {
          for (const sock of sockets) sock.destroy();
        }
      });
    });
  }
});
