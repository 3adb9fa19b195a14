/**
 * No sequence of watch()/close calls may abort the process or steal a Node fd (issue 9 items 2–4). Each
 * repro runs in a child process, so that a libuv abort() shows as a signal instead of killing the runner.
 */
import { describe, test } from 'node:test';
import { assertSurvived, runModule, type ChildResult } from './support/children.js';

const PRELUDE = `
import { watch, EVENT_READ, EVENT_WRITE, loopStats } from 'iomux/loop';
import * as os from 'iomux/os';
import { socketpair, Socket } from 'iomux/socket';
import { DefaultSelector, EpollSelector, PollSelector, SelectSelector } from 'iomux/selectors';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
const nonBlockingPipe = () => { const [r, w] = os.pipe(); os.setBlocking(r, false); os.setBlocking(w, false); return [r, w]; };
`;

function run(body: string): Promise<ChildResult> {
  return runModule(`${PRELUDE}\n${body}`, 20_000);
}

describe('closing a watched fd never aborts (issue 9 item 2)', () => {
  for (const how of ['os.close', 'fs.closeSync'] as const) {
    test(`watch(fd) then ${how}(fd) in the same tick`, async () => {
      assertSurvived(await run(`
        const [r, w] = nonBlockingPipe();
        os.write(w, Buffer.from('x'));
        let calls = 0;
        const watcher = watch(r, EVENT_READ, () => calls++);
        ${how === 'os.close' ? 'os.close(r)' : 'fs.closeSync(r)'};
        await turn(); await turn(); await turn();
        if (calls !== 0) throw new Error('callback called for a closed fd');
        try { watcher.modify(EVENT_READ | EVENT_WRITE); throw new Error('modify accepted'); }
        catch (e) { if (e.code !== 'EBADF') throw e; }
        watcher.close();
        os.close(w);
        console.log('ok');
      `));
    });
  }

  test('modify() then Socket.close() in the same tick, on a socketpair end', async () => {
    assertSurvived(await run(`
      const [a, b] = socketpair();
      a.setblocking(false);
      const watcher = watch(a, EVENT_READ, () => {});
      await turn();
      watcher.modify(EVENT_READ | EVENT_WRITE);
      a.close();
      await turn(); await turn();
      watcher.close();
      b.close();
      console.log('ok');
    `));
  });

  test('the peer of a watched socketpair end closes, then the end itself, within one callback', async () => {
    assertSurvived(await run(`
      const [a, b] = socketpair();
      a.setblocking(false);
      let done;
      const finished = new Promise((resolve) => (done = resolve));
      const watcher = watch(a, EVENT_READ | EVENT_WRITE, () => {
        b.close();
        watcher.modify(EVENT_READ);
        a.close();
        done();
      });
      await finished;
      await turn(); await turn();
      watcher.close();
      console.log('ok');
    `));
  });

  test("closing an attached selector's epoll fd with os.close, then detaching and closing the selector", async () => {
    assertSurvived(await run(`
      const sel = new EpollSelector();
      const [r, w] = nonBlockingPipe();
      sel.register(r, EVENT_READ, () => {});
      sel.attach();
      os.close(sel.fileno());
      os.write(w, Buffer.from('x'));
      await turn(); await turn();
      sel.detach();
      try { sel.attach(); } catch {}
      await turn();
      try { sel.close(); } catch {}
      os.close(r); os.close(w);
      console.log('ok');
    `));
  });
});

describe('a reused fd number never reaches libuv (issue 9 item 3)', () => {
  test('a paused watch, its fd closed and the number reused by a regular file: modify raises OSError', async () => {
    assertSurvived(await run(`
      const [r, w] = nonBlockingPipe();
      const watcher = watch(r, EVENT_READ, () => {});
      watcher.modify(0);
      await turn();
      fs.closeSync(r);
      const file = fs.openSync('/etc/hostname', 'r');
      if (file !== r) throw new Error('the number was not reused: ' + file + ' vs ' + r);
      try { watcher.modify(EVENT_READ); throw new Error('modify accepted a reused number'); }
      catch (e) { if (e.code !== 'EBADF' || !/closed while watched/.test(e.message)) throw e; }
      await turn(); await turn();
      watcher.close();
      fs.closeSync(file); os.close(w);
      console.log('ok');
    `));
  });

  test('an active watch whose number is reused by another pipe: modify raises, the new pipe is not watched', async () => {
    assertSurvived(await run(`
      const [r, w] = nonBlockingPipe();
      let calls = 0;
      const watcher = watch(r, EVENT_READ, () => calls++);
      await turn();
      fs.closeSync(r);
      const [r2, w2] = nonBlockingPipe();
      if (r2 !== r) throw new Error('the number was not reused');
      os.write(w2, Buffer.from('x'));
      try { watcher.modify(EVENT_READ | EVENT_WRITE); throw new Error('modify accepted a reused number'); }
      catch (e) { if (e.code !== 'EBADF') throw e; }
      await turn(); await turn();
      if (calls !== 0) throw new Error('the stale watch reported the new pipe');
      // The number is free for a new watch of the new pipe.
      let fresh = 0;
      const again = watch(r2, EVENT_READ, () => { fresh++; });
      while (fresh === 0) await turn();
      again.close(); watcher.close();
      os.close(r2); os.close(w2); os.close(w);
      console.log('ok');
    `));
  });
});

describe('a stale watch never steals a Node socket (issue 9 item 4)', () => {
  test('fd closed under a live watch, the number reused by net.connect: Node gets its events, also after the stale watcher closes', async () => {
    assertSurvived(await run(`
      const server = net.createServer((c) => c.on('data', (d) => c.write(d)));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const [r2, w2] = nonBlockingPipe();
      let stale = 0;
      const watcher = watch(r2, EVENT_READ | EVENT_WRITE, () => stale++);
      await turn();
      const number = r2;
      fs.closeSync(r2); // behind iomux's back: the watch is still open
      // Node's next socket must get exactly that number: fill any lower hole for the moment.
      const holders = [];
      for (;;) {
        const probe = os.dup(w2); // the lowest free number
        if (probe === number) { os.close(probe); break; }
        holders.push(probe);
        if (probe > number) throw new Error('the number was taken meanwhile');
      }
      const sock = net.connect(server.address().port, '127.0.0.1');
      const echo = (text) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo of ' + text)), 5000);
        sock.once('data', (d) => { clearTimeout(timer); resolve(d.toString()); });
        sock.write(text);
      });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('connect never fired')), 5000);
        sock.once('connect', () => { clearTimeout(timer); resolve(); });
      });
      for (const fd of holders) os.close(fd);
      os.close(w2);
      if (sock._handle.fd !== number) throw new Error('Node got fd ' + sock._handle.fd + ', not the stale number ' + number);
      if ((await echo('one')) !== 'one') throw new Error('bad echo');
      watcher.close();
      await turn();
      if ((await echo('two')) !== 'two') throw new Error('bad echo after the stale watcher closed');
      if (stale !== 0) throw new Error('the stale watch was called ' + stale + ' times');
      sock.destroy();
      server.close();
      console.log('ok');
    `));
  });
});
