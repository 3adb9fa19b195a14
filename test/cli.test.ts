/**
 * The `iomux` CLI: help, version and option errors for every command; echo-client and slow-client against
 * a node:net echo server in the test process (honest, corrupting, absent); `demo` end to end.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, runCli, ServerProcess } from './echo-server-harness.js';

const COMMANDS = ['echo-server', 'echo-client', 'slow-client', 'demo'];

/** A node:net server in this process that answers with `transform(data)`. */
async function netServer(transform: (data: Buffer) => Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.on('data', (d) => sock.write(transform(d)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('iomux CLI', () => {
  test('--help on every command: usage, options, status 0', async () => {
    for (const cmd of COMMANDS) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: iomux ${cmd} `));
      assert.match(r.stdout, /\n {2}-h, --help +show this help and exit\n/);
    }
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    for (const cmd of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));
  });

  test('--version prints the package version; no command is a usage error', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
    const unknown = await runCli(['echo-sever']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, "iomux: unknown command 'echo-sever' (iomux --help lists the commands)\n");
  });

  test('bare iomux: the usage on stderr, nothing on stdout, status 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^iomux: a command is required\nusage: iomux <command> \[options\]/);
    for (const cmd of COMMANDS) assert.match(r.stderr, new RegExp(`\\n  ${cmd} `));
  });

  test('bad options: one line naming the option, status 2, nothing started', async () => {
    const cases: Array<[string[], string]> = [
      [['echo-server', '--port', 'abc'], "--port must be an integer from 0 to 65535 (got 'abc')"],
      [['echo-server', '--port', '70000'], '--port must be an integer from 0 to 65535 (got 70000)'],
      // Values that look like negative numbers are values: the option's own range message, not a parser's.
      [['echo-server', '--port', '-1'], '--port must be an integer from 0 to 65535 (got -1)'],
      [['echo-server', '--port=-1'], '--port must be an integer from 0 to 65535 (got -1)'],
      [['echo-server', '--idle-timeout', '-1'], '--idle-timeout must be greater than 0 and at most 31536000 seconds (got -1)'],
      [['echo-server', '--idle-timeout=-1'], '--idle-timeout must be greater than 0 and at most 31536000 seconds (got -1)'],
      [['echo-server', '--max-pending', '-5K'], '--max-pending must be from 1 to 1099511627776 bytes (got -5K)'],
      [['slow-client', '--delay', '-1'], '--delay must be at least 0 and at most 3600 seconds (got -1)'],
      [['slow-client', '--delay', '-0.5'], '--delay must be at least 0 and at most 3600 seconds (got -0.5)'],
      [['echo-client', '--sockets', '-1'], '--sockets must be an integer from 1 to 10000 (got -1)'],
      [['echo-bench', '--connections', '-3'], '--connections must be an integer from 1 to 100000 (got -3)'],
      // Decimal digits only: what Number() would also take is refused.
      [['echo-server', '--port', '0x10'], "--port must be an integer from 0 to 65535 (got '0x10')"],
      [['echo-server', '--port', '1e3'], "--port must be an integer from 0 to 65535 (got '1e3')"],
      [['echo-server', '--port', ' 80'], "--port must be an integer from 0 to 65535 (got ' 80')"],
      [['echo-server', '--port', '80 '], "--port must be an integer from 0 to 65535 (got '80 ')"],
      [['echo-server', '--port', '+80'], "--port must be an integer from 0 to 65535 (got '+80')"],
      [['echo-server', '--port', '80.0'], "--port must be an integer from 0 to 65535 (got '80.0')"],
      [['echo-server', '--port', ''], "--port must be an integer from 0 to 65535 (got '')"],
      [['echo-server', '--max-connections', '99999999999999999999'], "--max-connections must be an integer from 1 to 10000000 (got '99999999999999999999')"],
      [['echo-client', '--sockets', '0b11'], "--sockets must be an integer from 1 to 10000 (got '0b11')"],
      [['echo-server', '--backend', 'devpoll'], "--backend must be one of default, select, poll, epoll, kqueue, uring, selectors (got 'devpoll')"],
      [['echo-server', '--max-pending', '12Q'], "--max-pending must be a number of bytes, optionally with K, M or G (got '12Q')"],
      [['echo-server', '--max-connections', '0'], '--max-connections must be an integer from 1 to 10000000 (got 0)'],
      [['echo-server', '--idle-timeout', '0'], '--idle-timeout must be greater than 0 and at most 31536000 seconds (got 0)'],
      [['echo-server', '--timeout', 'soon'], "--timeout must be a number of seconds (got 'soon')"],
      [['echo-server', '--selector', 'poll'], '--selector only applies to --backend selectors (got --backend default)'],
      [['echo-server', '--driver', 'loop', '--backend', 'epoll'], '--driver loop needs a selectors backend (--backend default or selectors; got --backend epoll)'],
      [['echo-server', '--bogus'], "unknown option '--bogus' (iomux echo-server --help lists the options)"],
      [['echo-server', '-x'], "unknown option '-x' (iomux echo-server --help lists the options)"],
      [['echo-server', '--port'], '--port needs a value (--port PORT)'],
      [['echo-server', '--port', '--quiet'], '--port needs a value (--port PORT)'],
      [['echo-server', '--quiet=yes'], "--quiet takes no value (got '--quiet=yes')"],
      [['echo-server', 'extra'], "unexpected argument 'extra' (iomux echo-server --help lists the options)"],
      [['echo-client', '--sockets', '0'], '--sockets must be an integer from 1 to 10000 (got 0)'],
      [['echo-client', '--port', '0'], '--port must be an integer from 1 to 65535 (got 0)'],
      [['slow-client', '--delay', 'x'], "--delay must be a number of seconds (got 'x')"],
      [['demo', '--backend', 'nope'], "--backend must be one of default, select, poll, epoll, kqueue, uring, selectors (got 'nope')"],
      [['demo', '--delay', '-2'], '--delay must be at least 0 and at most 60 seconds (got -2)'],
      [['echo-bench', '--size', 'big'], "--size must be an integer from 1 to 16777216 (got 'big')"],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: status ${r.code}, ${r.stderr}`);
      assert.equal(r.stderr, `iomux ${args[0]}: ${message}\n`, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });

  test('-- ends the options: a part that starts with a dash is sent as it is', async () => {
    const echo = await netServer((d) => d);
    try {
      const r = await runCli(['echo-client', '--port', String(echo.port), '--sockets', '1', '--', '--not-an-option', '-1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /: received "--not-an-option"\n/);
      assert.match(r.stdout, /: received "-1"\n/);
    } finally {
      await echo.close();
    }
  });

  describe('clients against a node:net echo server', () => {
    let echo: Awaited<ReturnType<typeof netServer>>;
    before(async () => {
      echo = await netServer((d) => d);
    });
    after(async () => {
      await echo.close();
    });

    test('echo-client: each part on every socket, the echo read back, status 0', async () => {
      const r = await runCli(['echo-client', '--port', String(echo.port), '--sockets', '3', 'one ', 'two "quoted"\n']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines[0], `connecting to 127.0.0.1 port ${echo.port}`);
      const labels = lines.slice(1, 4).map((l) => l.split(': ')[0]!);
      for (const l of labels) assert.match(l, /^127\.0\.0\.1:\d+$/);
      const expected = [`connecting to 127.0.0.1 port ${echo.port}`];
      for (const shown of ['"one "', '"two \\"quoted\\"\\n"']) {
        for (const l of labels) expected.push(`${l}: sending ${shown}`);
        for (const l of labels) expected.push(`${l}: received ${shown}`);
      }
      for (const l of labels) expected.push(`closing socket ${l}`);
      assert.deepEqual(lines, expected);
    });

    test('slow-client: 16-byte pieces that do not follow the parts (a byte stream)', async () => {
      const t0 = performance.now();
      const r = await runCli(['slow-client', '--port', String(echo.port), '--delay', '0.2']);
      const ms = performance.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trimEnd().split('\n'), [
        `connecting to 127.0.0.1 port ${echo.port}`,
        'sending "Part one of the message."',
        'sending "Part two of the message."',
        'received "Part one of the "',
        'received "message.Part two"',
        'received " of the message."',
        'closing socket',
      ]);
      assert.ok(ms >= 400, `finished after ${ms.toFixed(0)} ms despite two 0.2 s pauses`);
    });
  });

  test('echo-client exits 1 when the echo differs', async () => {
    const liar = await netServer((d) => Buffer.from(d.toString('latin1').toUpperCase(), 'latin1'));
    try {
      const r = await runCli(['echo-client', '--port', String(liar.port), '--sockets', '1', 'abc']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the echo differs from what was sent \(sent "abc", got "ABC"\)/);
      const s = await runCli(['slow-client', '--port', String(liar.port), '--delay', '0', 'abc']);
      assert.equal(s.code, 1);
      assert.match(s.stderr, /the echo differs from what was sent/);
    } finally {
      await liar.close();
    }
  });

  test('a timeout says what the client waited for', async () => {
    const mute = await netServer(() => Buffer.alloc(0));
    try {
      const slow = await runCli(['slow-client', '--port', String(mute.port), '--delay', '0', '--timeout', '0.3']);
      assert.equal(slow.code, 1);
      assert.equal(slow.stderr, 'iomux slow-client: timed out after 0.3 s (--timeout) waiting for the echo (0 of 48 bytes came back)\n');
      const multi = await runCli(['echo-client', '--port', String(mute.port), '--sockets', '1', '--timeout', '0.3', 'abc', 'def']);
      assert.equal(multi.code, 1);
      assert.match(multi.stderr, /^iomux echo-client: timed out after 0\.3 s \(--timeout\) waiting for the echo of part 1 of 2 on 127\.0\.0\.1:\d+\n$/);
    } finally {
      await mute.close();
    }
  });

  test('echo-server refusing beyond --max-connections 1 says "1 connection is open"', async () => {
    const server = await ServerProcess.start(['--max-connections', '1']);
    try {
      const first = await connect(server.port);
      await server.waitFor(/new connection from \S+/);
      const second = await connect(server.port);
      await server.waitFor(/refusing connection from \S+: .*\n/);
      assert.match(server.log, /1 connection is open \(--max-connections 1\)/);
      first.destroy();
      second.destroy();
    } finally {
      await server.stop();
    }
  });

  test('clients exit 1 with the reason when nothing listens', async () => {
    const gone = await netServer((d) => d);
    const port = gone.port;
    await gone.close();
    for (const cmd of ['echo-client', 'slow-client']) {
      const r = await runCli([cmd, '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`iomux ${cmd}: cannot connect to 127\\.0\\.0\\.1 port ${port}: \\[Errno 111\\] Connection refused`));
    }
  });

  test('demo: a server, both clients, the server stopped and its log shown', async () => {
    const r = await runCli(['demo', '--delay', '0.1', '--backend', 'epoll']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\$ iomux echo-server --port 0 --backend epoll/);
    assert.match(r.stdout, /\$ iomux echo-client --port \d+\n/);
    assert.match(r.stdout, /127\.0\.0\.1:\d+: received "in parts\."/);
    assert.match(r.stdout, /\$ iomux slow-client --delay 0\.1 --port \d+\n/);
    assert.match(r.stdout, /received "message\.Part two"/);
    assert.match(r.stdout, /--- the server's event log \(stderr\) ---\nstarting up on 127\.0\.0\.1 port \d+ \(backend epoll\)/);
    assert.match(r.stdout, /shutting down \(SIGTERM\): closing 0 connections\nserved 3 connections \(0 refused\), echoed 140 bytes, peak 2 concurrent connections\n/);
  });
});
