/**
 * `watch()` from iomux/loop over real pipes, child processes and worker threads: the fd is watched by
 * Node's own event loop, so timers keep firing; errors are reported instead of spinning; handles and
 * native callbacks are released.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EVENT_READ, EVENT_WRITE, loopStats, watch, type Watcher } from 'iomux/loop';
import { FileExistsError, OSError, PermissionError } from 'iomux/errors';
import * as os from 'iomux/os';
import { distUrl, esmWorkerUrl, runModule } from './support/children.js';
import { drain, expectNoFdLeaks, fdCount, Fds, tempDir } from './support/fds.js';
import { LoopSentinel } from './support/loop-sentinel.js';
import { socketPair } from './support/sockets.js';
import { nextTurn, until } from './support/timing.js';

/**
 * Fds and watchers a test opens, released when it ends whatever happened (watchers first). Its pipes are
 * non-blocking, since drain() reads until EAGAIN and watch() leaves an fd's mode alone.
 */
class Resources extends Fds {
  override pipe(): [number, number] {
    const [r, w] = super.pipe();
    os.setBlocking(r, false);
    os.setBlocking(w, false);
    return [r, w];
  }
  override duplex(): [number, number] {
    const [rw, w] = super.duplex();
    os.setBlocking(rw, false);
    return [rw, w];
  }
  /** A pipe left blocking, as os.pipe() makes it. */
  blockingPipe(): [number, number] {
    const [r, w] = os.pipe();
    return [this.add(r), this.add(w)];
  }
  watch(...args: Parameters<typeof watch>): Watcher {
    return this.own(watch(...args));
  }

  #sentinel: LoopSentinel | undefined;

  /** The sentinel of `polled()`, made now if not yet (see LoopSentinel: before closing a watched fd). */
  sentinel(): LoopSentinel {
    return (this.#sentinel ??= new LoopSentinel(this));
  }

  /** Resolves once the loop has polled again and dispatched all that was ready ("nothing else happened"). */
  polled(): Promise<void> {
    return this.sentinel().polled();
  }
}

/** Fills a non-blocking pipe until the kernel refuses more. */
function fill(fd: number): void {
  const block = Buffer.alloc(65536, 120);
  for (;;) {
    try {
      os.write(fd, block);
    } catch (err) {
      if (err instanceof OSError && err.code === 'EAGAIN') return;
      throw err;
    }
  }
}

expectNoFdLeaks({ openHandles: () => loopStats().openHandles });

describe('watch() on the event loop', () => {
  test('a watched pipe delivers data while setInterval timers keep firing', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    t.after(() => clearInterval(interval));
    const received: Array<{ text: string; ticksAtArrival: number }> = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    res.watch(r, EVENT_READ, (events) => {
      assert.equal(events, EVENT_READ);
      received.push({ text: drain(r), ticksAtArrival: ticks });
      if (received.length === 5) done();
    });
    const writer = setInterval(() => os.write(w, `m${received.length}`), 40);
    t.after(() => clearInterval(writer));
    await finished;
    clearInterval(writer);
    assert.deepEqual(received.map((x) => x.text), ['m0', 'm1', 'm2', 'm3', 'm4']);
    // Five messages 40 ms apart: the 5 ms interval fired many times in between (the thread never blocked).
    assert.ok(ticks >= 10, `only ${ticks} timer ticks while watching`);
    assert.ok(received[4]!.ticksAtArrival > received[0]!.ticksAtArrival, 'timers did not run between events');
  });

  test('nothing is reported while nothing is ready; a write wakes the callback once per readiness', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    const calls: number[] = [];
    res.watch(r, EVENT_READ, (events) => {
      calls.push(events);
      drain(r);
    });
    await res.polled();
    assert.deepEqual(calls, []);
    os.write(w, 'x');
    await until(() => calls.length === 1, 'the callback');
    await res.polled();
    assert.deepEqual(calls, [EVENT_READ]);
  });

