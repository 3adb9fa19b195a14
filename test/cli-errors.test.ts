/**
 * Runtime failures of the `iomux` CLI that a user can cause (issue 21, item 5): each is one line on stderr,
 * "iomux <command>: what failed: why", with the errno's name, and exit status 1 — never a stack trace. Every
 * case runs the real CLI against a real cause: libkqueue missing (IOMUX_LIBKQUEUE pointing nowhere), a name
 * that does not resolve, a port in use, a privileged port as an unprivileged user, nothing listening. Also the CLI's own texts: `--help` names `--version`, and with
 * `--workers` the workers' lines follow "starting up", none of them a bare "worker N: ".
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { MAIN, ServerProcess } from './echo-server-harness.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `iomux ARGS` in a child process: with `env` added to this one's, under `prefix` (e.g. setpriv) if given. */
async function iomux(args: string[], options: { env?: Record<string, string>; prefix?: string[] } = {}): Promise<Run> {
  const argv = [...(options.prefix ?? []), process.execPath, MAIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Exactly one line on stderr, "iomux COMMAND: …" matching `why`, no stack, and exit status 1. */
function assertOneLine(r: Run, command: string, why: RegExp): void {
  const shown = `status ${r.code}, stderr:\n${r.stderr}`;
  assert.equal(r.code, 1, shown);
  assert.match(r.stderr, new RegExp(`^iomux ${command}: [^\\n]+\\n$`), shown);
  assert.match(r.stderr.trimEnd(), why, shown);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error: |undefined|\[object /, shown);
}

/** A TCP port on 127.0.0.1 held by a node:net server in this process while `body` runs. */
async function withPortInUse(body: (port: number) => Promise<void>): Promise<void> {
  const server = net.createServer((s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await body((server.address() as net.AddressInfo).port);
  } finally {
    server.close();
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then let go). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const NO_LIBKQUEUE = { IOMUX_LIBKQUEUE: '/nonexistent/libkqueue.so.0' };
const KQUEUE_MISSING = /kqueue is not available .*libkqueue could not be loaded from \/nonexistent\/libkqueue\.so\.0.* \(ENOSYS\)$/;
const UNRESOLVABLE = 'nonexistent.invalid';

/**
 * A real cause for "no io_uring": python3 installs a seccomp filter refusing io_uring_setup (425 on every
 * Linux architecture) with EPERM, as Docker's default profile does, then execs the CLI.
 */
const NO_URING_PREFIX = ['python3', '-c', [
  'import ctypes, os, struct, sys',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'insns = [(0x20, 0, 0, 0), (0x15, 0, 1, 425), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]',
  "code = ctypes.create_string_buffer(b''.join(struct.pack('HBBI', *i) for i in insns))",
  "prog = ctypes.create_string_buffer(struct.pack('HxxxxxxP', len(insns), ctypes.addressof(code)))",
  'assert libc.prctl(38, 1, 0, 0, 0) == 0',
  'assert libc.prctl(22, 2, ctypes.c_void_p(ctypes.addressof(prog)), 0, 0) == 0',
  'os.execv(sys.argv[1], sys.argv[1:])',
].join('\n')];
const URING_REFUSED = /\[Errno 1\] io_uring_setup was refused with EPERM: a seccomp filter .*blocks io_uring$/;

describe('iomux: a failure the user caused is one line, with the errno name, status 1', () => {
  test('echo-server --backend kqueue without libkqueue', async () => {
    const r = await iomux(['echo-server', '--port', '0', '--backend', 'kqueue'], { env: NO_LIBKQUEUE });
    assertOneLine(r, 'echo-server', /^iomux echo-server: cannot start the kqueue backend: \[Errno \d+\] /);
    assert.match(r.stderr.trimEnd(), KQUEUE_MISSING);
  });

  test('echo-server --backend kqueue --workers 2 without libkqueue: one line, not one per worker', async () => {
    for (const balance of ['kernel', 'handoff']) {
      const r = await iomux(['echo-server', '--port', '0', '--backend', 'kqueue', '--workers', '2', '--balance', balance], { env: NO_LIBKQUEUE });
      assertOneLine(r, 'echo-server', /^iomux echo-server: worker \d cannot start: \[Errno \d+\] /);
      assert.match(r.stderr.trimEnd(), KQUEUE_MISSING);
    }
  });

  test('demo --backend kqueue without libkqueue: the server\'s reason, on one line of the demo\'s', async () => {
    const r = await iomux(['demo', '--backend', 'kqueue', '--delay', '0'], { env: NO_LIBKQUEUE });
    assertOneLine(r, 'demo', /^iomux demo: the echo server did not start: cannot start the kqueue backend: \[Errno \d+\] /);
    assert.match(r.stderr.trimEnd(), KQUEUE_MISSING);
  });

  test('echo-server --backend uring where seccomp refuses io_uring (with and without workers)', async () => {
    const r = await iomux(['echo-server', '--port', '0', '--backend', 'uring'], { prefix: NO_URING_PREFIX });
    assertOneLine(r, 'echo-server', /^iomux echo-server: cannot start the uring backend: /);
    assert.match(r.stderr.trimEnd(), URING_REFUSED);
    const w = await iomux(['echo-server', '--port', '0', '--backend', 'uring', '--workers', '2'], { prefix: NO_URING_PREFIX });
    assertOneLine(w, 'echo-server', /^iomux echo-server: worker \d cannot start: /);
    assert.match(w.stderr.trimEnd(), URING_REFUSED);
  });

  test('echo-server --host that does not resolve (with and without workers)', async () => {
    for (const extra of [[], ['--workers', '2']]) {
      const r = await iomux(['echo-server', '--host', UNRESOLVABLE, '--port', '0', ...extra]);
      assertOneLine(r, 'echo-server', /^iomux echo-server: cannot listen on nonexistent\.invalid port 0: \[Errno -?\d+\] .+ \(EAI_[A-Z]+\)$/);
    }
  });

  test('echo-bench --host that does not resolve', async () => {
    const r = await iomux(['echo-bench', '--host', UNRESOLVABLE, '--duration', '0.1', '--warmup', '0']);
    assertOneLine(r, 'echo-bench', /^iomux echo-bench: cannot resolve nonexistent\.invalid: .*\b(ENOTFOUND|EAI_AGAIN|ESERVFAIL)\b/);
    assert.equal(r.stdout, '', 'no summary of a run that never started');
  });

  test('echo-client and slow-client --host that does not resolve', async () => {
    for (const command of ['echo-client', 'slow-client']) {
      const r = await iomux([command, '--host', UNRESOLVABLE]);
      assertOneLine(r, command, new RegExp(`^iomux ${command}: cannot connect to nonexistent\\.invalid port 10000: \\[Errno -?\\d+\\] .+ \\(EAI_[A-Z]+\\)$`));
    }
  });

  test('echo-server on a port in use (one thread, and --workers with each balance)', async () => {
    await withPortInUse(async (port) => {
      for (const extra of [[], ['--workers', '2', '--balance', 'kernel'], ['--workers', '2', '--balance', 'handoff']]) {
        const r = await iomux(['echo-server', '--port', String(port), ...extra]);
        assertOneLine(r, 'echo-server', new RegExp(`^iomux echo-server: cannot listen on 127\\.0\\.0\\.1 port ${port}: \\[Errno \\d+\\] Address already in use \\(EADDRINUSE\\)$`));
      }
    });
  });

  test('echo-server on a privileged port as an unprivileged user: permission denied', async () => {
    // The kernel refuses ports below ip_unprivileged_port_start to a process without CAP_NET_BIND_SERVICE;
    // as root the server is run as nobody (setpriv drops the capabilities with the ids).
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    assert.ok(start > 0, 'net.ipv4.ip_unprivileged_port_start is 0 here: no port is privileged, so nothing can be refused');
    const prefix = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] : [];
    for (const extra of [[], ['--workers', '2']]) {
      const r = await iomux(['echo-server', '--port', String(start - 1), ...extra], { prefix });
      assertOneLine(r, 'echo-server', new RegExp(`^iomux echo-server: cannot listen on 127\\.0\\.0\\.1 port ${start - 1}: \\[Errno \\d+\\] Permission denied \\(EACCES\\)$`));
    }
  });

  test('echo-bench with nothing listening: one line for all the refused connections, latency "not measured"', async () => {
    const port = await freePort();
    const r = await iomux(['echo-bench', '--port', String(port), '--connections', '50', '--duration', '0.1', '--warmup', '0']);
    assertOneLine(r, 'echo-bench', new RegExp(`^iomux echo-bench: cannot connect to 127\\.0\\.0\\.1 port ${port}: \\[Errno \\d+\\] Connection refused \\(ECONNREFUSED\\), 50 of 50 connections$`));
    // The summary on stdout: the refusals once, with their count; no latency figures made of nothing.
    const problems = r.stdout.split('\n').filter((l) => l.startsWith('    - '));
    assert.deepEqual(problems.filter((l) => /Connection refused/.test(l)), ['    - 50 connections: connect: [Errno 111] Connection refused (ECONNREFUSED)'], r.stdout);
    assert.match(r.stdout, /\n {2}latency µs {3}not measured \(no message came back\)\n/, r.stdout);
    assert.doesNotMatch(r.stdout, /p50 0\.00/);
    const json = await iomux(['echo-bench', '--port', String(port), '--connections', '3', '--duration', '0.1', '--warmup', '0', '--json']);
    assertOneLine(json, 'echo-bench', /Connection refused \(ECONNREFUSED\), 3 of 3 connections$/);
    assert.deepEqual((JSON.parse(json.stdout) as { problems: string[] }).problems.filter((p) => /refused/.test(p)),
      ['3 connections: connect: [Errno 111] Connection refused (ECONNREFUSED)']);
  });
});

describe('iomux: help and the --workers log', () => {
  test('iomux --help names --version (and -V)', async () => {
    const r = await iomux(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /\niomux --version \(or -V\) prints iomux's version; iomux --help \(or -h\) shows this help\.\n$/);
    const version = await iomux(['-V']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  test('--workers 2: the workers\' lines come after "starting up", and no line is a bare "worker N: "', async () => {
    const server = await ServerProcess.start(['--workers', '2']);
    try {
      await server.waitForCount(/^worker \d: waiting for the next event$/m, 2);
      const lines = server.lines();
      assert.match(lines[0]!, /^starting up on 127\.0\.0\.1 port \d+ /, server.log);
      assert.deepEqual(lines.filter((l) => /^worker \d+: *$/.test(l)), [], server.log);
    } finally {
      await server.stop();
    }
  });
});
