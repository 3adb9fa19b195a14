/**
 * `iomux echo-server --workers N`: N threads serving one port, on both ways of sharing the connections out
 * (--balance kernel: a SO_REUSEPORT listener per worker; --balance handoff: one acceptor handing fds over).
 * Real server processes and real TCP clients; the tests wait for log lines, not for time.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { collect, connect, MAIN, ServerProcess, smallWindowClient, withServer } from './echo-server-harness.js';
import { spawn } from 'node:child_process';
import { distUrl, esmWorkerUrl, outputMatching, runModule, runNode } from './support/children.js';

const BALANCES = ['kernel', 'handoff'] as const;

/** Sends `payload`, half-closes, and resolves with everything echoed until the server closes. */
async function echoOf(port: number, payload: Buffer): Promise<Buffer> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  sock.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(sock, 'connect');
  sock.end(payload);
  await once(sock, 'close');
  return Buffer.concat(chunks);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The summed summary line and the per-worker one. */
function summary(log: string): { served: number; refused: number; bytes: number; peak: number; perWorker: number[] } {
  const m = /^served (\d+) connections? \((\d+) refused\), echoed (\d+) bytes?, peak (\d+) concurrent/m.exec(log);
  const per = /^served per worker: ([\d +]+)$/m.exec(log);
  assert.ok(m && per, `no summary in:\n${log.slice(-3000)}`);
  return {
    served: Number(m[1]), refused: Number(m[2]), bytes: Number(m[3]), peak: Number(m[4]),
    perWorker: per[1]!.split(' + ').map(Number),
  };
}

/** What each worker's own summary line says it served. */
function workerServed(log: string, worker: number): number {
  const m = new RegExp(`^worker ${worker}: served (\\d+) connections? \\((\\d+) refused\\), echoed (\\d+) bytes?`, 'm').exec(log);
  assert.ok(m, `no summary of worker ${worker}`);
  return Number(m[1]);
}

/** Waits until the client sees the server close the connection without echoing anything. */
async function refusedAt(port: number): Promise<void> {
  const sock = await connect(port);
  const data: Buffer[] = [];
  sock.on('data', (d: Buffer) => data.push(d));
  sock.on('error', () => {});
  await once(sock, 'close');
  assert.equal(Buffer.concat(data).length, 0);
}

for (const backend of ['default', 'uring']) for (const balance of BALANCES) {
  describe(`echo-server --workers 2 --balance ${balance} --backend ${backend}`, () => {
    test('every byte of 40 concurrent connections comes back; both workers serve; the summary sums them', async () => {
      await withServer(['--backend', backend, '--workers', '2', '--balance', balance, '--quiet'], async (server) => {
        assert.match(server.log, /starting up on 127\.0\.0\.1 port \d+ \(backend .*, 2 workers, --balance (kernel|handoff)\)/);
        const payloads = Array.from({ length: 40 }, (_, i) => randomBytes(64 * 1024 + i * 997));
        const echoes = await Promise.all(payloads.map((p) => echoOf(server.port, p)));
        for (let i = 0; i < payloads.length; i++) assert.equal(sha256(echoes[i]!), sha256(payloads[i]!), `connection ${i}`);
        const exit = await server.stop('SIGTERM');
        assert.equal(exit.code, 0, server.log.slice(-2000));
        const s = summary(server.log);
        const total = payloads.reduce((sum, p) => sum + p.length, 0);
        assert.equal(s.served, 40);
        assert.equal(s.refused, 0);
        assert.equal(s.bytes, total);
        assert.equal(s.perWorker.length, 2);
        assert.equal(s.perWorker[0]! + s.perWorker[1]!, 40);
        // Spread: the kernel hashes each connection's ports (all 40 on one listener: 2^-39); the hand-off
        // gives each to the worker with the fewest open.
        assert.ok(s.perWorker[0]! > 0 && s.perWorker[1]! > 0, `connections per worker: ${s.perWorker.join(' + ')}`);
        assert.equal(workerServed(server.log, 1), s.perWorker[0]);
        assert.equal(workerServed(server.log, 2), s.perWorker[1]);
      });
    });

    test('--max-connections counts over both workers: the 21st of 20 is refused though each worker holds fewer', async () => {
      await withServer(['--backend', backend, '--workers', '2', '--balance', balance, '--max-connections', '20'], async (server) => {
        const clients: net.Socket[] = [];
        for (let i = 0; i < 20; i++) clients.push(await connect(server.port));
        const accepted = await server.waitForCount(/^worker \d: new connection from /, 20);
        const perWorker = [1, 2].map((w) => accepted.filter((line) => line.startsWith(`worker ${w}:`)).length);
        assert.ok(perWorker[0]! < 20 && perWorker[1]! < 20, `connections per worker: ${perWorker.join(' + ')}`);
        await refusedAt(server.port);
        await server.waitFor(/refusing connection from \S+: 20 connections are open \(--max-connections 20\)/);
        // A closed connection gives its slot back, whichever worker had it.
        clients.pop()!.end();
        await server.waitFor(/closing \S+ after reading no data/);
        const again = await connect(server.port);
        again.write('still served');
        await once(again, 'data');
        clients.push(again);
        const exit = await server.stop('SIGTERM');
        assert.equal(exit.code, 0);
        const s = summary(server.log);
        assert.equal(s.served, 21);
        assert.equal(s.refused, 1);
        assert.equal(s.peak, 20);
        for (const c of clients) c.destroy();
      });
    });

    test('SIGTERM with connections open stops both workers at once and exits 0', async (t) => {
      await withServer(['--backend', backend, '--workers', '2', '--balance', balance], async (server) => {
        const clients = await Promise.all(Array.from({ length: 6 }, () => connect(server.port)));
        await server.waitForCount(/^worker \d: new connection from /, 6);
        const closed = clients.map((c) => once(c, 'close'));
        const exit = await server.stop('SIGTERM');
        assert.equal(exit.code, 0, server.log.slice(-2000));
        assert.equal(exit.signal, null);
        // Two ticks of a worker's wait (0.2 s each) at most, plus the process's own exit: bounded loosely.
        t.diagnostic(`SIGTERM to exit: ${exit.ms.toFixed(0)} ms`);
        assert.ok(exit.ms < 5000, `took ${exit.ms} ms`);
        assert.match(server.log, /^shutting down \(SIGTERM\): stopping 2 workers$/m);
        assert.match(server.log, /^worker 1: shutting down \(SIGTERM\): closing \d+ connections?$/m);
        assert.match(server.log, /^worker 2: shutting down \(SIGTERM\): closing \d+ connections?$/m);
        await Promise.all(closed);
        assert.equal(summary(server.log).served, 6);
      });
    });
  });
}

