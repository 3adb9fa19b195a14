/**
 * iomux/loop's sockRecv with more than one reader of a socket: a reader woken for data another took waits again
 * in its place. Each repro runs in a fresh child process, so that a hang (a promise that never settles) shows
 * as a missing `ok` instead of stalling the runner.
 */
import { test } from 'node:test';
import { assertSurvived, runModule } from './support/children.js';

test('a reader woken for data another took never silently replaces a reader that came in between', async () => {
  assertSurvived(await runModule(`
    import { socketpair } from 'iomux/socket';
    import { sockRecv, watch, EVENT_READ } from 'iomux/loop';
    import * as os from 'iomux/os';
    const [a, b] = socketpair(); a.setblocking(false); b.setblocking(false);
    const [yr, yw] = os.pipe(); os.setBlocking(yr, false);
    const outcome = (p) => p.then((v) => 'resolved ' + v, (e) => 'rejected ' + e.constructor.name);
    const reader1 = outcome(sockRecv(b, 10));
    let reader2 = null;
    // In the same loop turn as reader1's wake-up, another callback — first in the batch, as the pipe became
    // ready first — takes the byte and starts reader2. (Were reader1 first, its continuation would run, and
    // take the byte, before the next callback: iomux runs each callback's microtasks right after it.)
    const y = watch(yr, EVENT_READ, () => {
      os.read(yr, 10);
      y.close();
      try { b.recv(10); } catch (e) { if (e.constructor.name !== 'BlockingIOError') throw e; }
      reader2 = outcome(sockRecv(b, 10));
    });
    await new Promise((r) => setImmediate(r));
    os.write(yw, Buffer.from('y'));
    a.send(Buffer.from('x'));
    while (reader2 === null) await new Promise((r) => setImmediate(r));
    a.send(Buffer.from('1'));
    a.send(Buffer.from('2'));
    const timer = setTimeout(() => { console.log('a reader never settled'); process.exit(3); }, 5000);
    const results = [await reader1, await reader2];
    clearTimeout(timer);
    if (!results.some((r) => r.startsWith('resolved'))) throw new Error('nobody got the data: ' + results);
    for (const r of results) if (!/^(resolved|rejected RuntimeError)/.test(r)) throw new Error('unexpected: ' + r);
    a.close(); b.close(); os.close(yr); os.close(yw);
    console.log('ok');
  `, 20_000));
});
