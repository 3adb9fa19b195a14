/**
 * NODE_DEBUG=iomux (util.debuglog): what iomux/loop does on the event loop, one `IOMUX <pid>: …` line each —
 * and nothing at all without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PACKAGE_ROOT } from './support/children.js';

const SCRIPT = `
  import { watch, EVENT_READ, sockRecv } from 'iomux/loop';
  import { DefaultSelector } from 'iomux/selectors';
  import { socketpair } from 'iomux/socket';
  import * as os from 'iomux/os';
  const [r, w] = os.pipe();
  await new Promise((resolve) => {
    const watcher = watch(r, EVENT_READ, () => { os.read(r, 10); watcher.close(); resolve(); });
    os.write(w, 'x');
  });
  const sel = new DefaultSelector();
  sel.register(r, EVENT_READ, () => {});
  sel.attach();
  sel.detach();
  sel.close();
  const [a, b] = socketpair();
  a.setblocking(false);
  const pending = sockRecv(a, 10);
  b.send(Buffer.from('hi'));
  await pending;
  const aborted = sockRecv(a, 10, { signal: AbortSignal.abort() }).catch(() => {});
  await aborted;
  console.log('fds', r, a.fileno());
  for (const fd of [r, w]) os.close(fd);
  a.close(); b.close();
`;

async function run(env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; pid: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: PACKAGE_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, stderr);
  return { stdout, stderr, pid: child.pid! };
}

test('NODE_DEBUG=iomux traces a watch, a selector\'s attach/detach and socket operations', async () => {
  const { stderr, pid } = await run({ NODE_DEBUG: 'iomux' });
  const lines = stderr.trim().split('\n');
  for (const line of lines) assert.match(line, new RegExp(`^IOMUX ${pid}: `), line);
  const text = lines.map((l) => l.replace(/^IOMUX \d+: /, '')).join('\n');
  assert.match(text, /^watch fd (\d+): armed for read\nwatch fd \1: fired, read ready\nwatch fd \1: closed$/m);
  assert.match(text, /^selector: attached\nselector: detached$/m);
  assert.match(text, /^sockRecv fd (\d+): started\n {2}fd \1 would block: waits until read\n(.*\n)*sockRecv fd \1: done$/m);
  assert.match(text, /^sockRecv fd \d+: aborted$/m);
});

test('without NODE_DEBUG (or naming another module) nothing is written', async () => {
  for (const NODE_DEBUG of [undefined, 'http']) {
    const { stderr, stdout } = await run(NODE_DEBUG === undefined ? { NODE_DEBUG: '' } : { NODE_DEBUG });
    assert.match(stdout, /^fds \d+ \d+\n$/);
    assert.doesNotMatch(stderr, /IOMUX/);
  }
});