  test('level-triggered: an fd left readable is reported again on the next loop iterations', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    os.write(w, 'stays');
    let calls = 0;
    const watcher = res.watch(r, EVENT_READ, () => {
      if (++calls === 3) watcher.close();
    });
    await until(() => calls === 3, 'three calls');
    await res.polled();
    assert.equal(calls, 3);
    assert.equal(drain(r), 'stays');
  });

  test('modify switches between READ, WRITE, both and paused (0)', async (t) => {
    const res = new Resources(t);
    const [duplex, writer] = res.duplex();
    const seen: number[] = [];
    const watcher = res.watch(duplex, EVENT_WRITE, (events) => {
      seen.push(events);
      watcher.modify(0); // one report per step: pause until the test asks again
    });
    await until(() => seen.length === 1, 'EVENT_WRITE');
    assert.deepEqual(seen, [EVENT_WRITE]);
    assert.equal(watcher.active, false);
    assert.equal(watcher.events, 0);

    os.write(writer, 'data');
    watcher.modify(EVENT_READ);
    assert.equal(watcher.active, true);
    await until(() => seen.length === 2, 'EVENT_READ');
    assert.deepEqual(seen, [EVENT_WRITE, EVENT_READ]);

    watcher.modify(EVENT_READ | EVENT_WRITE);
    await until(() => seen.length === 3, 'both events');
    assert.deepEqual(seen, [EVENT_WRITE, EVENT_READ, EVENT_READ | EVENT_WRITE]);

    drain(duplex);
    watcher.modify(EVENT_READ);
    await res.polled();
    assert.equal(seen.length, 3, 'reported READ with nothing to read');
  });

  test('modify with the same events on an active watch changes nothing', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    let calls = 0;
    const watcher = res.watch(r, EVENT_READ, () => {
      calls++;
      drain(r);
    });
    assert.equal(watcher.modify(EVENT_READ), watcher);
    os.write(w, 'x');
    await until(() => calls === 1, 'the callback');
    await res.polled();
    assert.equal(calls, 1);
  });

  test('close while armed: pending readiness is never delivered', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    os.write(w, 'ready before close');
    let calls = 0;
    const watcher = res.watch(r, EVENT_READ, () => calls++);
    watcher.close();
    assert.equal(watcher.closed, true);
    assert.equal(watcher.active, false);
    watcher.close(); // twice is fine
    await res.polled();
    assert.equal(calls, 0);
    assert.equal(drain(r), 'ready before close');
  });

  test('a callback may close its own watcher and another one ready in the same iteration', async (t) => {
    const res = new Resources(t);
    const [r1, w1] = res.pipe();
    const [r2, w2] = res.pipe();
    os.write(w1, 'a');
    os.write(w2, 'b');
    const calls: string[] = [];
    // Whichever runs first closes both: the other must not be called afterwards.
    const first = res.watch(r1, EVENT_READ, () => {
      calls.push('first');
      first.close();
      second.close();
    });
    const second = res.watch(r2, EVENT_READ, () => {
      calls.push('second');
      first.close();
      second.close();
    });
    await until(() => calls.length >= 1, 'a callback');
    await res.polled();
    assert.equal(calls.length, 1, `called: ${calls.join(', ')}`);
  });

  test('the fd closed while watched: no callback, no crash; modify refuses, close still works', async (t) => {
    const res = new Resources(t);
    const [r] = res.pipe();
    let calls = 0;
    const watcher = res.watch(r, EVENT_READ, () => calls++);
    await nextTurn();
    res.sentinel(); // before the close, so that the sentinel's pipe does not reuse r's number
    res.close(r);
    await res.polled();
    assert.equal(calls, 0);
    assert.throws(() => watcher.modify(EVENT_READ | EVENT_WRITE), (e: unknown) => {
      assert.ok(e instanceof OSError);
      assert.equal(e.code, 'EBADF');
      assert.match(e.message, /closed while watched/);
      return true;
    });
    watcher.close();
    assert.equal(watcher.closed, true);
    await res.polled();
    assert.equal(calls, 0);
  });

  test('an error condition (POLLERR) stops the watch and reports it once, with every watched event', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    os.setBlocking(w, false);
    fill(w); // not writable, so the only thing left to report is the error
    const calls: Array<[number, OSError | undefined]> = [];
    const watcher = res.watch(w, EVENT_WRITE, (events, error) => calls.push([events, error]));
    await res.polled();
    assert.equal(calls.length, 0);
    res.close(r); // the reader goes away: POLLERR on the write end
    await until(() => calls.length >= 1, 'the error report');
    await res.polled();
    assert.equal(calls.length, 1, 'the error was reported more than once (re-armed?)');
    const [events, error] = calls[0]!;
    assert.equal(events, EVENT_WRITE);
    assert.ok(error instanceof OSError);
    assert.equal(error.code, 'EBADF');
    assert.match(error.message, /POLLERR.*fd \d+.*stopped/);
    assert.equal(watcher.active, false);
    assert.equal(watcher.error, error);
    // The write the callback would make shows the real condition.
    assert.throws(() => os.write(w, 'x'), { name: 'BrokenPipeError' });
  });

  test('watch() leaves the fd in its blocking mode: a blocking pipe or socket stays blocking, while watched and after', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.blockingPipe();
    const [sock, peer] = socketPair(t);
    assert.equal(os.getBlocking(r), true);
    const got: string[] = [];
    const pipeWatch = res.watch(r, EVENT_READ, () => got.push(os.read(r, 100).toString()));
    const sockWatch = res.watch(sock, EVENT_READ, () => got.push(sock.recv(100).toString()));
    assert.equal(os.getBlocking(r), true, 'a watched blocking pipe became non-blocking');
    assert.equal(os.getBlocking(sock.fileno()), true, 'a watched blocking socket became non-blocking');
    // Readiness is still reported, and the reads it leads to are plain blocking reads of what is there.
    os.write(w, 'pipe');
    peer.sendall('socket');
    await until(() => got.length === 2, 'both callbacks');
    assert.deepEqual(got.sort(), ['pipe', 'socket']);
    pipeWatch.close();
    sockWatch.close();
    assert.equal(os.getBlocking(r), true);
    assert.equal(os.getBlocking(sock.fileno()), true);
    // The socket still blocks: recv waits for a child's late write instead of raising BlockingIOError.
    const child = spawn('sh', ['-c', 'sleep 0.2; printf late'], { stdio: ['ignore', peer.fileno(), 'inherit'] });
    const exited = once(child, 'exit');
    assert.equal(sock.recv(100).toString(), 'late');
    await exited;
    // And a non-blocking fd stays non-blocking.
    const [nr] = res.pipe();
    res.watch(nr, EVENT_READ, () => {}).close();
    assert.equal(os.getBlocking(nr), false);
  });

  test('ref/unref/hasRef', (t) => {
    const res = new Resources(t);
    const [r] = res.pipe();
    const watcher = res.watch(r, EVENT_READ, () => {});
    assert.equal(watcher.hasRef(), true);
    assert.equal(watcher.unref(), watcher);
    assert.equal(watcher.hasRef(), false);
    watcher.ref();
    assert.equal(watcher.hasRef(), true);
    watcher.close();
    assert.equal(watcher.hasRef(), false);
    watcher.ref(); // like a closed socket's: nothing to do
    assert.equal(watcher.hasRef(), false);
    assert.throws(() => watcher.modify(EVENT_READ), { name: 'ValueError', message: /closed watcher/ });
  });

  test('bad arguments: clear errors, nothing left open', (t) => {
    const res = new Resources(t);
    const [r] = res.pipe();
    const before = loopStats().openHandles;
    assert.throws(() => watch(r, 0, () => {}), { name: 'ValueError', message: 'Invalid events: 0' });
    assert.throws(() => watch(r, 4, () => {}), { name: 'ValueError', message: 'Invalid events: 4' });
    assert.throws(() => watch(r, 1.5, () => {}), { name: 'TypeError', message: /events must be an integer/ });
    assert.throws(() => watch(r, EVENT_READ, 'nope' as never), { name: 'TypeError', message: /callback must be a function/ });
    assert.throws(() => watch(-1, EVENT_READ, () => {}), { name: 'ValueError' });
    assert.throws(() => watch({} as never, EVENT_READ, () => {}), TypeError);
    const first = res.watch(r, EVENT_READ, () => {});
    assert.throws(() => watch(r, EVENT_READ, () => {}), (e: unknown) => {
      assert.ok(e instanceof FileExistsError);
      assert.match(e.message, /already watched/);
      return true;
    });
    first.close();
    const dir = tempDir(t, 'iomux-loop-');
    const file = openSync(join(dir, 'regular'), 'w+');
    try {
      assert.throws(() => watch(file, EVENT_READ, () => {}), (e: unknown) => {
        assert.ok(e instanceof PermissionError);
        assert.match(e.message, /cannot be watched/);
        return true;
      });
    } finally {
      os.close(file);
    }
    const closedFd = os.dup(r);
    os.close(closedFd);
    assert.throws(() => watch(closedFd, EVENT_READ, () => {}), { name: 'OSError', message: /Bad file descriptor.*not open/ });
    assert.equal(loopStats().openHandles, before);
  });

  test('accepts objects with fileno()', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    let got = '';
    res.watch({ fileno: () => r }, EVENT_READ, () => (got += drain(r)));
    os.write(w, 'via fileno');
    await until(() => got !== '', 'the data');
    assert.equal(got, 'via fileno');
  });

  test('1000 watch/close cycles leak no fd, no handle and no koffi callback', async (t) => {
    const res = new Resources(t);
    const [r, w] = res.pipe();
    await nextTurn();
    await nextTurn();
    const fds = fdCount();
    const before = loopStats();
    let calls = 0;
    let fired: (() => void) | null = null;
    for (let i = 0; i < 1000; i++) {
      const watcher = watch(r, EVENT_READ | EVENT_WRITE, () => {
        calls++;
        fired?.();
      });
      if (i % 100 === 0) {
        os.write(w, 'x');
        // Let it fire once (waiting for the callback itself, not a timer: qemu's arm64 missed a 1 ms one), then
        // close it from the loop.
        watcher.modify(EVENT_READ);
        await new Promise<void>((resolve) => {
          fired = resolve;
        });
        fired = null;
        drain(r);
      }
      watcher.close();
    }
    assert.ok(calls >= 10);
    await nextTurn();
    await nextTurn();
    assert.equal(fdCount(), fds);
    assert.deepEqual(loopStats(), before);
  });
});