test('--workers on the Node-loop driver and the poll and uring backends: echoes, and SIGINT stops it', async () => {
  for (const args of [['--driver', 'loop'], ['--backend', 'poll'], ['--backend', 'uring']]) {
    await withServer(['--workers', '3', '--quiet', ...args], async (server) => {
      const payload = randomBytes(200_000);
      assert.equal(sha256(await echoOf(server.port, payload)), sha256(payload));
      const exit = await server.stop('SIGINT');
      assert.equal(exit.code, 0);
      assert.equal(summary(server.log).perWorker.length, 3);
    });
  }
});

test('a port in use is reported once, before any worker starts, with status 1', async () => {
  const first = await ServerProcess.start(['--quiet']);
  try {
    const r = await runNode([MAIN, 'echo-server', '--port', String(first.port), '--workers', '2', '--balance', 'handoff']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^iomux echo-server: cannot listen on 127\.0\.0\.1 port \d+: \[Errno \d+\] Address already in use \(EADDRINUSE\)\n$/);
  } finally {
    await first.stop();
  }
});

test('a second --balance kernel server on the port of a first is refused the port, not let into its listener group', async () => {
  await withServer(['--workers', '2', '--balance', 'kernel', '--quiet'], async (first) => {
    const r = await runNode([MAIN, 'echo-server', '--port', String(first.port), '--workers', '2', '--balance', 'kernel']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^iomux echo-server: cannot listen on 127\.0\.0\.1 port \d+: \[Errno \d+\] Address already in use \(EADDRINUSE\)\n$/);
    // The first still serves every connection.
    const payload = randomBytes(10_000);
    assert.equal(sha256(await echoOf(first.port, payload)), sha256(payload));
  });
});

