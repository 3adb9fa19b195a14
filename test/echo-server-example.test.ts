/**
 * examples/selectors-echo.ts, the docs' callback-style server made correct about partial sends: run as its
 * own process, it echoes exactly, also to a client that stops reading for a while (so its sends fall short
 * and it must keep the rest), and to many clients at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collect, connect, roundTrip } from './echo-server-harness.js';
import { outputMatching } from './support/children.js';
import { sleep } from './support/timing.js';

const EXAMPLE = fileURLToPath(new URL('../examples/selectors-echo.js', import.meta.url));

describe('examples/selectors-echo', () => {
  const child = spawn(process.execPath, [EXAMPLE, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let port = 0;

  before(async () => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const m = await outputMatching(() => out, /listening on localhost port (\d+)/, () => child.exitCode === null, 10_000);
    if (!m) throw new Error(`the example did not start:\n${out}`);
    port = Number(m[1]);
  });
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  test('a client that stops reading for a while still gets all of its 8 MiB back, in order', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const sock = await connect(port);
    try {
      sock.pause();
      sock.write(data);
      await sleep(300); // the server's sends fall short: it must keep the rest and wait for EVENT_WRITE
      const echo = collect(sock, data.length);
      sock.resume();
      assert.ok((await echo).equals(data), 'the echo differs from the data sent');
    } finally {
      sock.destroy();
    }
  });

  test('20 clients at once, 512 KiB each', async () => {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const data = randomBytes(512 * 1024);
        assert.ok((await roundTrip(port, data)).equals(data));
      }),
    );
    assert.match(out, /accepted <Socket fd=\d+, .*> from \('127\.0\.0\.1', \d+\)\n/);
    const closing = await outputMatching(() => out, /closing <Socket fd=\d+/, () => child.exitCode === null, 10_000);
    assert.ok(closing, `no 'closing' line:\n${out}`);
  });
});
