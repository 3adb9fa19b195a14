/**
 * Selectors driven by Node's event loop (iomux/loop): attach/detach/ref/unref, selectAsync and events() on
 * every selector class, over real pipes, TCP sockets, an HTTP server, child processes and worker threads.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  DefaultSelector, EpollSelector, EVENT_READ, EVENT_WRITE, KqueueSelector, PollSelector, SelectSelector, type BaseSelector,
  type SelectorKey,
} from 'iomux/selectors';
import { loopStats } from 'iomux/loop';
import { AF_UNIX, createServer, SOCK_STREAM, Socket, socketpair } from 'iomux/socket';
import { BlockingIOError, OSError, RuntimeError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { distUrl, esmWorkerUrl, runModule } from './support/children.js';
import { drain, expectNoFdLeaks, fdCount, Fds, openFdNumbers, tempDir } from './support/fds.js';
import './support/kqueue.js';
import { LoopSentinel } from './support/loop-sentinel.js';
import { nextTurn, secondsSince, sleep, until } from './support/timing.js';

type SelectorClass = new <T = unknown>() => BaseSelector<T>;
const CLASSES: Array<[string, SelectorClass]> = [
  ['EpollSelector', EpollSelector as SelectorClass],
  ['KqueueSelector', KqueueSelector as SelectorClass],
  ['PollSelector', PollSelector as SelectorClass],
  ['SelectSelector', SelectSelector as SelectorClass],
];

/** Fds, selectors and sockets a test opens, released when it ends whatever happened (selectors first). */
class Resources extends Fds {
  /** A non-blocking pipe (drain() reads until EAGAIN). */
  override pipe(): [number, number] {
    const [r, w] = super.pipe();
    os.setBlocking(r, false);
    os.setBlocking(w, false);
    return [r, w];
  }
  selector<T>(Cls: SelectorClass): BaseSelector<T> {
    return this.own(new Cls<T>());
  }

  #sentinel: LoopSentinel | undefined;