test('--workers and --balance are validated with the CLI\'s one-line messages', async () => {
  const cases: Array<[string[], string]> = [
    [['--workers', '0'], '--workers must be an integer from 1 to 256 (got 0)'],
    [['--workers', '257'], '--workers must be an integer from 1 to 256 (got 257)'],
    [['--workers', 'two'], "--workers must be an integer from 1 to 256 (got 'two')"],
    [['--workers', '2', '--balance', 'random'], "--balance must be one of kernel, handoff (got 'random')"],
    [['--balance', 'handoff'], '--balance only applies with --workers 2 or more (got --workers 1)'],
  ];
  for (const [args, message] of cases) {
    const r = await runNode([MAIN, 'echo-server', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n')[0], `iomux echo-server: ${message}`);
  }
});

test('a worker that throws while serving: reported, the other stopped, its connection slot released, status 1', async () => {
  // The real worker entry, wrapped so that worker 1 throws once it has a connection open.
  const wrapper = esmWorkerUrl(`
    import { workerData } from 'node:worker_threads';
    import { TallyReader } from ${JSON.stringify(distUrl('server/workers/shared-tally.js'))};
    const tally = new TallyReader(workerData.tally);
    if (workerData.index === 0) setInterval(() => { if (tally.openIn(0) > 0) throw new Error('boom'); }, 5);
    await import(${JSON.stringify(distUrl('server/workers/worker-main.js'))});
  `);
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { runWorkers } from ${JSON.stringify(distUrl('server/workers/workers.js'))};
    import { EventLog } from ${JSON.stringify(distUrl('server/log/event-log.js'))};
    import { DEFAULTS } from ${JSON.stringify(distUrl('server/options.js'))};
    const options = { ...DEFAULTS, port: 0, workers: 2, balance: 'handoff' };
    process.exitCode = await runWorkers(options, new EventLog(true), new URL(${JSON.stringify(wrapper.href)}));
  `], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    const m = await outputMatching(() => log, /starting up on \S+ port (\d+)/, () => child.exitCode === null, 15_000);
    assert.ok(m, log);
    // The hand-off gives the first connection to worker 1.
    const client = await connect(Number(m[1]));
    client.on('error', () => {});
    const [code] = await exited;
    assert.equal(code, 1, log);
    assert.match(log, /^worker 1 failed: Error: boom$/m);
    assert.match(log, /^shutting down \(worker 1 failed\): stopping 2 workers$/m);
    assert.match(log, /^worker 1 ended with 1 connection still counted: released$/m);
    assert.match(log, /^worker 2: served 0 connections \(0 refused\)/m);
    // Worker 1's counts never came: the summary says so rather than pass off worker 2's as the total.
    assert.match(log, /^served per worker: \? \+ 0 \(no counts from worker 1: it did not finish\)$/m);
    client.destroy();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('workers that fail before adopting their fds: the listeners and inboxes the main thread opened for them are closed', async () => {
  const wrapper = esmWorkerUrl(`throw new Error('cannot load');`);
  for (const balance of ['kernel', 'handoff']) {
    const r = await runModule(`
      import { readdirSync } from 'node:fs';
      import { runWorkers } from ${JSON.stringify(distUrl('server/workers/workers.js'))};
      import { EventLog } from ${JSON.stringify(distUrl('server/log/event-log.js'))};
      import { DEFAULTS } from ${JSON.stringify(distUrl('server/options.js'))};
      const sockets = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } }).length;
      import { readlinkSync } from 'node:fs';
      const before = sockets();
      const failure = await runWorkers({ ...DEFAULTS, port: 0, workers: 2, balance: '${balance}', quiet: true }, new EventLog(false), new URL(${JSON.stringify(wrapper.href)}))
        .then((status) => ({ status }), (err) => ({ name: err.name, message: err.message, cause: err.cause?.message }));
      console.log(JSON.stringify({ failure, before, after: sockets() }));
    `);
    const result = JSON.parse(r.stdout) as { failure: Record<string, unknown>; before: number; after: number };
    // Starting failed: a ServerStartError naming the worker and its reason (the CLI prints it as one line).
    assert.match(String(result.failure.message), /^worker \d cannot start$/, r.stdout);
    assert.equal(result.failure.name, 'ServerStartError');
    assert.equal(result.failure.cause, 'cannot load');
    assert.equal(r.stderr, '', 'nothing else is logged');
    assert.equal(result.after, result.before, `--balance ${balance}: sockets left open: ${result.after - result.before}`);
  }
});

test('--max-total-pending counts over both workers: two non-reading clients on different workers hold 4M together, not each', async (t) => {
  const MiB = 1024 * 1024;
  const budget = 4 * MiB;
  // --max-pending out of the way, so only the total budget pauses a connection.
  await withServer(['--workers', '2', '--balance', 'handoff', '--max-total-pending', '4M', '--max-pending', '64M'], async (server) => {
    // One at a time, so the hand-off gives one to each worker (the fewest open).
    const a = await smallWindowClient(server.port);
    await server.waitFor(/^worker 1: new connection from /m);
    const b = await smallWindowClient(server.port);
    await server.waitFor(/^worker 2: new connection from /m);
    try {
      // More than the kernel buffers for a connection that is not read (~4 MiB): the rest is the server's.
      const payload = randomBytes(12 * MiB);
      a.write(payload);
      b.write(payload);
      // Both connections end up paused (past the budget every connection holding anything is): wait for
      // a pause line from each worker.
      await server.waitFor(/^worker 1: pausing reads from /m, 60_000);
      await server.waitFor(/^worker 2: pausing reads from /m, 60_000);
      const pauses = server.lines()
        .map((line) => /^worker (\d): pausing reads from \S+: (\d+) bytes unsent, (\d+) in all \(--max-total-pending 4194304\)$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => ({ worker: m[1]!, unsent: Number(m[2]), total: Number(m[3]) }));
      t.diagnostic(`pauses (worker: unsent / in all): ${pauses.map((p) => `${p.worker}: ${p.unsent} / ${p.total}`).join('; ')}`);
      // "In all" is both workers' bytes: each worker has one connection, so a total of its own would equal
      // that connection's unsent bytes; here the other worker's megabytes are in it...
      assert.ok(pauses.some((p) => p.total - p.unsent > 1024 * 1024), 'no pause counted the other worker\'s bytes');
      // ...and it never went past the budget by more than a read per connection (and 1 KiB per worker).
      for (const p of pauses) assert.ok(p.total <= budget + 2 * 64 * 1024 + 2 * 1024, `${p.total} bytes in all`);
      const echoes = [a, b].map((sock) => {
        const echo = collect(sock, payload.length, 120_000);
        sock.resume();
        return echo;
      });
      for (const echo of await Promise.all(echoes)) assert.ok(echo.equals(payload), 'the echo differs from the data sent');
      await server.waitFor(/^worker \d: resuming reads from /m);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

test('hand-off backpressure: with every inbox full the acceptor stops accepting, refuses nothing, and resumes once the inbox is read', async () => {
  // In one process: the acceptor on this thread's event loop, and the test reading the single inbox in
  // place of a worker. 1,500 connections are more than an AF_UNIX datagram socketpair's send buffer holds.
  const r = await runModule(`
    import net from 'node:net';
    import { once } from 'node:events';
    import { HandoffAcceptor, HandoffInbox } from ${JSON.stringify(distUrl('server/workers/worker-handoff.js'))};
    import { createServer } from ${JSON.stringify(distUrl('socket/index.js'))};
    import { BlockingIOError } from ${JSON.stringify(distUrl('errors.js'))};
    const N = 1500;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const listener = createServer(['127.0.0.1', 0], { backlog: 4096 });
    listener.setblocking(false);
    const port = listener.getsockname()[1];
    const acceptor = new HandoffAcceptor(listener, 1, () => 0, (err) => { throw err; });
    acceptor.start();
    let closedByServer = 0;
    const clients = Array.from({ length: N }, () => {
      const c = net.connect({ port, host: '127.0.0.1' });
      c.on('close', () => closedByServer++);
      return c;
    });
    await Promise.all(clients.map((c) => once(c, 'connect')));
    for (let deadline = Date.now() + 10_000; !acceptor.holding && Date.now() < deadline;) await turn();
    const heldAt = acceptor.holding ? Atomics.load(acceptor.taken, 0) : -1;
    const inbox = new HandoffInbox(acceptor.inboxFds[0], acceptor.taken, 0);
    const adopted = [];
    for (let deadline = Date.now() + 20_000; adopted.length < N && Date.now() < deadline;) {
      try {
        adopted.push(inbox.accept()[0]);
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
        await turn();
      }
    }
    const ports = new Set(adopted.map((s) => s.getpeername()[1]));
    console.log(JSON.stringify({ heldAt, adopted: adopted.length, distinct: ports.size, taken: Atomics.load(acceptor.taken, 0), closedByServer, holding: acceptor.holding }));
    for (const s of adopted) s.close();
    inbox.close();
    acceptor.close();
    for (const c of clients) c.destroy();
  `, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { heldAt: number; adopted: number; distinct: number; taken: number; closedByServer: number; holding: boolean };
  assert.equal(out.heldAt, 0, 'the acceptor never found the inbox full (nothing was read yet)');
  assert.equal(out.adopted, 1500);
  assert.equal(out.distinct, 1500);
  assert.equal(out.taken, 1500);
  assert.equal(out.closedByServer, 0);
  assert.equal(out.holding, false);
});

describe('the shared tally (what --workers count --max-connections and --max-total-pending in)', () => {
  interface TallyModule {
    sharedTallyBuffer(workers: number): SharedArrayBuffer;
    SharedTally: new (buffer: SharedArrayBuffer, worker: number) => {
      open: number; pending: number; holders: number;
      tryOpen(max: number): boolean; closed(): void; addPending(delta: number): void; addHolders(delta: number): void;
    };
    TallyReader: new (buffer: SharedArrayBuffer) => { open: number; peak: number; holders: number; pendingKib: number; openIn(worker: number): number; releaseWorker(worker: number): number };
  }
  const load = (): Promise<TallyModule> => import(distUrl('server/workers/shared-tally.js')) as Promise<TallyModule>;

  test('each worker sees its own bytes exactly and the others\' to the KiB below; a dead worker\'s share is released', async () => {
    const { sharedTallyBuffer, SharedTally, TallyReader } = await load();
    const buffer = sharedTallyBuffer(2);
    const [a, b] = [new SharedTally(buffer, 0), new SharedTally(buffer, 1)];
    const reader = new TallyReader(buffer);
    a.addPending(5000);
    b.addPending(3000);
    assert.equal(a.pending, 5000 + 2048); // b's 3000 bytes published as 2 KiB
    assert.equal(b.pending, 3000 + 4096);
    a.addPending(-5000);
    assert.equal(a.pending, 2048);
    assert.equal(b.pending, 3000);
    // Far past an Int32 of bytes: 3 GiB queued in all.
    a.addPending(3 * 2 ** 30);
    assert.equal(b.pending, 3 * 2 ** 30 + 3000);
    assert.ok(a.tryOpen(3) && b.tryOpen(3) && b.tryOpen(3));
    assert.equal(a.tryOpen(3), false);
    assert.equal(a.open, 3);
    a.addHolders(1);
    b.addHolders(1);
    assert.equal(reader.peak, 3);
    assert.equal(reader.openIn(1), 2);
    // Worker 2 dies holding 2 connections, 1 holder and 2 KiB: all given back.
    assert.equal(reader.releaseWorker(1), 2);
    assert.equal(reader.open, 1);
    assert.equal(reader.holders, 1);
    assert.equal(a.pending, 3 * 2 ** 30);
    assert.ok(a.tryOpen(3));
  });

  test('four threads racing for 8 slots never hold more than 8 at once', async () => {
    const { sharedTallyBuffer, TallyReader } = await load();
    const buffer = sharedTallyBuffer(4);
    const body = esmWorkerUrl(`
      import { workerData, parentPort } from 'node:worker_threads';
      import { SharedTally } from ${JSON.stringify(distUrl('server/workers/shared-tally.js'))};
      const tally = new SharedTally(workerData.buffer, workerData.index);
      // All four start together: each arrives, then waits until the last has.
      const gate = new Int32Array(workerData.gate);
      if (Atomics.add(gate, 0, 1) === 3) Atomics.notify(gate, 0);
      while (Atomics.load(gate, 0) < 4) Atomics.wait(gate, 0, Atomics.load(gate, 0), 1000);
      // Each wants 6 (24 in all): take while it can, give one back when refused or at 6.
      let held = 0, got = 0, refused = 0, seen = 0;
      for (let i = 0; i < 200000; i++) {
        if (held < 6 && tally.tryOpen(8)) { held++; got++; seen = Math.max(seen, tally.open); }
        else { if (held < 6) refused++; if (held > 0) { tally.closed(); held--; } }
      }
      while (held > 0) { tally.closed(); held--; }
      parentPort.postMessage([got, refused, seen]);
    `);
    const { Worker } = await import('node:worker_threads');
    const gate = new SharedArrayBuffer(4);
    const counts = await Promise.all([0, 1, 2, 3].map((index) => new Promise<[number, number, number]>((resolve, reject) => {
      const w = new Worker(body, { workerData: { buffer, index, gate } });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    const reader = new TallyReader(buffer);
    // The limit turned threads away, so they did race for it (one may even be starved: the others keep
    // all 8 busy); the peak, over all of them, is the limit, never above.
    assert.ok(counts.some(([, refused]) => refused > 0), `slots taken, refusals, most seen open per thread: ${counts.join('; ')}`);
    // Right after taking a slot, no thread ever saw more than 8 open.
    assert.ok(counts.every(([, , seen]) => seen <= 8), `slots taken, refusals, most seen open per thread: ${counts.join('; ')}`);
    assert.equal(reader.peak, 8);
    assert.equal(reader.open, 0);
    for (let i = 0; i < 4; i++) assert.equal(reader.openIn(i), 0);
  });
});