describe('exceptions from callbacks (child processes)', () => {
  test('without a handler, a throwing callback kills the process like any uncaught exception', async () => {
    const result = await runModule(`
      import { watch, EVENT_READ } from 'iomux/loop';
      import * as os from 'iomux/os';
      const [r, w] = os.pipe();
      os.write(w, 'x');
      watch(r, EVENT_READ, () => { throw new Error('boom from a watch callback'); });
      setTimeout(() => { console.log('still alive'); process.exit(0); }, 5000);
    `);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Error: boom from a watch callback/);
    assert.doesNotMatch(result.stdout, /still alive/);
  });

  test('with an uncaughtException handler, it is reported once and the process does not spin', async () => {
    const result = await runModule(`
      import { watch, EVENT_READ } from 'iomux/loop';
      import * as os from 'iomux/os';
      const [r, w] = os.pipe();
      os.write(w, 'never read: the fd stays readable');
      const errors = [];
      process.on('uncaughtException', (e) => errors.push(e.message));
      const start = process.cpuUsage();
      let calls = 0;
      const watcher = watch(r, EVENT_READ, () => { calls++; throw new Error('boom ' + calls); });
      let ticks = 0;
      const iv = setInterval(() => ticks++, 10);
      setTimeout(() => {
        const cpu = process.cpuUsage(start);
        clearInterval(iv);
        const active = watcher.active;
        watcher.modify(EVENT_READ); // explicitly restarted: it fires (and throws) again
        setTimeout(() => {
          console.log(JSON.stringify({ errors, calls, active, ticks, cpuMs: (cpu.user + cpu.system) / 1000 }));
          watcher.close();
        }, 50);
      }, 1000);
    `);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { errors: string[]; calls: number; active: boolean; ticks: number; cpuMs: number };
    assert.deepEqual(report.errors, ['boom 1', 'boom 2']);
    assert.equal(report.calls, 2);
    assert.equal(report.active, false);
    assert.ok(report.ticks >= 20, `timers stalled: ${report.ticks} ticks`);
    // A spinning loop would burn about 1000 ms of CPU in that second.
    assert.ok(report.cpuMs < 400, `the child used ${report.cpuMs} ms of CPU in 1 s`);
  });

  test('an unreferenced watch does not keep the process alive; a referenced one does', async () => {
    const source = (unref: boolean): string => `
      import { watch, EVENT_READ } from 'iomux/loop';
      import * as os from 'iomux/os';
      const [r, w] = os.pipe();
      const watcher = watch(r, EVENT_READ, () => {});
      ${unref ? 'watcher.unref();' : ''}
      const start = Date.now();
      process.on('exit', () => console.log('exit after', Date.now() - start));
      // Only a referenced watch keeps this child running; the timer below is unreferenced.
      setTimeout(() => { console.log('still running'); process.exit(0); }, 500).unref();
    `;
    const unrefd = await runModule(source(true));
    assert.equal(unrefd.code, 0, unrefd.stderr);
    assert.doesNotMatch(unrefd.stdout, /still running/);
    const refd = await runModule(source(false));
    assert.equal(refd.code, 0, refd.stderr);
    assert.match(refd.stdout, /still running/);
  });
});