  /** The sentinel of `polled()`, made now if not yet (see LoopSentinel: before closing a registered fd). */
  sentinel(): LoopSentinel {
    return (this.#sentinel ??= new LoopSentinel(this));
  }

  /** Resolves once the loop has polled again and dispatched all that was ready ("nothing else happened"). */
  polled(): Promise<void> {
    return this.sentinel().polled();
  }
}

/**
 * An echo server on iomux sockets, served by an attached selector in the seeds' callback style: each
 * registration's data is the function to call. Partial sends are queued and WRITE interest is asked for
 * only while something is queued.
 */
function startEchoServer(sel: BaseSelector<(fileobj: unknown, events: number) => void>, res?: Resources): { port: number; connections: () => number; close(): void } {
  const listener = createServer(['127.0.0.1', 0], { backlog: 256 });
  res?.own(listener);
  listener.setblocking(false);
  const open = new Set<Socket>();
  let accepted = 0;
  const buffer = Buffer.allocUnsafe(65536);
  const serve = (conn: Socket): ((fileobj: unknown, events: number) => void) => {
    let queued: Buffer[] = [];
    const finish = (): void => {
      sel.unregister(conn);
      open.delete(conn);
      conn.close();
    };
    const flush = (): void => {
      while (queued.length !== 0) {
        const head = queued[0]!;
        const sent = conn.trySend(head);
        if (sent < 0) break;
        if (sent === head.length) queued.shift();
        else queued[0] = head.subarray(sent);
      }
    };
    return (_fileobj, events) => {
      if (events & EVENT_READ) {
        let n: number;
        try {
          n = conn.tryRecvInto(buffer);
        } catch (err) {
          if (err instanceof OSError) return finish();
          throw err;
        }
        if (n === 0) return finish();
        if (n > 0) queued.push(Buffer.from(buffer.subarray(0, n)));
      }
      try {
        flush();
      } catch (err) {
        if (err instanceof OSError) return finish();
        throw err;
      }
      sel.modify(conn, queued.length === 0 ? EVENT_READ : EVENT_READ | EVENT_WRITE, sel.getKey(conn).data);
      if (queued.length === 0) queued = [];
    };
  };
  sel.register(listener, EVENT_READ, () => {
    for (;;) {
      let conn: Socket;
      try {
        [conn] = listener.accept();
      } catch (err) {
        if (err instanceof BlockingIOError) return;
        throw err;
      }
      conn.setblocking(false);
      open.add(conn);
      accepted++;
      sel.register(conn, EVENT_READ, serve(conn));
    }
  });
  const [, port] = listener.getsockname() as [string, number];
  return {
    port,
    connections: () => accepted,
    close(): void {
      const registered = sel.getMap() !== null;
      for (const conn of open) {
        if (registered) sel.unregister(conn);
        conn.close();
      }
      open.clear();
      if (registered && !listener.closed) sel.unregister(listener);
      listener.close();
    },
  };
}

/** One Node client: sends `count` messages one after the other, each after the previous echo came back. */
async function pingPong(port: number, id: number, count: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  try {
    let received = '';
    for (let i = 0; i < count; i++) {
      const message = `client ${id} message ${i};`;
      received = '';
      socket.write(message);
      while (received.length < message.length) {
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        received += chunk.toString();
      }
      assert.equal(received, message);
    }
  } finally {
    socket.end();
    await once(socket, 'close');
  }
}

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

for (const [name, Cls] of CLASSES) {
  describe(`${name}: attach`, () => {
    test('dispatches to key.data(fileobj, events) without a handler, while timers keep firing', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<(fileobj: unknown, events: number) => void>(Cls);
      const [r, w] = res.pipe();
      let ticks = 0;
      const interval = setInterval(() => ticks++, 5);
      t.after(() => clearInterval(interval));
      const got: string[] = [];
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      sel.register(r, EVENT_READ, (fileobj, events) => {
        assert.equal(fileobj, r);
        assert.equal(events, EVENT_READ);
        got.push(drain(r));
        if (got.length === 4) done();
      });
      assert.equal(sel.attach(), sel);
      assert.equal(sel.attached, true);
      const writer = setInterval(() => os.write(w, `m${got.length}`), 30);
      t.after(() => clearInterval(writer));
      await finished;
      clearInterval(writer);
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3']);
      // The 5 ms ticker is due before every 30 ms write, so a loop that keeps running timers ticks at least once
      // per delivered write (a stricter count would measure the machine's load, not the loop).
      assert.ok(ticks >= got.length, `only ${ticks} timer ticks for ${got.length} writes`);
      sel.detach();
      assert.equal(sel.attached, false);
      os.write(w, 'after detach');
      await res.polled();
      assert.equal(got.length, 4);
      sel.attach();
      await until(() => got.length === 5, 'the write made while detached');
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'after detach']);
    });

