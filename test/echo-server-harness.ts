/**
 * Shared by the echo-server test files (this file holds no tests itself): the server runs as a child
 * process through the CLI (`node dist/cli/main.js echo-server`), and the clients are node:net sockets in the
 * test process, so nothing on the client side shares the server's code. Every test starts a server of its
 * own (`withServer`), so no test depends on what another did, and tests wait for the server's log lines
 * (`waitFor`, `waitForCount`) rather than for time to pass.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AF_INET, SO_RCVBUF, SOCK_STREAM, SOL_SOCKET, Socket } from 'iomux/socket';
import { outputMatching, runNode, type ChildResult } from './support/children.js';
import { sleep } from './support/timing.js';

/** The CLI entry, built by `tsc -p tsconfig.json` (this file runs from build/test/). */
export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the kill to the exit. */
  ms: number;
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly #read: () => string;
  readonly #exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(child: ChildProcess, port: number, log: () => string, exited: Promise<[number | null, NodeJS.Signals | null]>) {
    this.child = child;
    this.port = port;
    this.#read = log;
    this.#exited = exited;
  }

  /**
   * Starts `iomux echo-server --port 0 ARGS…` and waits for its "starting up on … port N" line. With
   * `nofile`, the server runs under `ulimit -n nofile` (soft and hard, so Node cannot raise it again).
   */
  static async start(args: string[], options: { nofile?: number } = {}): Promise<ServerProcess> {
    const cli = [MAIN, 'echo-server', '--port', '0', ...args];
    // The log goes to a file, which always has room: the server drops lines stderr has no room for, and
    // a pipe to this process could fill up while a test is busy, losing lines a test waits for.
    const dir = mkdtempSync(join(tmpdir(), 'iomux-echo-'));
    const path = join(dir, 'stderr.log');
    const fd = openSync(path, 'w+');
    const stdio: StdioOptions = ['ignore', 'ignore', fd];
    const child = options.nofile === undefined
      ? spawn(process.execPath, cli, { stdio })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.nofile} && exec "$0" "$@"`, process.execPath, ...cli], { stdio });
    let log = '';
    let offset = 0;
    const chunk = Buffer.alloc(1 << 20);
    const read = (): string => {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, offset)) > 0; offset += n) log += chunk.toString('utf8', 0, n);
      return log;
    };
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    void exited.finally(() => {
      read();
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    });
    const running = (): boolean => child.exitCode === null && child.signalCode === null;
    const m = await outputMatching(read, /starting up on \S+ port (\d+)/, running, 15_000);
    if (m) return new ServerProcess(child, Number(m[1]), () => (running() ? read() : log), exited);
    child.kill('SIGKILL');
    throw new Error(`echo-server ${args.join(' ')} did not start:\n${log}`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the server wrote to stderr so far. */
  get log(): string {
    return this.#read();
  }

  lines(): string[] {
    return this.log.split('\n');
  }

  /** Waits until the log matches `re` (polling), and returns the match. */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const m = await outputMatching(() => this.log, re, () => this.alive, timeoutMs);
    if (m) return m;
    if (!this.alive) throw new Error(`the server exited while waiting for ${re}:\n${tail(this.log)}`);
    throw new Error(`no ${re} in the server log within ${timeoutMs} ms:\n${tail(this.log)}`);
  }

  /** Waits until at least `n` log lines match `re` (polling, scanning only what is new), and returns them. */
  async waitForCount(re: RegExp, n: number, timeoutMs = 10_000): Promise<string[]> {
    const found: string[] = [];
    let scanned = 0;
    const counted = (): string => {
      const log = this.log;
      const end = log.lastIndexOf('\n') + 1; // whole lines only
      if (end > scanned) {
        for (const line of log.slice(scanned, end - 1).split('\n')) if (re.test(line)) found.push(line);
        scanned = end;
      }
      return found.length >= n ? 'enough' : '';
    };
    const m = await outputMatching(counted, /enough/, () => this.alive, timeoutMs);
    if (m) return found;
    throw new Error(`${found.length} of ${n} log lines match ${re} after ${timeoutMs} ms${this.alive ? '' : ' (the server exited)'}:\n${tail(this.log)}`);
  }

  /** Resident memory (VmRSS) in KiB. */
  rssKb(): number {
    return procStatusKb(this.pid, 'VmRSS');
  }

  /** User + system CPU time consumed so far, in clock ticks (1/100 s on Linux). */
  cpuTicks(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> {
    if (!this.alive) {
      const [code, sig] = await this.#exited;
      return { code, signal: sig, ms: 0 };
    }
    const t0 = performance.now();
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      const [code, sig] = await this.#exited;
      return { code, signal: sig, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs `body` against a server of its own (`ServerProcess.start(args)`), killed afterwards if still running. */
export async function withServer(args: string[], body: (server: ServerProcess) => Promise<void>): Promise<void> {
  const server = await ServerProcess.start(args);
  try {
    await body(server);
  } finally {
    if (server.alive) await server.stop('SIGKILL');
  }
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** What the server's log says it read from `peer` ("received … (N bytes) from peer" lines). */
export function bytesReceivedFrom(server: ServerProcess, peer: string): number {
  let total = 0;
  for (const line of server.lines()) {
    if (!line.startsWith('received ') || !line.endsWith(` from ${peer}`)) continue;
    const m = /…" \((\d+) bytes\) from /.exec(line);
    total += m ? Number(m[1]) : 60; // short payloads are shown whole, without their size (at most 60 bytes)
  }
  return total;
}

export function procStatusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** A node:net connection to the server, connected. */
export async function connect(port: number): Promise<net.Socket> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await once(sock, 'connect');
  return sock;
}

/**
 * A node:net socket connected to the server whose receive buffer is tiny, so what the server echoes to it
 * piles up in the server's queue rather than in the kernel's buffers.
 */
export async function smallWindowClient(port: number): Promise<net.Socket> {
  const raw = new Socket(AF_INET, SOCK_STREAM);
  raw.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  raw.connect(['127.0.0.1', port]);
  const sock = new net.Socket({ fd: raw.detach(), readable: true, writable: true });
  sock.pause();
  return sock;
}

/** "127.0.0.1:55821": how the server's log names this client. */
export function label(sock: net.Socket): string {
  return `${sock.localAddress}:${sock.localPort}`;
}

/** Collects what arrives on `sock` until `expected` bytes came (resolves with them) or the stream ends. */
export function collect(sock: net.Socket, expected: number, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => finish(new Error(`only ${got} of ${expected} bytes came back within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= expected) finish();
    };
    const onEnd = (): void => finish();
    const onError = (err: Error): void => finish(err);
    function finish(err?: Error): void {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('error', onError);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    }
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('error', onError);
  });
}