describe('worker threads', () => {
  test("a worker watches fds on its own loop, even while the main thread's loop is blocked", async () => {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const [r, w] = os.pipe();
    try {
      const worker = new Worker(
        esmWorkerUrl(`
          import { parentPort, workerData } from 'node:worker_threads';
          import { watch, EVENT_READ } from ${JSON.stringify(distUrl('loop/index.js'))};
          import * as os from ${JSON.stringify(distUrl('os.js'))};
          const { fd, shared } = workerData;
          let ticks = 0;
          const iv = setInterval(() => ticks++, 5);
          const watcher = watch(fd, EVENT_READ, () => {
            const text = os.read(fd, 100).toString();
            Atomics.store(shared, 0, text.length);
            Atomics.notify(shared, 0);
            watcher.close();
            clearInterval(iv);
            parentPort.postMessage({ text, ticks });
          });
          parentPort.postMessage('ready');
        `),
        { workerData: { fd: r, shared } },
      );
      const messages: unknown[] = [];
      worker.on('message', (m) => messages.push(m));
      const [ready] = (await once(worker, 'message')) as [unknown];
      assert.equal(ready, 'ready');
      os.write(w, 'hello worker');
      // Block this thread: only the worker's own loop can run its watch callback now. 'not-equal' means the
      // worker was even quicker — it reacted between the write and the wait, with this thread's loop not
      // turning either (no await in between); only a timeout means it needed this thread.
      const result = Atomics.wait(shared, 0, 0, 5000);
      assert.notEqual(result, 'timed-out', 'the worker did not react while the main thread was blocked');
      assert.equal(shared[0], 'hello worker'.length);
      await once(worker, 'exit');
      assert.deepEqual((messages.at(-1) as { text: string }).text, 'hello worker');
    } finally {
      os.close(r);
      os.close(w);
    }
  });

  test('workers that end with watches still open (terminate, process.exit, natural end) do not take the process down', async () => {
    const result = await runModule(`
      import { Worker } from 'node:worker_threads';
      const body = (ending) => 'data:text/javascript,' + encodeURIComponent(\`
        import { parentPort } from 'node:worker_threads';
        import { watch, EVENT_READ } from ${JSON.stringify(distUrl('loop/index.js'))};
        import * as os from ${JSON.stringify(distUrl('os.js'))};
        const [r, w] = os.pipe();
        os.write(w, 'always readable');
        let calls = 0;
        const watcher = watch(r, EVENT_READ, () => {
          if (++calls === 3) {
            parentPort.postMessage('busy');
            if ('\${ending}' === 'exit') process.exit(7);
            if ('\${ending}' === 'natural') watcher.unref();
          }
        });
      \`);
      const endings = { terminate: 0, exit: 0, natural: 0 };
      for (let i = 0; i < 30; i++) {
        const ending = ['terminate', 'exit', 'natural'][i % 3];
        const worker = new Worker(new URL(body(ending)));
        worker.on('message', () => { if (ending === 'terminate') worker.terminate(); });
        const code = await new Promise((resolve) => worker.on('exit', resolve));
        endings[ending]++;
        if (ending === 'exit' && code !== 7) throw new Error('exit code ' + code);
      }
      console.log(JSON.stringify(endings));
    `, 60000);
    assert.equal(result.signal, null, `the process died: ${result.stderr.slice(0, 2000)}`);
    assert.equal(result.code, 0, result.stderr.slice(0, 2000));
    assert.deepEqual(JSON.parse(result.stdout), { terminate: 10, exit: 10, natural: 10 });
  });
});
