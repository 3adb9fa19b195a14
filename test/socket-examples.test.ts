/**
 * The socket examples run as their own processes: fd passing between processes (the shipped example), sd_notify (this test plays
 * systemd's side of $NOTIFY_SOCKET, credentials included), a netlink link monitor watching a dummy interface
 * this test creates and removes with iproute2 (as root), and fds exchanged with a Python peer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sockRecvmsg } from 'iomux/loop';
import { AF_UNIX, CMSG_SPACE, SCM_CREDENTIALS, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_PASSCRED, Socket, unpackCredentials } from 'iomux/socket';
import { EXAMPLES, SHIPPED_EXAMPLES, runExample } from './support/children.js';
import { Fds, tempDir } from './support/fds.js';

test('fd-passing (shipped): every connection accepted by one process is served by the worker process', async () => {
  const out = await runExample('fd-passing', ['3'], SHIPPED_EXAMPLES);
  const acceptor = /acceptor (\d+): listening/.exec(out)?.[1];
  assert.ok(acceptor, out);
  for (let i = 0; i < 3; i++) {
    const m = new RegExp(`client ${i} got: worker (\\d+) \\(connection from port \\d+\\): hello ${i}`).exec(out);
    assert.ok(m, out);
    assert.notEqual(m[1], acceptor, 'served by another process');
  }
  assert.match(out, /worker exited with code 0/);
});

test('sd-notify: READY=1 arrives on $NOTIFY_SOCKET with the service\'s credentials; without it, nothing is sent', async (t) => {
  const fds = new Fds(t);
  const path = join(tempDir(t, 'iomux-notify-'), 'notify.sock');
  const manager = fds.own(new Socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  manager.bind(path);
  manager.setsockopt(SOL_SOCKET, SO_PASSCRED!, 1);
  const child = spawn(process.execPath, [`${EXAMPLES}sd-notify.js`], { env: { ...process.env, NOTIFY_SOCKET: path }, stdio: 'ignore' });
  const exited = once(child, 'exit');
  const messages: string[] = [];
  while (!messages.some((m) => m.includes('READY=1'))) {
    const [data, anc] = await sockRecvmsg(manager, 4096, CMSG_SPACE(12));
    messages.push(data.toString());
    const creds = anc.find(([level, type]) => level === SOL_SOCKET && type === SCM_CREDENTIALS);
    assert.ok(creds, 'SO_PASSCRED gives the sender\'s credentials');
    assert.equal(unpackCredentials(creds[2]).pid, child.pid);
  }
  assert.deepEqual(messages, ['STATUS=starting up', `READY=1\nSTATUS=serving\nMAINPID=${child.pid}`]);
  assert.deepEqual(await exited, [0, null]);
  const out = await runExample('sd-notify');
  assert.match(out, /NOTIFY_SOCKET is not set/);
});

test('netlink-monitor: a dummy (or veth) link created, set up and down, and deleted is reported (root, iproute2)', async (t) => {
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
  const name = 'iomuxtest0';
  t.after(() => {
    try {
      ip('link', 'del', name);
    } catch {
      // already gone
    }
  });
  const child = spawn(process.execPath, [`${EXAMPLES}netlink-monitor.js`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  t.after(() => {
    clearTimeout(timer);
    child.kill();
  });
  const seen: string[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('listening')) {
      try {
        ip('link', 'add', name, 'type', 'dummy');
      } catch {
        // A kernel without the dummy driver (this CI's): a veth pair does as well; deleting one end deletes both.
        ip('link', 'add', name, 'type', 'veth', 'peer', 'name', 'iomuxtest1');
      }
      ip('link', 'set', name, 'up');
      ip('link', 'set', name, 'down');
      ip('link', 'del', name);
      continue;
    }
    const m = new RegExp(`^link ${name} \\(index \\d+\\): (up|down|removed)$`).exec(line);
    if (m) seen.push(m[1]!);
    if (m?.[1] === 'removed') break;
  }
  assert.deepEqual(seen, ['down', 'up', 'down', 'removed']);
});

test('python-peer: fds and messages both ways with python3, awaited on the event loop', async () => {
  const out = await runExample('python-peer');
  assert.match(out, /result for a\.txt: 4 words, longest quick/);
  assert.match(out, /result for b\.txt: 6 words, longest descriptors/);
  assert.match(out, /python exited with code 0; the timer ticked meanwhile/);
});
