/**
 * Fairness without timing: one wake-up of the server reads each ready connection once, and the reads of a
 * wake-up share a fixed amount (1 MiB), so a crowd of busy clients cannot make a quiet one wait behind
 * 64 KiB from each of them. Checked from the verbose log, where each wake-up ends with "waiting for the
 * next event".
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { collect, connect, withServer } from './echo-server-harness.js';

const MiB = 1024 * 1024;

test('20 clients sending 2 MiB at once: each wake-up reads each connection at most once, 1 MiB in all', async (t) => {
  await withServer(['--backend', 'epoll'], async (server) => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(server.port)));
    try {
      const payload = randomBytes(2 * MiB);
      const echoes = clients.map((sock) => collect(sock, payload.length));
      for (const sock of clients) sock.write(payload);
      for (const echo of echoes) assert.ok((await echo).equals(payload));
    } finally {
      for (const sock of clients) sock.destroy();
    }
    let wakeups = 0;
    let busiest = 0;
    let reads = new Map<string, number>();
    let bytes = 0;
    for (const line of server.lines()) {
      if (line === 'waiting for the next event') {
        wakeups++;
        busiest = Math.max(busiest, bytes);
        reads = new Map();
        bytes = 0;
        continue;
      }
      const m = /^received .*?(?:\((\d+) bytes\) )?from (\S+)$/.exec(line);
      if (!m) continue;
      const n = m[1] === undefined ? 60 : Number(m[1]);
      bytes += n;
      reads.set(m[2]!, (reads.get(m[2]!) ?? 0) + 1);
      assert.equal(reads.get(m[2]!), 1, `${m[2]} was read twice in one wake-up`);
    }
    t.diagnostic(`${wakeups} wake-ups, at most ${(busiest / 1024).toFixed(0)} KiB read in one`);
    assert.ok(wakeups > 20, `${wakeups} wake-ups`);
    // 20 ready connections read 64 KiB each would be 1.25 MiB.
    assert.ok(busiest <= MiB, `${busiest} bytes read in one wake-up`);
  });
});