    test('a handler gets (key, events); attach() again replaces it', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<string>(Cls);
      const [r, w] = res.pipe();
      const key = sel.register(r, EVENT_READ, 'the data');
      const seen: Array<[SelectorKey<string>, number, string]> = [];
      sel.attach((k, events) => {
        seen.push([k, events, 'first']);
        drain(r);
      });
      os.write(w, 'x');
      await until(() => seen.length === 1, 'the first handler');
      sel.attach((k, events) => {
        seen.push([k, events, 'second']);
        drain(r);
      });
      os.write(w, 'y');
      await until(() => seen.length === 2, 'the second handler');
      assert.deepEqual(seen, [[key, EVENT_READ, 'first'], [key, EVENT_READ, 'second']]);
    });

    test('an fd unregistered or modified during a batch gets no stale event', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<string>(Cls);
      const [r1, w1] = res.pipe();
      const [r2, w2] = res.pipe();
      const [r3, w3] = res.pipe();
      sel.register(r1, EVENT_READ, 'one');
      sel.register(r2, EVENT_READ, 'two');
      sel.register(r3, EVENT_READ, 'three');
      for (const w of [w1, w2, w3]) os.write(w, 'x');
      const calls: string[] = [];
      // Whoever comes first unregisters one of the others and moves the last one to WRITE (a pipe's read
      // end is never writable): neither may be called with the READ readiness of this batch.
      sel.attach((key) => {
        calls.push(key.data);
        drain(key.fd);
        if (calls.length === 1) {
          const others = [r1, r2, r3].filter((fd) => fd !== key.fd);
          sel.unregister(others[0]!);
          sel.modify(others[1]!, EVENT_WRITE, 'moved');
        }
      });
      await until(() => calls.length >= 1, 'a handler');
      await res.polled();
      assert.equal(calls.length, 1, `called for: ${calls.join(', ')}`);
    });

    test('an fd number unregistered, closed and registered again during a batch: the new registration gets nothing of that batch', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<string>(Cls);
      const ends: Socket[] = [];
      for (const name of ['first', 'second']) {
        const [mine, peer] = socketpair();
        res.own(mine);
        res.own(peer);
        mine.setblocking(false);
        peer.sendall('x');
        sel.register(mine, EVENT_READ, name);
        ends.push(mine);
      }
      const [fresh, freshPeer] = socketpair();
      res.own(fresh);
      res.own(freshPeer);
      fresh.setblocking(false);
      let reused = -1;
      const calls: string[] = [];
      // Whichever comes first replaces the other: unregister, close, and register a new socket that gets the
      // same fd number. The new socket has nothing to read, so any call for it is the old registration's
      // leftover entry of this batch.
      sel.attach((key, events) => {
        calls.push(`${key.data} ${events}`);
        drain(key.fd);
        if (calls.length !== 1) return;
        const victim = ends.find((end) => end !== key.fileobj)!;
        reused = victim.fileno();
        sel.unregister(victim);
        victim.close();
        os.dup2(fresh.fileno(), reused); // the number is now a new socket (fresh's, peer freshPeer)
        const replacement = res.own(new Socket(AF_UNIX, SOCK_STREAM, 0, reused));
        assert.equal(replacement.fileno(), reused);
        sel.register(replacement, EVENT_READ, 'replacement');
      });
      await until(() => calls.length >= 1, 'a handler');
      await res.polled();
      assert.ok(reused >= 0);
      assert.equal(calls.length, 1, `called for: ${calls.join(', ')}`);
      // The new registration itself is live: its own readiness reaches it.
      freshPeer.sendall('y');
      await until(() => calls.length === 2, 'the new registration');
      assert.deepEqual(calls.slice(1), [`replacement ${EVENT_READ}`]);
    });

    test('an fd whose data is modified during a batch still gets its event, with its new key', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<string>(Cls);
      const [r1, w1] = res.pipe();
      const [r2, w2] = res.pipe();
      sel.register(r1, EVENT_READ, 'one');
      sel.register(r2, EVENT_READ, 'two');
      os.write(w1, 'x');
      os.write(w2, 'x');
      const calls: Array<[SelectorKey<string>, number]> = [];
      sel.attach((key, events) => {
        calls.push([key, events]);
        drain(key.fd);
        if (calls.length === 1) sel.modify(key.fd === r1 ? r2 : r1, EVENT_READ, 'renamed');
      });
      await until(() => calls.length >= 2, 'both handlers');
      await res.polled();
      assert.equal(calls.length, 2);
      const [key, events] = calls[1]!;
      assert.equal(key.data, 'renamed');
      assert.equal(events, EVENT_READ);
      assert.equal(sel.getKey(key.fd), key);
    });

    test('closing the selector from a handler stops the batch; closing from outside while attached is safe', async (t) => {
      const res = new Resources(t);
      const [r1, w1] = res.pipe();
      const [r2, w2] = res.pipe();
      os.write(w1, 'x');
      os.write(w2, 'x');
      const inside = new Cls<null>();
      inside.register(r1, EVENT_READ, null);
      inside.register(r2, EVENT_READ, null);
      let calls = 0;
      inside.attach(() => {
        calls++;
        inside.close();
      });
      await until(() => calls >= 1, 'the handler');
      await res.polled();
      assert.equal(calls, 1);
      assert.equal(inside.attached, false);
      assert.equal(inside.getMap(), null);

      const outside = new Cls<null>();
      outside.register(r1, EVENT_READ, null);
      let outsideCalls = 0;
      outside.attach(() => outsideCalls++);
      outside.close(); // before the loop ever polled
      await res.polled();
      assert.equal(outsideCalls, 0);
      res.sentinel().close();
      assert.equal(loopStats().openHandles, 0);
    });

    test('attach: argument and state checks', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<unknown>(Cls);
      const [r] = res.pipe();
      sel.register(r, EVENT_READ, 'not a function');
      assert.throws(() => sel.attach(), { name: 'TypeError', message: /no handler.*fd \d+ is not a function/ });
      assert.equal(sel.attached, false);
      assert.throws(() => sel.attach(42 as never), { name: 'TypeError', message: /handler must be a function/ });
      const waiting = sel.selectAsync(5);
      assert.throws(() => sel.attach(() => {}), RuntimeError);
      sel.close();
      await assert.rejects(waiting);
      assert.throws(() => sel.attach(() => {}), (e: unknown) => e instanceof ValueError || e instanceof RuntimeError);
      assert.equal(sel.detach(), sel); // harmless when closed
      assert.equal(sel.ref(), sel);
      assert.equal(sel.unref(), sel);
    });

    test('1000 attach/detach/close cycles leak no fd, no handle and no koffi callback', async (t) => {
      const res = new Resources(t);
      const [r, w] = res.pipe();
      os.write(w, 'ready');
      await nextTurn();
      await nextTurn();
      const fds = fdCount();
      const fdNumbers = openFdNumbers();
      const stats = loopStats();
      for (let i = 0; i < 1000; i++) {
        const sel = new Cls<null>();
        sel.register(r, EVENT_READ, null);
        sel.attach(() => {});
        sel.detach();
        sel.attach(() => {});
        if (i % 100 === 0) await nextTurn(); // some of them dispatch before closing
        sel.close();
      }
      await nextTurn();
      await nextTurn();
      if (Cls === KqueueSelector) {
        // libkqueue (kqueue on Linux) releases a closed kqueue's fds on its own thread, soon after the close
        // (earlier tests' too): wait until nothing is open that was not open before.
        await until(() => [...openFdNumbers()].every((fd) => fdNumbers.has(fd)), 'libkqueue released its fds');
      } else {
        assert.equal(fdCount(), fds);
      }
      assert.deepEqual(loopStats(), stats);
    });
  });

  describe(`${name}: selectAsync and events()`, () => {
    test('resolves on readiness, with what select() would return', async (t) => {
      const res = new Resources(t);
      const sel = res.selector<string>(Cls);
      const [r, w] = res.pipe();
      const key = sel.register(r, EVENT_READ, 'data');
      setTimeout(() => os.write(w, 'x'), 50);
      const t0 = performance.now();
      const ready = await sel.selectAsync();
      assert.ok(secondsSince(t0) >= 0.04, `resolved after ${secondsSince(t0)} s, before the write`);
      assert.deepEqual(ready, [[key, EVENT_READ]]);
      assert.deepEqual(await sel.selectAsync(), [[key, EVENT_READ]], 'already ready: resolves at once');
    });

    test('resolves on timeout with nothing ready; timeout 0 polls', async (t) => {
      const res = new Resources(t);
      const sel = res.selector(Cls);
      const [r] = res.pipe();
      sel.register(r, EVENT_READ);
      const t0 = performance.now();
      assert.deepEqual(await sel.selectAsync(0.15), []);
      const waited = secondsSince(t0);
      assert.ok(waited >= 0.15 && waited < 2, `waited ${waited} s for a 0.15 s timeout`);
      const t1 = performance.now();
      assert.deepEqual(await sel.selectAsync(0), []);
      assert.deepEqual(await sel.selectAsync(-1), []);
      assert.ok(secondsSince(t1) < 0.1);
    });

    test('rejects when the selector is closed while waiting, and after close', async (t) => {
      const res = new Resources(t);
      const sel = new Cls();
      const [r] = res.pipe();
      sel.register(r, EVENT_READ);
      const waiting = sel.selectAsync();
      setTimeout(() => sel.close(), 20);
      await assert.rejects(waiting, (e: unknown) => e instanceof ValueError || e instanceof RuntimeError);
      await assert.rejects(sel.selectAsync(0), (e: unknown) => e instanceof ValueError || e instanceof RuntimeError);
    });

    test('one waiter at a time; not while attached; bad timeouts rejected', async (t) => {
      const res = new Resources(t);
      const sel = res.selector(Cls);
      const [r, w] = res.pipe();
      sel.register(r, EVENT_READ);
      const first = sel.selectAsync(5);
      await assert.rejects(sel.selectAsync(5), { name: 'RuntimeError', message: /another selectAsync/ });
      os.write(w, 'x');
      assert.equal((await first).length, 1);
      drain(r);
      sel.attach(() => {});
      await assert.rejects(sel.selectAsync(1), { name: 'RuntimeError', message: /attached/ });
      sel.detach();
      await assert.rejects(sel.selectAsync('1' as never), TypeError);
      await assert.rejects(sel.selectAsync(Number.NaN), ValueError);
      await assert.rejects(sel.selectAsync(Number.POSITIVE_INFINITY), { name: 'OverflowError' });
    });

    test('events() yields batches and ends when the selector is closed', async (t) => {
      const res = new Resources(t);
      const sel = new Cls<string>();
      const [r, w] = res.pipe();
      sel.register(r, EVENT_READ, 'pipe');
      const writer = setInterval(() => os.write(w, 'x'), 10);
      t.after(() => clearInterval(writer));
      const batches: string[][] = [];
      for await (const ready of sel.events()) {
        batches.push(ready.map(([key]) => key.data));
        drain(r);
        if (batches.length === 3) setTimeout(() => sel.close(), 5);
      }
      clearInterval(writer);
      assert.ok(batches.length >= 3);
      assert.deepEqual(batches[0], ['pipe']);
      const timeouts: number[] = [];
      const other = res.selector(Cls);
      for await (const ready of other.events(0.01)) {
        timeouts.push(ready.length);
        if (timeouts.length === 3) break;
      }
      assert.deepEqual(timeouts, [0, 0, 0]);
    });
  });
}

