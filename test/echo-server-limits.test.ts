/**
 * The echo server's options and limits, each on a server process of its own: --max-connections,
 * --max-pending (a tiny one, so reading pauses and resumes many times), --idle-timeout, --timeout, --quiet,
 * SIGINT, and a port already in use.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  closedByPeer, collect, connect, label, roundTrip, runCli, ServerProcess,
} from './echo-server-harness.js';
import { sleep } from './support/timing.js';

async function withServer(args: string[], body: (server: ServerProcess) => Promise<void>): Promise<void> {
  const server = await ServerProcess.start(args);
  try {
    await body(server);
  } finally {
    if (server.alive) await server.stop('SIGKILL');
  }
}

describe('echo-server limits and options', () => {
  test('--max-connections: the connection beyond the limit is accepted and closed at once, and logged', async () => {
    await withServer(['--max-connections', '3', '--backend', 'select'], async (server) => {
      const socks = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
      try {
        for (const s of socks) {
          const echo = collect(s, 2);
          s.write('hi');
          assert.equal((await echo).toString(), 'hi');
        }
        const extra = await connect(server.port);
        const extraLabel = label(extra);
        const t0 = performance.now();
        await closedByPeer(extra, 2000);
        assert.ok(performance.now() - t0 < 1000);
        await server.waitFor(new RegExp(`refusing connection from ${extraLabel}: 3 connections are open \\(--max-connections 3\\)`));

        // A slot frees up: the next connection is served.
        const leaving = label(socks[0]!);
        socks[0]!.end();
        await server.waitFor(new RegExp(`closing ${leaving} after reading no data`));
        const probe = Buffer.from('room again');
        assert.deepEqual(await roundTrip(server.port, probe), probe);
      } finally {
        for (const s of socks) s.destroy();
      }
      const exit = await server.stop('SIGTERM');
      assert.equal(exit.code, 0);
      assert.match(server.log, /served 4 connections \(1 refused\)/);
    });
  });

  test('--max-pending 4K: reading pauses and resumes again and again, and every byte still comes back in order', async (t) => {
    await withServer(['--max-pending', '4K', '--backend', 'poll'], async (server) => {
      // More than the kernel's socket buffers hold (several MiB each way), read in short bursts with pauses in
      // between: in each pause the buffers fill and the server's queue passes 4 KiB (it stops reading), in
      // each burst the queue drains below 2 KiB (it reads again).
      const data = randomBytes(48 * 1024 * 1024);
      const sock = await connect(server.port);
      const peer = label(sock);
      const toggle = setInterval(() => (sock.isPaused() ? sock.resume() : sock.pause()), 10);
      try {
        sock.pause();
        const echo = collect(sock, data.length);
        sock.write(data);
        const got = await echo;
        assert.ok(got.equals(data), 'the echo differs from the data sent');
      } finally {
        clearInterval(toggle);
        sock.destroy();
      }
      const resumes = server.lines().filter((l) => l.startsWith(`resuming reads from ${peer}`)).length;
      t.diagnostic(`reading resumed ${resumes} times`);
      assert.ok(resumes >= 3, `reading resumed ${resumes} times`);
    });
  });

  test('--idle-timeout: a silent connection is closed, a talkative one is not', async () => {
    await withServer(['--idle-timeout', '0.5', '--backend', 'epoll'], async (server) => {
      const silent = await connect(server.port);
      const talker = await connect(server.port);
      const silentLabel = label(silent);
      try {
        const t0 = performance.now();
        const silentClosed = closedByPeer(silent, 5000);
        for (let i = 0; i < 8; i++) {
          const echo = collect(talker, 1);
          talker.write('.');
          assert.equal((await echo).toString(), '.');
          await sleep(150);
        }
        await silentClosed;
        const ms = performance.now() - t0;
        assert.ok(ms >= 400 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
        assert.ok(!talker.destroyed, 'the active connection was closed too');
        await server.waitFor(new RegExp(`closing ${silentLabel} after 0\\.5 s without activity`));
      } finally {
        silent.destroy();
        talker.destroy();
      }
    });
  });

  test('--timeout: "timed out, do some other work here" when nothing happens for that long', async () => {
    await withServer(['--timeout', '0.2'], async (server) => {
      await sleep(900);
      const count = server.lines().filter((l) => l === '  timed out, do some other work here').length;
      assert.ok(count >= 2 && count <= 6, `${count} timeout lines in 0.9 s`);
      // Each is followed by a new wait, as in the seed.
      const lines = server.lines();
      const i = lines.indexOf('  timed out, do some other work here');
      assert.deepEqual(lines.slice(i + 1, i + 3), ['', 'waiting for the next event']);
    });
  });

  test('--quiet logs start-up, errors and the summary only; SIGINT stops it like SIGTERM', async () => {
    await withServer(['--quiet'], async (server) => {
      const r = await runCli(['echo-client', '--port', String(server.port)]);
      assert.equal(r.code, 0, r.stderr);
      const victim = await connect(server.port);
      victim.on('error', () => {});
      const victimLabel = label(victim);
      victim.write(randomBytes(4 * 1024 * 1024));
      await sleep(200);
      victim.resetAndDestroy();
      await server.waitFor(new RegExp(`closing ${victimLabel}`));
      const exit = await server.stop('SIGINT');
      assert.equal(exit.code, 0);
      const lines = server.lines().filter((l) => l !== '');
      assert.match(lines[0]!, /^starting up on 127\.0\.0\.1 port \d+ \(backend default \(EpollSelector\)\)$/);
      assert.match(lines[1]!, new RegExp(`^closing ${victimLabel}`));
      assert.match(lines[2]!, /^shutting down \(SIGINT\): closing 0 connections$/);
      assert.match(lines[3]!, /^served 3 connections \(0 refused\), echoed \d+ bytes, peak \d+ concurrent connections$/);
      assert.equal(lines.length, 4, lines.join('\n'));
    });
  });

  test('--driver loop: the timers are Node timers (--idle-timeout, --timeout) and SIGINT stops it at once', async () => {
    await withServer(['--driver', 'loop', '--idle-timeout', '0.4', '--timeout', '0.25'], async (server) => {
      const silent = await connect(server.port);
      const silentLabel = label(silent);
      try {
        const t0 = performance.now();
        await closedByPeer(silent, 5000);
        const ms = performance.now() - t0;
        assert.ok(ms >= 300 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
        await server.waitFor(new RegExp(`closing ${silentLabel} after 0\\.4 s without activity`));
        await server.waitFor(/ {2}timed out, do some other work here\n/);
      } finally {
        silent.destroy();
      }
      const exit = await server.stop('SIGINT');
      assert.equal(exit.code, 0);
      assert.ok(exit.ms < 1000, `exit took ${exit.ms.toFixed(0)} ms`);
      assert.match(server.log, /shutting down \(SIGINT\): closing 0 connections\nserved 1 connection/);
    });
  });

  test('a port already in use: one clear error line and exit status 1', async () => {
    await withServer([], async (server) => {
      const r = await runCli(['echo-server', '--port', String(server.port)]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `cannot listen on 127.0.0.1 port ${server.port}: [Errno 98] Address already in use\n`);
    });
  });
});
