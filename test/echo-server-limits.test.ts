/**
 * The echo server's options and limits, each on a server process of its own: --max-connections,
 * --max-pending (a tiny one, so reading pauses and resumes many times), --idle-timeout, --timeout, --quiet,
 * SIGINT, a port already in use, and a log that nobody reads (stderr a pipe that fills up) while clients
 * make the server log as much as they like.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import * as os from 'iomux/os';
import {
  closedByPeer, collect, connect, label, MAIN, roundTrip, runCli, smallWindowClient, withServer,
} from './echo-server-harness.js';
import { outputMatching } from './support/children.js';
import { drain, Fds, type After } from './support/fds.js';
import { sleep } from './support/timing.js';

/** A server whose stderr is a pipe of this test, read only when the test says so (after the start-up line). */
interface UnreadServer {
  child: ChildProcess;
  port: number;
  /** Everything in the pipe so far (reading makes room in it). */
  read(): string;
  /** Sends SIGTERM and resolves with the exit status and how long the exit took. */
  terminate(): Promise<{ code: number | null; ms: number }>;
}

async function startWithUnreadStderr(t: After, args: string[]): Promise<UnreadServer> {
  const fds = new Fds(t);
  const [r, w] = fds.pipe();
  os.setBlocking(r, false); // the test's end only: the server's end stays blocking, as a shell's pipe is
  const child = spawn(process.execPath, [MAIN, 'echo-server', '--port', '0', ...args], { stdio: ['ignore', 'ignore', w] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  fds.close(w);
  let log = '';
  const deadline = Date.now() + 15_000;
  let m: RegExpExecArray | null;
  while ((m = /starting up on \S+ port (\d+) .*\n/.exec((log += drain(r)))) === null) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the server did not start:\n${log}`);
    await sleep(20);
  }
  return {
    child,
    port: Number(m[1]),
    read: () => (log += drain(r)),
    async terminate() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 5000)));
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      const ms = performance.now() - t0;
      assert.ok(result !== null, `still running 5 s after SIGTERM (${readProcState(child.pid!)})`);
      return { code: result[0], ms };
    },
  };
}

/** The kernel's view of a stuck process: its state and where it sleeps ("S anon_pipe_write"). */
function readProcState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `state ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]} ${readFileSync(`/proc/${pid}/wchan`, 'utf8')}`;
  } catch {
    return 'state unknown';
  }
}

/** One client that connects, sends a byte and resets the connection (SO_LINGER 0): one error line each. */
function sendAndReset(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let connected = false;
    sock.on('error', () => {});
    sock.once('connect', () => {
      connected = true;
      sock.write('x', () => sock.resetAndDestroy());
    });
    sock.once('close', () => (connected ? resolve() : reject(new Error('could not connect'))));
  });
}

/** `count` clients that send and reset, `batch` at a time. */
async function resetStorm(port: number, count: number, batch = 100): Promise<void> {
  for (let done = 0; done < count; done += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - done) }, () => sendAndReset(port)));
  }
}

/**
 * A round trip that gives up after `ms` (the harness's waits 30 s; a stuck server should fail fast). It
 * returns once the server has closed the connection after the client's FIN, so a SIGTERM that follows
 * finds no connection open.
 */
async function echoWithin(port: number, ms: number): Promise<string> {
  return (await roundTrip(port, Buffer.from('ping'), ms)).toString();
}

/**
 * A server whose stderr is a pipe read by another process (a slow log reader), which passes on what it
 * reads: the start-up line, then nothing until `startReading()`, then 4 KiB per 100 ms. `log()` is what the
 * reader has passed on so far.
 */
async function startWithSlowReader(t: After, args: string[]): Promise<{
  server: UnreadServer; log: () => string; startReading: () => void; readerDone: Promise<unknown>;
}> {
  const fds = new Fds(t);
  const [r, w] = fds.pipe();
  const reader = spawn(process.execPath, ['-e', `
    const fs = require('node:fs');
    const buf = Buffer.alloc(4096);
    const idle = setInterval(() => {}, 1000); // alive until told to read (a signal handler alone is not)
    process.on('SIGUSR2', () => {
      clearInterval(idle);
      const t = setInterval(() => {
        const n = fs.readSync(0, buf, 0, 4096);
        if (n === 0) { clearInterval(t); return; }
        fs.writeSync(1, buf.subarray(0, n));
      }, 100);
    });
    fs.writeSync(1, buf.subarray(0, fs.readSync(0, buf, 0, 4096)));`], { stdio: [r, 'pipe', 'inherit'] });
  t.after(() => {
    if (reader.exitCode === null && reader.signalCode === null) reader.kill('SIGKILL');
  });
  const readerDone = once(reader, 'close'); // its output all read, not just exited
  let log = '';
  reader.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const child = spawn(process.execPath, [MAIN, 'echo-server', '--port', '0', ...args], { stdio: ['ignore', 'ignore', w] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  fds.close(r);
  fds.close(w);
  const m = await outputMatching(() => log, /starting up on \S+ port (\d+) .*\n/, () => child.exitCode === null, 15_000);
  assert.ok(m, `the server did not start:\n${log}`);
  const server: UnreadServer = {
    child,
    port: Number(m[1]),
    read: () => log,
    async terminate() {
      const t0 = performance.now();
      child.kill('SIGTERM');
      const [code] = await exited;
      return { code, ms: performance.now() - t0 };
    },
  };
  return { server, log: () => log, startReading: () => reader.kill('SIGUSR2'), readerDone };
}

describe('echo-server limits and options', () => {
  for (const backend of ['select', 'uring']) {
    test(`--max-connections: the connection beyond the limit is accepted and closed at once, and logged (--backend ${backend})`, async () => {
      await withServer(['--max-connections', '3', '--backend', backend], async (server) => {
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
  }

  for (const backend of ['poll', 'uring']) {
    test(`--max-pending 4K: reading pauses and resumes again and again, and every byte still comes back in order (--backend ${backend})`, async (t) => {
      await withServer(['--max-pending', '4K', '--backend', backend], async (server) => {
        // The client reads only between the server's "pausing" and "resuming" lines: while it does not read,
        // the kernel's buffers fill (a tiny receive window; the server's send buffer grows to 4 MiB) and the
        // server's queue passes 4 KiB (it stops reading); while it reads, the queue drains below 2 KiB.
        const data = randomBytes(48 * 1024 * 1024);
        const sock = await smallWindowClient(server.port);
        const peer = label(sock);
        try {
          const echo = collect(sock, data.length, 60_000);
          sock.write(data);
          for (let round = 1; round <= 3; round++) {
            await server.waitForCount(new RegExp(`^pausing reads from ${peer}: `), round, 30_000);
            sock.resume();
            await server.waitForCount(new RegExp(`^resuming reads from ${peer}: `), round, 30_000);
            sock.pause();
          }
          sock.resume();
          const got = await echo;
          assert.ok(got.equals(data), 'the echo differs from the data sent');
        } finally {
          sock.destroy();
        }
        const resumes = server.lines().filter((l) => l.startsWith(`resuming reads from ${peer}`)).length;
        t.diagnostic(`reading resumed ${resumes} times`);
        assert.ok(resumes >= 3, `reading resumed ${resumes} times`);
      });
    });
  }

  for (const backend of ['epoll', 'uring']) {
    test(`--idle-timeout: a silent connection is closed, a talkative one is not (--backend ${backend})`, async () => {
      await withServer(['--idle-timeout', '1', '--backend', backend], async (server) => {
        const silent = await connect(server.port);
        const talker = await connect(server.port);
        const silentLabel = label(silent);
        try {
          const t0 = performance.now();
          const silentClosed = closedByPeer(silent, 5000);
          for (let i = 0; i < 10; i++) {
            const echo = collect(talker, 1);
            talker.write('.');
            assert.equal((await echo).toString(), '.');
            await sleep(150);
          }
          await silentClosed;
          const ms = performance.now() - t0;
          assert.ok(ms >= 900 && ms < 5000, `closed after ${ms.toFixed(0)} ms`);
          assert.ok(!talker.destroyed, 'the active connection was closed too');
          await server.waitFor(new RegExp(`closing ${silentLabel} after 1 s without activity`));
        } finally {
          silent.destroy();
          talker.destroy();
        }
      });
    });
  }

  for (const backend of ['select', 'uring']) {
    test(`--min-rate: a client trickling a byte at a time is closed, one sending steadily is not (--backend ${backend})`, async () => {
      await withServer(['--min-rate', '100', '--rate-window', '1', '--backend', backend], async (server) => {
        const trickler = await connect(server.port);
        const steady = await connect(server.port);
        const tricklerLabel = label(trickler);
        trickler.on('error', () => {});
        trickler.resume();
        steady.resume();
        // 10 bytes a second against 100; the steady one sends 200 bytes every 100 ms (2 KB a second).
        const drip = setInterval(() => {
          if (!trickler.destroyed) trickler.write('x');
          steady.write(Buffer.alloc(200, 0x2e));
        }, 100);
        try {
          await closedByPeer(trickler, 5000);
          const [line] = await server.waitForCount(new RegExp(`^closing ${tricklerLabel}: \\d+ bytes? in 1 s, below --min-rate 100 bytes a second$`), 1);
          assert.ok(line);
          // The steady client outlives two more windows.
          await server.waitForCount(/^closing /, 1);
          const t0 = performance.now();
          while (performance.now() - t0 < 1200) {
            const echo = collect(steady, 1);
            steady.write('!');
            await echo;
          }
          assert.ok(!steady.destroyed, 'the steady client was closed');
          assert.ok(!server.log.includes(`closing ${label(steady)}`));
        } finally {
          clearInterval(drip);
          trickler.destroy();
          steady.destroy();
        }
      });
    });
  }

  test('--idle-timeout off and --min-rate 0 turn the slow-client defences off; the defaults are 60 s and 1 byte a second', async () => {
    const help = await runCli(['echo-server', '--help']);
    assert.match(help.stdout, /--idle-timeout SEC\s+close connections silent for SEC seconds; off: never \(default 60\)/);
    assert.match(help.stdout, /--min-rate BYTES\s+close connections that move fewer than BYTES a second over a --rate-window; 0: no rule \(default 1\)/);
    await withServer(['--idle-timeout', 'off', '--min-rate', '0', '--rate-window', '0.2'], async (server) => {
      const silent = await connect(server.port);
      try {
        // Five windows of silence; then the connection still echoes.
        await sleep(1000);
        const echo = collect(silent, 2);
        silent.write('hi');
        assert.equal((await echo).toString(), 'hi');
        assert.doesNotMatch(server.log, /closing 127/);
      } finally {
        silent.destroy();
      }
    });
  });

  for (const backend of ['default', 'uring']) {
    test(`--timeout: "timed out, do some other work here" when nothing happens for that long (--backend ${backend})`, async () => {
      const t0 = performance.now(); // before the server exists: its timeouts all come later
      await withServer(['--timeout', '0.2', '--backend', backend], async (server) => {
        await server.waitForCount(/^ {2}timed out, do some other work here$/, 3);
        // A server that did not wait its 0.2 s between the lines would get there sooner.
        const ms = performance.now() - t0;
        assert.ok(ms >= 600, `three timeout lines ${ms.toFixed(0)} ms after the server was started`);
        // Each is followed by a new wait, as in the seed.
        const lines = server.lines();
        const i = lines.indexOf('  timed out, do some other work here');
        assert.deepEqual(lines.slice(i + 1, i + 3), ['', 'waiting for the next event']);
      });
    });
  }

  test('--quiet logs start-up, errors and the summary only; SIGINT stops it like SIGTERM', async () => {
    await withServer(['--quiet'], async (server) => {
      const r = await runCli(['echo-client', '--port', String(server.port)]);
      assert.equal(r.code, 0, r.stderr);
      const victim = await connect(server.port);
      victim.on('error', () => {});
      const victimLabel = label(victim);
      victim.write(randomBytes(4 * 1024 * 1024));
      await once(victim, 'data'); // the server is echoing to it
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
        assert.ok(ms >= 300 && ms < 5000, `closed after ${ms.toFixed(0)} ms`);
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
      assert.equal(r.stderr, `iomux echo-server: cannot listen on 127.0.0.1 port ${server.port}: [Errno 98] Address already in use (EADDRINUSE)\n`);
    });
  });

  describe('a log nobody reads (stderr a pipe that fills up) cannot stop the server', () => {
    test('--quiet: 1500 resets give at most 20 error lines a second plus a count; echo and SIGTERM still work', async (t) => {
      const server = await startWithUnreadStderr(t, ['--quiet', '--backend', 'poll']);
      const t0 = performance.now();
      await resetStorm(server.port, 1500);
      const stormSeconds = (performance.now() - t0) / 1000;
      assert.equal(await echoWithin(server.port, 3000), 'ping');
      const exit = await server.terminate();
      assert.equal(exit.code, 0);
      assert.ok(exit.ms < 2000, `exit took ${exit.ms.toFixed(0)} ms after SIGTERM`);

      const lines = server.read().split('\n');
      const shown = lines.filter((l) => l.startsWith('closing ')).length;
      const held = lines.map((l) => /^… (\d+) more connection errors? \(at most 20 a second are shown\)$/.exec(l)).filter((m) => m !== null);
      const suppressed = held.reduce((sum, m) => sum + Number(m[1]), 0);
      t.diagnostic(`storm ${stormSeconds.toFixed(2)} s: ${shown} error lines shown, ${suppressed} counted in ${held.length} lines`);
      assert.ok(held.length >= 1, lines.join('\n'));
      assert.ok(shown <= 20 * (Math.ceil(stormSeconds) + 2), `${shown} error lines in ${stormSeconds.toFixed(2)} s`);
      // Every reset is accounted for, shown or counted (a client the server never saw costs no line).
      assert.ok(shown + suppressed >= 1000 && shown + suppressed <= 1500, `${shown} shown + ${suppressed} counted`);
      assert.match(lines.join('\n'), /\nshutting down \(SIGTERM\): closing 0 connections\nserved \d+ connections \(0 refused\)/);
      assert.ok(!lines.some((l) => l.startsWith('the log dropped')), 'a quiet log of this size should fit the pipe');
    });

    test('verbose: the full pipe drops lines instead of blocking; echo works and SIGTERM exits within 1 s', async (t) => {
      const server = await startWithUnreadStderr(t, ['--backend', 'epoll']);
      await resetStorm(server.port, 1500); // ~3 lines each: far more than a pipe holds
      assert.equal(await echoWithin(server.port, 3000), 'ping');
      const exit = await server.terminate();
      assert.equal(exit.code, 0);
      assert.ok(exit.ms < 1000, `exit took ${exit.ms.toFixed(0)} ms after SIGTERM`);
      const log = server.read();
      assert.match(log, /^starting up on 127\.0\.0\.1 port \d+ \(backend epoll\)\n/);
      assert.ok(log.length <= 1024 * 1024, `${log.length} bytes in a pipe nobody read`);
    });

    test('a slow reader (4 KiB per 100 ms): echoes do not wait for it, lines are dropped and counted, SIGTERM exits within 1 s', async (t) => {
      const { server, log, startReading, readerDone } = await startWithSlowReader(t, ['--backend', 'poll']);
      // Far more log than the pipe holds (about 200 KB), before the reader starts: the pipe is full.
      await resetStorm(server.port, 1500);
      startReading();
      // Each round trip makes four log lines; with the pipe full, none of them may be waited for.
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) assert.equal(await echoWithin(server.port, 3000), 'ping');
      const echoMs = performance.now() - t0;
      t.diagnostic(`20 sequential round trips (each a new connection) took ${echoMs.toFixed(0)} ms with the log reader behind`);
      // A server paced by its reader would need about 100 ms per 4 KiB written: several seconds here.
      assert.ok(echoMs < 2000, `20 round trips took ${echoMs.toFixed(0)} ms`);
      const exit = await server.terminate();
      t.diagnostic(`SIGTERM to exit: ${exit.ms.toFixed(0)} ms`);
      assert.equal(exit.code, 0);
      assert.ok(exit.ms < 1000, `exit took ${exit.ms.toFixed(0)} ms after SIGTERM`);
      await readerDone;
      const text = log();
      assert.match(text, /shutting down \(SIGTERM\): closing 0 connections\n/);
      const m = /\nthe log dropped (\d+) lines \((\d+) bytes\): stderr had no room for them\n$/.exec(text);
      assert.ok(m, `no count of dropped lines at the end of the log:\n${text.slice(-500)}`);
      assert.ok(Number(m[1]) > 100, m[0]);
    });

    test('verbose: once the reader catches up, the summary says how many lines were dropped', async (t) => {
      const server = await startWithUnreadStderr(t, ['--backend', 'default']);
      await resetStorm(server.port, 1500);
      assert.equal(await echoWithin(server.port, 3000), 'ping');
      server.read(); // room again: the shutdown lines fit
      const exit = await server.terminate();
      assert.equal(exit.code, 0);
      const log = server.read();
      assert.match(log, /shutting down \(SIGTERM\): closing 0 connections\nserved \d+ connections \(0 refused\)[^\n]*\n/);
      const m = /\nthe log dropped (\d+) lines \((\d+) bytes\): stderr had no room for them\n$/.exec(log);
      assert.ok(m, `no count of dropped lines at the end of the log:\n${log.slice(-500)}`);
      assert.ok(Number(m[1]) > 100 && Number(m[2]) > Number(m[1]), m[0]);
    });
  });
});