describe('attached selectors next to the rest of Node', () => {
  for (const [name, Cls] of [['DefaultSelector', DefaultSelector as SelectorClass], ['PollSelector', PollSelector as SelectorClass]] as const) {
    test(`${name}: timers and an http server keep answering while an attached selector serves 100 echo connections`, async (t) => {
      const res = new Resources(t);
      const sel = res.selector<(fileobj: unknown, events: number) => void>(Cls);
      const server = startEchoServer(sel, res);
      t.after(() => server.close());
      sel.attach();

      const http = createHttpServer((_req, reply) => reply.end('ok'));
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      t.after(() => http.close());
      const httpPort = (http.address() as AddressInfo).port;
      let httpAnswers = 0;
      let polling = true;
      const pollHttp = async (): Promise<void> => {
        while (polling) {
          await new Promise<void>((resolve, reject) => {
            httpGet({ host: '127.0.0.1', port: httpPort, path: '/', agent: false }, (reply) => {
              reply.resume();
              reply.on('end', () => {
                if (reply.statusCode === 200) httpAnswers++;
                resolve();
              });
            }).on('error', reject);
          });
          await sleep(5);
        }
      };
      let ticks = 0;
      const interval = setInterval(() => ticks++, 5);
      t.after(() => clearInterval(interval));

      const http$ = pollHttp();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 100 }, (_, id) => pingPong(server.port, id, 50)));
      const elapsed = secondsSince(t0);
      polling = false;
      await http$;
      clearInterval(interval);
      t.diagnostic(`100 connections x 50 echoes in ${elapsed.toFixed(2)} s; http answered ${httpAnswers} times, the 5 ms timer ran ${ticks} times`);
      assert.equal(server.connections(), 100);
      assert.ok(httpAnswers >= 3, `the http server answered ${httpAnswers} times in ${elapsed} s`);
      assert.ok(ticks >= 3, `the 5 ms timer ran ${ticks} times in ${elapsed} s`);
      assert.ok(sel.attached);
    });
  }

  test('a worker thread runs its own attached echo server; terminating workers with attached selectors is safe', async () => {
    const source = `
      import { parentPort, workerData } from 'node:worker_threads';
      import { DefaultSelector, EVENT_READ } from ${JSON.stringify(distUrl('selectors/index.js'))};
      import { createServer } from ${JSON.stringify(distUrl('socket/index.js'))};
      const sel = new DefaultSelector();
      const listener = createServer(['127.0.0.1', 0]);
      listener.setblocking(false);
      const buffer = Buffer.alloc(4096);
      sel.register(listener, EVENT_READ, () => {
        const [conn] = listener.accept();
        conn.setblocking(false);
        sel.register(conn, EVENT_READ, () => {
          const n = conn.tryRecvInto(buffer);
          if (n === 0) { sel.unregister(conn); conn.close(); return; }
          if (n > 0) conn.sendall(buffer.subarray(0, n));
        });
      });
      sel.attach();
      parentPort.postMessage(listener.getsockname()[1]);
      parentPort.on('message', (m) => {
        if (m === 'stop') { sel.close(); listener.close(); parentPort.close(); }
      });
    `;
    const url = esmWorkerUrl(source);
    const worker = new Worker(url);
    const [port] = (await once(worker, 'message')) as [number];
    await Promise.all(Array.from({ length: 10 }, (_, id) => pingPong(port, id, 10)));
    worker.postMessage('stop');
    const [code] = (await once(worker, 'exit')) as [number];
    assert.equal(code, 0);

    const result = await runModule(`
      import { Worker } from 'node:worker_threads';
      import { connect } from 'node:net';
      const url = new URL(${JSON.stringify(url.href)});
      for (let i = 0; i < 10; i++) {
        const worker = new Worker(url);
        const [port] = await new Promise((resolve) => worker.once('message', (m) => resolve([m])));
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write('hello');
        await new Promise((resolve) => socket.once('data', resolve));
        await worker.terminate(); // the selector is attached, a connection open
        socket.destroy();
      }
      console.log('survived');
    `, 60000);
    assert.equal(result.signal, null, result.stderr.slice(0, 2000));
    assert.equal(result.code, 0, result.stderr.slice(0, 2000));
    assert.match(result.stdout, /survived/);
  });

  test('a PollSelector dispatches a registered regular file (always ready, as poll says)', async (t) => {
    const res = new Resources(t);
    const dir = tempDir(t, 'iomux-loop-');
    const file = openSync(join(dir, 'regular'), 'w+');
    t.after(() => os.close(file));
    const sel = res.selector<null>(PollSelector as SelectorClass);
    sel.register(file, EVENT_READ | EVENT_WRITE, null);
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      sel.attach((_key, events) => {
        seen.push(events);
        if (seen.length === 3) {
          sel.unregister(file);
          resolve();
        }
      });
    });
    assert.deepEqual(seen, [3, 3, 3]);
  });
});

