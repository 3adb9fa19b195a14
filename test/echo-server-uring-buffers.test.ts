/**
 * The uring backend's provided-buffer group running dry: connections that stop reading their echo hold
 * buffers (received, not yet sent), and a recv that finds none ends with -ENOBUFS. It must be re-armed once
 * buffers come back — not at once (that would spin) and not never (that would lose the connection) — and no
 * byte may be lost. IOMUX_TEST_URING_BUFFERS (for tests only) shrinks the group to 16 buffers, which two
 * stalled connections (8 buffers each at most) hold entirely.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { test } from 'node:test';
import { outputMatching } from './support/children.js';
import { collect, connect, ServerProcess, smallWindowClient } from './echo-server-harness.js';

const DRY = /no receive buffer free for (\S+): reading it again once one is given back/;
const TIMED_OUT = /timed out, do some other work here/g;

test('uring: a dry buffer group starves recvs, which are re-armed once buffers are sent; nothing is lost, nothing spins', async () => {
  process.env.IOMUX_TEST_URING_BUFFERS = '16';
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(['--backend', 'uring', '--timeout', '0.3']);
  } finally {
    delete process.env.IOMUX_TEST_URING_BUFFERS;
  }
  const clients: net.Socket[] = [];
  try {
    // Two clients that send 4 MiB each and read nothing (a tiny receive window): the server's sends to them
    // stall, and what it receives meanwhile stays in its buffers, 8 per connection at most.
    const payloads = [randomBytes(4 << 20), randomBytes(4 << 20)];
    const stalled: net.Socket[] = [];
    for (const payload of payloads) {
      const sock = await smallWindowClient(server.port);
      clients.push(sock);
      stalled.push(sock);
      sock.write(payload);
    }

    // A third client pings, each ping once the last came back, until a recv finds the group dry (the third's
    // or a stalled one's, whichever the kernel found without a buffer).
    const pinger = await connect(server.port);
    clients.push(pinger);
    const echoed: Buffer[] = [];
    let echoedBytes = 0;
    pinger.on('data', (d: Buffer) => {
      echoed.push(d);
      echoedBytes += d.length;
    });
    const pings: Buffer[] = [];
    let sentBytes = 0;
    const deadline = performance.now() + 60_000;
    while (!DRY.test(server.log)) {
      assert.ok(performance.now() < deadline, `the group never ran dry in 60 s (${pings.length} pings):\n${server.log.slice(-3000)}`);
      const ping = Buffer.from(`ping ${String(pings.length).padStart(10, '0')}\n`);
      pings.push(ping);
      pinger.write(ping);
      sentBytes += ping.length;
      const m = await outputMatching(() => (echoedBytes >= sentBytes ? 'echoed' : server.log), /^echoed$|no receive buffer free/m, () => server.alive, 30_000);
      assert.ok(m, `neither the echo of ping ${pings.length - 1} nor a dry group within 30 s:\n${server.log.slice(-3000)}`);
    }

    // The group stays dry while nobody reads: the server waits, it does not spin. Its own --timeout line
    // marks a quiet stretch of at least 0.3 s; over it the server may use a small part of the CPU only.
    const timedOutBefore = server.log.match(TIMED_OUT)?.length ?? 0;
    const ticks0 = server.cpuTicks();
    const t0 = performance.now();
    await server.waitForCount(/timed out, do some other work here/, timedOutBefore + 2);
    const usedTicks = server.cpuTicks() - ticks0;
    const elapsedTicks = (performance.now() - t0) / 10;
    assert.ok(usedTicks <= 2 + elapsedTicks * 0.3, `the server used ${usedTicks} CPU ticks over ${elapsedTicks.toFixed(0)} while the group was dry`);

    // The stalled clients read: their sends complete, the buffers come back, the starved recv is re-armed,
    // and every byte of all three comes back in order.
    const echoes = stalled.map((sock, i) => collect(sock, payloads[i]!.length, 60_000));
    for (const sock of stalled) sock.resume();
    const got = await Promise.all(echoes);
    for (let i = 0; i < payloads.length; i++) assert.ok(got[i]!.equals(payloads[i]!), `stalled client ${i}: the echo differs`);
    const m = await outputMatching(() => (echoedBytes >= sentBytes ? 'echoed' : ''), /echoed/, () => server.alive, 30_000);
    assert.ok(m, `only ${echoedBytes} of the pinger's ${sentBytes} bytes came back after the group refilled`);
    assert.ok(Buffer.concat(echoed).equals(Buffer.concat(pings)), 'the pinger\'s echo differs');
    assert.ok(server.alive);
  } finally {
    for (const sock of clients) sock.destroy();
    if (server.alive) await server.stop('SIGKILL');
  }
});