/**
 * Sends `data` on a new connection, reads the echo, then shuts down its sending side and waits until the
 * server has closed the connection too: when it resolves (with what came back) the server has seen the
 * client leave, so a later summary or connection count no longer includes it.
 */
export async function roundTrip(port: number, data: Buffer, timeoutMs = 30_000): Promise<Buffer> {
  const sock = await connect(port);
  try {
    const echo = collect(sock, data.length, timeoutMs);
    sock.write(data);
    const got = await echo;
    sock.end();
    await closedByPeer(sock, timeoutMs);
    return got;
  } finally {
    sock.destroy();
  }
}

/** Resolves when the peer has closed `sock` (its 'close' event), or rejects after `timeoutMs`. */
export async function closedByPeer(sock: net.Socket, timeoutMs = 5000): Promise<void> {
  if (sock.destroyed) return;
  sock.on('error', () => {});
  sock.resume();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise((resolve) => sock.once('close', resolve)), // a reset is a close too (once() would reject)
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${label(sock)} was not closed within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a CLI command as a child process and collects its output. */
export function runCli(args: string[], timeoutMs = 30_000): Promise<ChildResult> {
  return runNode([MAIN, ...args], { timeoutMs });
}

/** What `describeBackend` needs to know about a backend. */
export interface BackendUnderTest {
  /** Shown in the test names: `--backend epoll`. */
  title: string;
  /** The server's arguments after `--port 0`. */
  args: string[];
  /** Watches at most FD_SETSIZE fds (select, SelectSelector): the excess over 1023 is refused. */
  selectLimited: boolean;
  /** Fds the backend itself holds beyond one (libkqueue's monitoring thread and pipe): added to the EMFILE test's limit. */
  ownFds?: number;
  /**
   * Memory the backend commits lazily and keeps for its life, whatever the clients do (io_uring's provided-buffer
   * group, 16 MiB: the kernel touches its buffers in ring order as it fills them): added to the RSS bounds.
   */
  fixedPoolMiB?: number;
}

const MiB = 1024 * 1024;

/** The summary line's four figures. */
export interface Summary {
  served: number;
  refused: number;
  echoed: number;
  peak: number;
}

export function summaryOf(log: string): Summary {
  const m = /served (\d+) connections? \((\d+) refused\), echoed (\d+) bytes?, peak (\d+) concurrent connections?/.exec(log);
  assert.ok(m, `no summary in the log:\n${tail(log)}`);
  const [served, refused, echoed, peak] = m.slice(1).map(Number) as [number, number, number, number];
  return { served, refused, echoed, peak };
}

/**
 * The test list for one backend, each case on a (verbose) server of its own: the seed client
 * transcript, 50 × 1 MiB, 64 MiB to a client that does not read (RSS bounded), half-close, a reset
 * mid-stream, more than 1100 connections, EMFILE, and SIGTERM with its summary.
 */
export function describeBackend(b: BackendUnderTest): void {
  describe(`echo-server ${b.title}`, () => {
    test('the seed client transcript (iomux echo-client in another process)', async () => {
      await withServer(b.args, async (server) => {
        const r = await runCli(['echo-client', '--port', String(server.port)]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.trimEnd().split('\n');
        assert.equal(out[0], `connecting to 127.0.0.1 port ${server.port}`);
        const labels = [...new Set(out.slice(1).map((l) => l.split(': ')[0]!).filter((l) => /^127\.0\.0\.1:\d+$/.test(l)))];
        assert.equal(labels.length, 2, r.stdout);
        const [a, c] = labels as [string, string];
        const expected = [`connecting to 127.0.0.1 port ${server.port}`];
        for (const part of ['This is the message. ', 'It will be sent ', 'in parts.']) {
          expected.push(`${a}: sending "${part}"`, `${c}: sending "${part}"`, `${a}: received "${part}"`, `${c}: received "${part}"`);
        }
        expected.push(`closing socket ${a}`, `closing socket ${c}`);
        assert.deepEqual(out, expected);

        await server.waitFor(new RegExp(`closing ${c} after reading no data`));
        await server.waitFor(new RegExp(`closing ${a} after reading no data`));
        for (const peer of labels) {
          const mine = server.lines().filter((l) => l.includes(` ${peer}`));
          assert.deepEqual(mine, [
            `new connection from ${peer}`,
            `received "This is the message. " from ${peer}`,
            `sending "This is the message. " to ${peer}`,
            `received "It will be sent " from ${peer}`,
            `sending "It will be sent " to ${peer}`,
            `received "in parts." from ${peer}`,
            `sending "in parts." to ${peer}`,
            `closing ${peer} after reading no data`,
          ]);
        }
        assert.ok(server.lines().includes('waiting for the next event'));
      });
    });

    test('1 MiB of random bytes is echoed exactly on each of 50 concurrent connections', async () => {
      await withServer(b.args, async (server) => {
        const results = await Promise.all(
          Array.from({ length: 50 }, async () => {
            const data = randomBytes(MiB);
            return { data, echo: await roundTrip(server.port, data) };
          }),
        );
        for (const { data, echo } of results) {
          assert.equal(echo.length, data.length);
          assert.ok(echo.equals(data), 'the echo differs from the data sent');
        }
      });
    });

    test('a client that sends 64 MiB and reads nothing: RSS stays bounded, then all 64 MiB come back intact', async (t) => {
      await withServer(b.args, async (server) => {
        const data = randomBytes(64 * MiB);
        const sock = await connect(server.port);
        try {
          const before = server.rssKb();
          sock.write(data);
          // The server stops reading once its queue for this client passes --max-pending (1 MiB by default).
          const peer = label(sock);
          await server.waitFor(new RegExp(`pausing reads from ${peer}`));
          // Samples while the client reads nothing (a measurement, not a wait for something to happen).
          let peak = 0;
          for (let i = 0; i < 10; i++) {
            await sleep(50);
            peak = Math.max(peak, server.rssKb());
          }
          // The server has read only a small part of the 64 MiB: what fills the kernel buffers towards the
          // client, plus its own queue of about --max-pending.
          const read = bytesReceivedFrom(server, peer);
          assert.ok(read < 24 * MiB, `the server read ${read} bytes from a client that reads nothing`);
          const growthMiB = (peak - before) / 1024;
          t.diagnostic(`server RSS ${(before / 1024).toFixed(1)} MiB before, peak ${(peak / 1024).toFixed(1)} MiB while stalled, having read ${(read / MiB).toFixed(1)} MiB of 64`);
          const boundMiB = 16 + (b.fixedPoolMiB ?? 0);
          assert.ok(growthMiB < boundMiB, `server RSS grew by ${growthMiB.toFixed(1)} MiB (bound ${boundMiB}) while the client read nothing`);

          const echo = await collect(sock, data.length, 60_000);
          assert.equal(echo.length, data.length);
          assert.ok(echo.equals(data), 'the echo differs from the data sent');
          await server.waitFor(new RegExp(`resuming reads from ${peer}`));
        } finally {
          sock.destroy();
        }
      });
    });

    test('half-close: everything sent before shutdown(SHUT_WR) is echoed, then the server closes', async () => {
      await withServer(b.args, async (server) => {
        const data = randomBytes(4 * MiB);
        const sock = await connect(server.port);
        const peer = label(sock);
        try {
          const echo = collect(sock, Number.POSITIVE_INFINITY); // until the server's FIN
          sock.end(data);
          const got = await echo;
          assert.equal(got.length, data.length);
          assert.ok(got.equals(data), 'the echo differs from the data sent');
          await server.waitFor(new RegExp(`closing ${peer} after reading no data`));
        } finally {
          sock.destroy();
        }
      });
    });

    test('a reset mid-stream closes that connection only, with one log line', async () => {
      await withServer(b.args, async (server) => {
        const victim = await connect(server.port);
        const victimLabel = label(victim);
        victim.on('error', () => {});
        victim.write(randomBytes(8 * MiB)); // never read: the server's queue for it fills
        await server.waitFor(new RegExp(`pausing reads from ${victimLabel}`));
        const others = await Promise.all(Array.from({ length: 4 }, () => connect(server.port)));
        try {
          const streams = others.map((sock) => {
            const data = randomBytes(2 * MiB);
            const echo = collect(sock, data.length);
            sock.write(data);
            return { data, echo };
          });
          // The reset lands once every other connection is streaming (the server has echoed to each).
          await Promise.all(others.map((sock) => once(sock, 'data')));
          victim.resetAndDestroy();
          for (const { data, echo } of streams) {
            assert.ok((await echo).equals(data), 'a connection next to the reset one lost or changed bytes');
          }
        } finally {
          for (const s of others) s.destroy();
        }
        await server.waitFor(new RegExp(`closing ${victimLabel}`));
        // A later connection's close is logged after anything more the reset could have caused.
        const probe = Buffer.from('still serving');
        assert.deepEqual(await roundTrip(server.port, probe), probe);
        const closes = server.lines().filter((l) => l.startsWith(`closing ${victimLabel}`));
        assert.equal(closes.length, 1, closes.join('\n'));
        assert.match(closes[0]!, /Connection reset by peer|Broken pipe|hung up/);
        assert.ok(server.alive);
      });
    });

    test(`more than 1100 connections at once${b.selectLimited ? ': the excess over fd 1023 is refused cleanly' : ''}`, async () => {
      await withServer(b.args, async (server) => {
        const N = 1150;
        const socks: net.Socket[] = [];
        let echoed = 0;
        try {
          for (let i = 0; i < N; i += 50) {
            socks.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => connect(server.port)))));
          }
          const outcomes = await Promise.all(
            socks.map(async (sock, i) => {
              sock.on('error', () => {});
              const probe = Buffer.from(`#${String(i).padStart(6, '0')}`);
              const echo = collect(sock, probe.length, 20_000).catch(() => Buffer.alloc(0));
              sock.write(probe);
              const got = await echo;
              if (got.equals(probe)) return 'echoed';
              assert.equal(got.length, 0, `connection ${i} got ${JSON.stringify(got.toString())}`);
              return 'refused';
            }),
          );
          echoed = outcomes.filter((o) => o === 'echoed').length;
          const refused = N - echoed;
          if (b.selectLimited) {
            assert.ok(echoed >= 950 && echoed < 1024, `${echoed} connections echoed`);
            const refusals = server.lines().filter((l) => /^refusing connection from 127\.0\.0\.1:\d+: fd \d+ is out of range/.test(l));
            assert.equal(refusals.length, refused);
          } else {
            assert.equal(echoed, N);
          }
        } finally {
          for (const s of socks) s.end();
        }
        // Once the server has closed every one of them, new connections are served again (select: low fds
        // are free again).
        await server.waitForCount(/^closing 127\.0\.0\.1:\d+ after reading no data$/, echoed, 20_000);
        for (const s of socks) s.destroy();
        const probe = Buffer.from('after the crowd');
        assert.deepEqual(await roundTrip(server.port, probe), probe);
        const exit = await server.stop('SIGTERM');
        assert.equal(exit.code, 0);
        const summary = summaryOf(server.log);
        assert.equal(summary.served, echoed + 1);
        assert.equal(summary.refused, N - echoed);
        assert.equal(summary.echoed, 7 * echoed + probe.length);
        assert.ok(summary.peak >= (b.selectLimited ? 950 : N) && summary.peak <= N, `peak ${summary.peak}`);
      });
    });

    test('out of file descriptors (EMFILE): logged once, no busy loop, recovers when fds free up', async (t) => {
      // About 22 fds are Node's own at rest, and loading the modules at startup holds more for a moment (the
      // ES module loader reads sources concurrently): this starts reliably and leaves room for about 40
      // connections, fewer than the 50 opened.
      const small = await ServerProcess.start([...b.args, '--quiet'], { nofile: 64 + (b.ownFds ?? 0) });
      const socks: net.Socket[] = [];
      try {
        const outcomes: Array<Promise<Buffer>> = [];
        for (let i = 0; i < 50; i++) {
          const sock = await connect(small.port);
          sock.on('error', () => {});
          socks.push(sock);
          const probe = Buffer.from(`p${String(i).padStart(3, '0')}`);
          outcomes.push(collect(sock, probe.length, 20_000));
          sock.write(probe);
        }
        await small.waitFor(/accept failed: \[Errno 24\] Too many open files/);
        // CPU used over one second while out of fds: a rate, so this one measures over time.
        const t0 = small.cpuTicks();
        await sleep(1000);
        const used = small.cpuTicks() - t0;
        t.diagnostic(`CPU used in 1 s while out of fds: ${used * 10} ms`);
        assert.ok(used < 30, `the server used ${used} ticks of CPU in 1 s while out of fds`);
        assert.equal(small.lines().filter((l) => l.startsWith('accept failed')).length, 1);
        // The first connections were served; closing 20 of them frees fds for the ones left in the backlog.
        const first = await Promise.all(outcomes.slice(0, 20));
        first.forEach((got, i) => assert.equal(got.toString(), `p${String(i).padStart(3, '0')}`));
        for (const s of socks.slice(0, 20)) s.destroy();
        await small.waitFor(/accepting connections again/);
        const rest = await Promise.all(outcomes.slice(20));
        rest.forEach((got, i) => assert.equal(got.toString(), `p${String(i + 20).padStart(3, '0')}`));
        const exit = await small.stop('SIGTERM');
        // The signal and the log's end say how a server that did not exit 0 ended (a crash is a signal).
        assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, small.log.slice(-3000));
      } finally {
        for (const s of socks) s.destroy();
        if (small.alive) await small.stop('SIGKILL');
      }
    });

    test('SIGTERM closes every connection, prints the summary and exits 0 within a second', async (t) => {
      await withServer(b.args, async (server) => {
        const socks = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
        try {
          const probe = Buffer.from('last words');
          const echo = collect(socks[0]!, probe.length);
          socks[0]!.write(probe);
          assert.deepEqual(await echo, probe);
          // All three accepted before the signal: the summary must count them.
          for (const s of socks) await server.waitFor(new RegExp(`new connection from ${label(s)}\\n`));
          const exit = await server.stop('SIGTERM');
          assert.equal(exit.code, 0, server.log.slice(-2000));
          t.diagnostic(`SIGTERM to exit: ${exit.ms.toFixed(0)} ms`);
          assert.ok(exit.ms < 1000, `exit took ${exit.ms.toFixed(0)} ms`);
          await Promise.all(socks.map((s) => closedByPeer(s)));
          assert.match(server.log, /shutting down \(SIGTERM\): closing 3 connections\n/);
          assert.deepEqual(summaryOf(server.log), { served: 3, refused: 0, echoed: probe.length, peak: 3 });
        } finally {
          for (const s of socks) s.destroy();
        }
      });
    });
  });
}