describe('exceptions and process lifetime (child processes)', () => {
  test('a throwing handler is an uncaught exception; the selector detaches and the process does not spin', async () => {
    const result = await runModule(`
      import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
      import * as os from 'iomux/os';
      const [r, w] = os.pipe();
      os.write(w, 'never read: stays readable');
      const errors = [];
      process.on('uncaughtException', (e) => errors.push(e.message));
      const sel = new DefaultSelector();
      sel.register(r, EVENT_READ, null);
      let calls = 0;
      sel.attach(() => { calls++; throw new Error('handler boom ' + calls); });
      const start = process.cpuUsage();
      let ticks = 0;
      const iv = setInterval(() => ticks++, 10);
      setTimeout(() => {
        const cpu = process.cpuUsage(start);
        clearInterval(iv);
        const attached = sel.attached;
        // Data that is not a function, registered after attach() without a handler: also reported.
        const [r2, w2] = os.pipe();
        os.write(w2, 'x');
        sel.unregister(r);
        sel.attach();
        sel.register(r2, EVENT_READ, 'not callable');
        setTimeout(() => {
          console.log(JSON.stringify({ errors, calls, attached, again: sel.attached, ticks, cpuMs: (cpu.user + cpu.system) / 1000 }));
          sel.close();
        }, 50);
      }, 1000);
    `);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { errors: string[]; calls: number; attached: boolean; again: boolean; ticks: number; cpuMs: number };
    assert.equal(report.errors.length, 2, report.errors.join(' | '));
    assert.equal(report.errors[0], 'handler boom 1');
    assert.match(report.errors[1]!, /no handler.*not a function/);
    assert.equal(report.calls, 1);
    assert.equal(report.attached, false);
    assert.equal(report.again, false);
    assert.ok(report.ticks >= 20, `timers stalled: ${report.ticks}`);
    assert.ok(report.cpuMs < 400, `the child used ${report.cpuMs} ms of CPU in 1 s`);
  });

  test('without a handler for it, the exception ends the process with the error', async () => {
    const result = await runModule(`
      import { DefaultSelector, EVENT_READ } from 'iomux/selectors';
      import * as os from 'iomux/os';
      const [r, w] = os.pipe();
      os.write(w, 'x');
      const sel = new DefaultSelector();
      sel.register(r, EVENT_READ, () => { throw new Error('callback boom'); });
      sel.attach();
      setTimeout(() => { console.log('still alive'); process.exit(0); }, 5000);
    `);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Error: callback boom/);
    assert.doesNotMatch(result.stdout, /still alive/);
  });

  for (const [label, setup, alive] of [
    ['with a registration, it keeps the process alive', 'sel.register(r, EVENT_READ, null); sel.attach(() => {});', true],
    ['with no registration, it does not', 'sel.attach(() => {});', false],
    ['once everything is unregistered, it does not', 'sel.register(r, EVENT_READ, null); sel.attach(() => {}); setTimeout(() => sel.unregister(r), 50);', false],
    ['unref() lets the process exit', 'sel.register(r, EVENT_READ, null); sel.attach(() => {}); sel.unref();', false],
    ['a pending selectAsync() with a registration keeps it alive', 'sel.register(r, EVENT_READ, null); sel.selectAsync();', true],
    ['an unref()ed pending selectAsync() does not', 'sel.register(r, EVENT_READ, null); sel.unref(); sel.selectAsync(10);', false],
  ] as const) {
    test(`attached selector lifetime: ${label}`, async () => {
      const result = await runModule(`
        import { PollSelector, DefaultSelector, EVENT_READ } from 'iomux/selectors';
        import * as os from 'iomux/os';
        const [r, w] = os.pipe();
        for (const Cls of [DefaultSelector, PollSelector]) {
          const sel = new Cls();
          ${setup}
        }
        setTimeout(() => { console.log('still running'); process.exit(0); }, 600).unref();
      `);
      assert.equal(result.code, 0, result.stderr);
      if (alive) assert.match(result.stdout, /still running/);
      else assert.doesNotMatch(result.stdout, /still running/);
    });
  }
});
