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
import { distUrl, esmWorkerUrl, outputMatching, runNode } from './support/children.js';

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

for (const balance of BALANCES) {
  describe(`echo-server --workers 2 --balance ${balance}`, () => {
    test('every byte of 40 concurrent connections comes back; both workers serve; the summary sums them', async () => {
      await withServer(['--workers', '2', '--balance', balance, '--quiet'], async (server) => {
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

    test('--max-connections counts over both workers: the 17th of 16 is refused though each worker holds fewer', async () => {
      await withServer(['--workers', '2', '--balance', balance, '--max-connections', '16'], async (server) => {
        const clients: net.Socket[] = [];
        for (let i = 0; i < 16; i++) clients.push(await connect(server.port));
        const accepted = await server.waitForCount(/^worker \d: new connection from /, 16);
        const perWorker = [1, 2].map((w) => accepted.filter((line) => line.startsWith(`worker ${w}:`)).length);
        assert.ok(perWorker[0]! < 16 && perWorker[1]! < 16, `connections per worker: ${perWorker.join(' + ')}`);
        await refusedAt(server.port);
        await server.waitFor(/refusing connection from \S+: 16 connections are open \(--max-connections 16\)/);
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
        assert.equal(s.served, 17);
        assert.equal(s.refused, 1);
        assert.equal(s.peak, 16);
        for (const c of clients) c.destroy();
      });
    });

    test('SIGTERM with connections open stops both workers at once and exits 0', async (t) => {
      await withServer(['--workers', '2', '--balance', balance], async (server) => {
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

test('--workers on the Node-loop driver and the poll backend: echoes, and SIGINT stops it', async () => {
  for (const args of [['--driver', 'loop'], ['--backend', 'poll']]) {
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
    assert.match(r.stderr, /^cannot listen on 127\.0\.0\.1 port \d+: \[Errno \d+\] Address already in use\n$/);
  } finally {
    await first.stop();
  }
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
    import { TallyReader } from ${JSON.stringify(distUrl('server/shared-tally.js'))};
    const tally = new TallyReader(workerData.tally);
    if (workerData.index === 0) setInterval(() => { if (tally.openIn(0) > 0) throw new Error('boom'); }, 5);
    await import(${JSON.stringify(distUrl('server/worker-main.js'))});
  `);
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { runWorkers } from ${JSON.stringify(distUrl('server/workers.js'))};
    import { EventLog } from ${JSON.stringify(distUrl('server/event-log.js'))};
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
      const lines = await server.waitForCount(/^worker \d: pausing reads from \S+: \d+ bytes unsent, \d+ in all \(--max-total-pending 4194304\)$/, 2, 60_000);
      const held = new Map<string, number>();
      for (const line of lines) {
        const m = /^worker (\d): pausing reads from \S+: (\d+) bytes unsent/.exec(line)!;
        held.set(m[1]!, Number(m[2])); // a paused connection neither reads nor (its client not reading) sends
      }
      assert.deepEqual([...held.keys()].sort(), ['1', '2'], lines.join('\n'));
      const together = held.get('1')! + held.get('2')!;
      t.diagnostic(`held when paused: ${held.get('1')} + ${held.get('2')} bytes with a ${budget} byte budget`);
      // Each worker alone under a budget of its own would hold up to 4M: together ~8M.
      assert.ok(together <= budget + 2 * 64 * 1024 + 2 * 1024, `${together} bytes held by the two workers`);
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
