/**
 * `iomux demo` owns its children: interrupted by a signal or cut off by a reader that closes early, it stops
 * the echo server and the client it started before it ends, and ends with the status that says why. Each
 * demo runs with a marker in its environment, which its children inherit, so any process it left behind is
 * found in /proc whoever its parent became.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { MAIN } from './echo-server-harness.js';
import { outputMatching } from './support/children.js';

/** The pids of the live processes whose environment holds `MARK=mark`. */
function marked(mark: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const state = /^\d+ \(.*\) (\S)/s.exec(readFileSync(`/proc/${name}/stat`, 'latin1'))?.[1];
      if (env.includes(`IOMUX_DEMO_TEST=${mark}`) && state !== 'Z') pids.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

/** Resolves with the error code of a connection attempt to 127.0.0.1:port ('connected' if one was accepted). */
async function connectOutcome(port: number): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  try {
    await once(sock, 'connect');
    return 'connected';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  } finally {
    sock.destroy();
  }
}

/** A demo whose slow client pauses long enough to be caught mid-run, with its own marker. */
function startDemo(mark: string): { child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(process.execPath, [MAIN, 'demo', '--delay', '5'], {
    env: { ...process.env, IOMUX_DEMO_TEST: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, output: () => out };
}

describe('iomux demo stops what it started', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    test(`${signal} mid-run: the server and the slow client are gone, the demo ends by ${signal}`, async () => {
      const mark = randomUUID();
      const { child, output } = startDemo(mark);
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const running = (): boolean => child.exitCode === null && child.signalCode === null;
      // The slow client has sent its first part and pauses for 5 s: server and client are both running.
      const m = await outputMatching(output, /\$ iomux slow-client --delay 5 --port (\d+)\n[^]*sending "Part one/, running, 20_000);
      assert.ok(m, output());
      const port = Number(m[1]);
      assert.equal(marked(mark).length, 3, 'the demo, its server and its slow client');
      assert.equal(await connectOutcome(port), 'connected');

      child.kill(signal);
      const [code, sig] = await exited;
      assert.deepEqual([code, sig], [null, signal], output());
      assert.deepEqual(marked(mark), [], 'nothing the demo started is left');
      assert.equal(await connectOutcome(port), 'ECONNREFUSED');
    });
  }

  test('piped into a reader that closes after one line (| head -1): stops its children, status 0', async () => {
    const mark = randomUUID();
    const shell = spawn('/bin/sh', ['-c', `"$0" "$1" demo --delay 0.2 | head -1`, process.execPath, MAIN], {
      env: { ...process.env, IOMUX_DEMO_TEST: mark },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    shell.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    shell.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const [code] = (await once(shell, 'exit')) as [number | null];
    assert.equal(code, 0, err);
    assert.equal(out, '$ iomux echo-server --port 0 --backend default &   (its event log is shown at the end)\n');
    assert.equal(err, '');
    // The shell waited for the demo, and the demo for its children.
    assert.deepEqual(marked(mark), [], 'nothing the demo started is left');
  });

  test('a reader that closes mid-run: the demo stops the running server and exits 0', async () => {
    const mark = randomUUID();
    const { child, output } = startDemo(mark);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const running = (): boolean => child.exitCode === null && child.signalCode === null;
    const m = await outputMatching(output, /\$ iomux slow-client --delay 5 --port (\d+)\n[^]*sending "Part one/, running, 20_000);
    assert.ok(m, output());
    child.stdout!.destroy(); // the slow client's next line, or the demo's, now meets EPIPE
    const [code, sig] = await exited;
    assert.deepEqual([code, sig], [0, null], output());
    assert.deepEqual(marked(mark), [], 'nothing the demo started is left');
    assert.equal(await connectOutcome(Number(m[1])), 'ECONNREFUSED');
  });
});
