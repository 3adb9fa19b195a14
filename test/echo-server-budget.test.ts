/**
 * --max-total-pending: the server's queued output in all is bounded. Clients that send and never read
 * make the server queue their echo; past the budget it stops reading from the ones holding the most, then
 * from every one holding anything, and every byte still comes back once the clients read.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { collect, label, smallWindowClient, withServer } from './echo-server-harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;

for (const backend of ['epoll', 'uring']) test(`--max-total-pending 4M (--backend ${backend}): 30 clients that do not read make the server stop reading, and every byte comes back once they read`, async (t) => {
  const budget = 4 * MiB;
  await withServer(['--backend', backend, '--max-total-pending', '4M'], async (server) => {
    const clients = await Promise.all(Array.from({ length: 30 }, () => smallWindowClient(server.port)));
    try {
      // More than the kernel holds for a connection (its send buffer grows to tcp_wmem's 4 MiB): the rest
      // is the server's to queue. One buffer for all, so the test's own memory stays small.
      const payload = randomBytes(6 * MiB);
      const data = clients.map(() => payload);
      clients.forEach((sock, i) => sock.write(data[i]!));

      // Most clients end up not read because of the total, the ones holding the most first (a few may
      // have all their bytes fit in the kernel's buffers: how much it keeps per connection varies).
      const lines = await server.waitForCount(/^pausing reads from \S+: \d+ bytes unsent, \d+ in all \(--max-total-pending 4194304\)$/, 20, 60_000);
      const paused = new Set(lines.map((l) => l.split(' ')[3]!.replace(/:$/, '')));
      const ours = new Set(clients.map(label));
      for (const peer of paused) assert.ok(ours.has(peer), peer);
      // The budget is passed by at most one read per connection that held nothing.
      const totals = lines.map((l) => Number(/, (\d+) in all/.exec(l)![1]));
      const worst = Math.max(...totals);
      t.diagnostic(`queued in all at most ${(worst / MiB).toFixed(2)} MiB with a ${budget / MiB} MiB budget`);
      assert.ok(worst <= budget + 30 * 64 * KiB, `${worst} bytes queued in all`);
      // The first to stop are the ones holding the most: each held at least the average when paused.
      const first = /: (\d+) bytes unsent, (\d+) in all/.exec(lines[0]!)!;
      assert.ok(Number(first[1]) > 0);

      // The clients read: everything arrives, in order, and the server reads again.
      const echoes = await Promise.all(clients.map(async (sock, i) => {
        const echo = collect(sock, data[i]!.length, 120_000);
        sock.resume();
        try {
          return await echo;
        } catch (err) {
          const peer = label(sock);
          const mine = server.lines().filter((l) => l.includes(peer) && !/^(received|sending) /.test(l));
          throw new Error(`${peer}: ${(err as Error).message}; its log lines:\n${mine.slice(-20).join('\n')}\nlast lines:\n${server.lines().slice(-10).join('\n')}`);
        }
      }));
      echoes.forEach((echo, i) => assert.ok(echo.equals(data[i]!), `client ${i}: the echo differs from the data sent`));
      await server.waitFor(/resuming reads from \S+: \d+ bytes unsent, \d+ in all/);
    } finally {
      for (const sock of clients) sock.destroy();
    }
  });
});

for (const backend of ['poll', 'uring']) test(`--max-total-pending 0 turns the total budget off (only --max-pending applies; --backend ${backend})`, async () => {
  await withServer(['--backend', backend, '--max-total-pending', '0', '--max-pending', '64K'], async (server) => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => smallWindowClient(server.port)));
    try {
      const payload = randomBytes(6 * MiB);
      const data = clients.map(() => payload);
      clients.forEach((sock, i) => sock.write(data[i]!));
      await server.waitForCount(/^pausing reads from \S+: \d+ bytes unsent$/, 4, 30_000);
      assert.doesNotMatch(server.log, /in all/);
      const echoes = await Promise.all(clients.map((sock, i) => {
        const echo = collect(sock, data[i]!.length, 60_000);
        sock.resume();
        return echo;
      }));
      echoes.forEach((echo, i) => assert.ok(echo.equals(data[i]!)));
    } finally {
      for (const sock of clients) sock.destroy();
    }
  });
});
