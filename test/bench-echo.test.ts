/**
 * `iomux echo-bench` run as a CLI child process against tiny node:net echo servers in another child process
 * (an honest one, one that corrupts a byte, one that drops idle connections). Functional only: no assertion
 * on speed beyond "some messages went through".
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode, type ChildResult } from './support/children.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** node:net echo servers: "echo" is honest, "corrupt" flips the 1000th byte of each connection's stream. */
const SERVER = `
const net = require('node:net');
const mode = process.argv[1];
const server = net.createServer((s) => {
  s.setNoDelay(true);
  let seen = 0;
  s.on('data', (d) => {
    if (mode === 'corrupt' && seen <= 999 && seen + d.length > 999) d[999 - seen] ^= 0x55;
    seen += d.length;
    s.write(d);
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

const servers: ChildProcess[] = [];
after(() => {
  for (const s of servers) s.kill('SIGKILL');
});

async function startServer(mode: 'echo' | 'corrupt'): Promise<number> {
  const child = spawn(process.execPath, ['-e', SERVER, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  child.stdout!.setEncoding('utf8');
  const [line] = (await once(child.stdout!, 'data')) as [string];
  return Number(line.trim());
}

/** The iomux CLI in a child process (killed after 30 s), with its exit code and output. */
function cli(args: string[]): Promise<ChildResult> {
  return runNode([MAIN, ...args]);
}

function json(run: ChildResult): Record<string, number | string | string[]> {
  return JSON.parse(run.stdout) as Record<string, number | string | string[]>;
}

describe('iomux echo-bench', () => {
  test('pipelined connections against an echo server: every byte verified, a non-zero rate', async () => {
    const port = await startServer('echo');
    const run = await cli(['echo-bench', '--port', String(port), '--connections', '4', '--depth', '8', '--size', '100',
      '--duration', '0.5', '--warmup', '0.2', '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const r = json(run);
    assert.equal(r.status, 'ok');
    assert.equal(r.active_connected, 4);
    assert.ok((r.msgs as number) > 0 && (r.msgs_per_s as number) > 0);
    // Everything received was checked: at least the window's messages, warmup and drain on top.
    assert.ok((r.verified_bytes as number) >= (r.msgs as number) * 100);
    assert.equal(r.corrupt_bytes, 0);
    assert.equal(r.missing_bytes, 0);
    assert.equal(r.extra_bytes, 0);
    assert.ok((r.lat_p50_us as number) > 0 && (r.lat_p50_us as number) <= (r.lat_p99_us as number));
    assert.ok((r.lat_p99_us as number) <= (r.lat_max_us as number));
  });

  test('idle connections stay silent, then each echoes its probe; the summary is printed without --json', async () => {
    const port = await startServer('echo');
    const run = await cli(['echo-bench', '--port', String(port), '--connections', '2', '--depth', '2', '--duration', '0.3',
      '--warmup', '0', '--idle', '50']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /msgs\/s/);
    assert.match(run.stdout, /idle 50\/50 \(probes echoed 50, closed by server 0\)/);
    assert.match(run.stdout, /status +ok/);
  });

  test('a server that changes one byte is caught: exit status 3 and the count of corrupt bytes', async () => {
    const port = await startServer('corrupt');
    const run = await cli(['echo-bench', '--port', String(port), '--connections', '2', '--depth', '4', '--size', '64',
      '--duration', '0.3', '--warmup', '0.1', '--json']);
    assert.equal(run.code, 3, run.stderr + run.stdout);
    const r = json(run);
    assert.equal(r.status, 'corrupt');
    assert.equal(r.corrupt_bytes, 2); // one byte on each of the two connections
    assert.match((r.problems as string[]).join('\n'), /differ from the bytes sent/);
  });

  test('nothing listening: connection errors, exit status 1, no crash', async () => {
    // A port that was just free: bind and release one through a short-lived server.
    const port = await startServer('echo');
    const server = servers.pop()!;
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited; // its listening socket died with it
    const run = await cli(['echo-bench', '--port', String(port), '--connections', '3', '--duration', '0.2', '--warmup', '0', '--json']);
    assert.equal(run.code, 1, run.stderr + run.stdout);
    const r = json(run);
    assert.equal(r.status, 'errors');
    assert.equal(r.connect_errors, 3);
    assert.match((r.problems as string[]).join('\n'), /Connection refused/);
    assert.equal(r.client_cpu_pct, -1); // the JSON's "not measured"
    const text = await cli(['echo-bench', '--port', String(port), '--connections', '1', '--duration', '0.2', '--warmup', '0']);
    assert.equal(text.code, 1, text.stderr + text.stdout);
    assert.match(text.stdout, /\n {2}cpu {10}client not measured \(no measured window\)\n/);
    assert.doesNotMatch(text.stdout, /-1%/);
  });

  test('bad arguments name the option and exit with status 2', async () => {
    for (const [args, message] of [
      [['--connections', '0'], '--connections must be an integer from 1 to 100000 (got 0)'],
      [['--size', 'big'], "--size must be an integer from 1 to 16777216 (got 'big')"],
      [['--duration=-1'], '--duration must be at least 0.01 and at most 86400 seconds (got -1)'],
      [['--duration', '-1'], '--duration must be at least 0.01 and at most 86400 seconds (got -1)'],
      [['--port', '70000'], '--port must be an integer from 1 to 65535 (got 70000)'],
      [['--frobnicate'], "unknown option '--frobnicate' (iomux echo-bench --help lists the options)"],
    ] as const) {
      const run = await cli(['echo-bench', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stderr, `iomux echo-bench: ${message}\n`);
    }
    const help = await cli(['echo-bench', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--connections N/);
  });
});
