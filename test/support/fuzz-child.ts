/**
 * One sequence of the loop fuzz test (test/loop-fuzz.test.ts), run in its own process:
 * `node build/test/support/fuzz-child.js SEED OPS`. Random register/modify/unregister/close/watch/attach/
 * detach/selectAsync/os.close/Socket.close calls over pipes and socket pairs, with fds closed behind iomux's
 * back (fs.closeSync) and their numbers reused at once (the kernel hands out the lowest free number), on
 * every selector class and watch(), some through file objects whose fileno() re-enters iomux, closes another
 * fd or throws. Every error must be one of the documented classes; every wait is
 * bounded. At the end everything is closed and the process must hold exactly the fds it started with.
 * Prints `ok SEED` last; on failure, the seed and the last operations.
 */
import { closeSync, readdirSync } from 'node:fs';
import { EVENT_READ, EVENT_WRITE, loopStats, watch, type Watcher } from 'iomux/loop';
import { KeyError, OSError, OverflowError, RuntimeError, ValueError } from 'iomux/errors';
import * as os from 'iomux/os';
import { socketpair, type Socket } from 'iomux/socket';
import type { BaseSelector } from 'iomux/selectors';
import { SELECTOR_CLASSES } from './selector-classes.js';
import { choosers, operationLog, prng } from './prng.js';

const seed = Number(process.argv[2] ?? 1);
const OPS = Number(process.argv[3] ?? 200);

const random = prng(seed);
const { int, pick } = choosers(random);

const fuzzLog = operationLog('fuzz', seed);
const note = fuzzLog.note;
// An explicit type: TypeScript narrows after a never-returning call only through one.
const fail: (why: string) => never = fuzzLog.fail;

/** What a public call may raise for a bad sequence: the documented classes only. */
function expected(err: unknown): boolean {
  return err instanceof OSError || err instanceof ValueError || err instanceof KeyError
    || err instanceof RuntimeError || err instanceof OverflowError || err instanceof TypeError
    || (err instanceof DOMException && err.name === 'AbortError');
}

function attempt(what: string, fn: () => unknown): void {
  note(what);
  try {
    fn();
  } catch (err) {
    if (!expected(err)) fail(`${what} raised ${String(err)}\n${(err as Error).stack ?? ''}`);
  }
}

// An attached selector whose select() raises (a registered fd closed: EBADF) detaches and reports the
// error as an uncaught exception, as documented; only an error of another class is a failure.
process.on('uncaughtException', (err) => {
  if (!expected(err)) fail(`uncaught ${String(err)}\n${(err as Error).stack ?? ''}`);
  note(`  (uncaught ${String(err)})`);
});

const fdsAtStart = readdirSync('/proc/self/fd').length;

/** Raw fds this sequence owns (pipe ends), and socket pairs' ends. */
const fds: number[] = [];
const sockets: Socket[] = [];
const selectors: Array<BaseSelector<string>> = [];
const watchers: Watcher[] = [];
const pendingWaits: Array<Promise<unknown>> = [];

function forget<T>(items: T[], item: T): void {
  const i = items.indexOf(item);
  if (i >= 0) items.splice(i, 1);
}

/** Any fd number in play: open ones, and numbers of fds closed (perhaps reused since). */
function anyFd(): number | Socket | undefined {
  const choice = int(3);
  if (choice === 0) return pick(sockets);
  return pick(fds) ?? pick(sockets);
}

function readSome(fd: number): void {
  try {
    os.read(fd, 4096);
  } catch (err) {
    if (!expected(err)) throw err;
  }
}

/** A handler that consumes what it is told about, so level-triggered readiness does not spin forever. */
function onReady(fd: number, events: number): void {
  if (events & EVENT_READ) readSome(fd);
}

function randomEvents(): number {
  return pick([EVENT_READ, EVENT_WRITE, EVENT_READ | EVENT_WRITE, EVENT_READ, 0, 4])!;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits for `promise` at most `ms`: a longer wait is a hang. */
async function bounded(what: string, promise: Promise<unknown>, ms = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, hang]);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('hang:')) fail(err.message);
    if (!expected(err)) fail(`${what} rejected with ${String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A file object whose fileno() runs caller code first (issue 19): it re-enters iomux on `sel` (registering
 * or unregistering something else), closes another fd behind everyone's back, or throws — then returns `fd`.
 */
function reentrantFile(fd: number, sel: BaseSelector<string> | undefined): { fileno(): number } {
  return {
    fileno(): number {
      const choice = int(5);
      if (choice === 0 && sel !== undefined) {
        const other = anyFd();
        if (other !== undefined) attempt('  (nested register)', () => sel.register(other, EVENT_READ, 'nested'));
      } else if (choice === 1 && sel !== undefined) {
        const key = sel.getMap() ? pick([...sel.getMap()!.values()]) : undefined;
        if (key !== undefined) attempt(`  (nested unregister(${key.fd}))`, () => sel.unregister(key.fileobj));
      } else if (choice === 2) {
        const victim = pick(fds);
        if (victim !== undefined && victim !== fd) {
          forget(fds, victim);
          attempt(`  (nested os.close(${victim}))`, () => os.close(victim));
        }
      } else if (choice === 3) {
        throw new ValueError('fileno() refused');
      }
      return fd;
    },
  };
}

const operations: Array<[weight: number, run: () => Promise<void> | void]> = [
  [6, () => attempt('pipe', () => {
    const [r, w] = os.pipe();
    os.setBlocking(r, false);
    os.setBlocking(w, false);
    fds.push(r, w);
    note(`  -> ${r}, ${w}`);
  })],
  [4, () => attempt('socketpair', () => {
    const [a, b] = socketpair();
    a.setblocking(false);
    b.setblocking(false);
    sockets.push(a, b);
    note(`  -> ${a.fileno()}, ${b.fileno()}`);
  })],
  [4, () => {
    const fd = pick(fds);
    if (fd === undefined) return;
    forget(fds, fd);
    attempt(`os.close(${fd})`, () => os.close(fd));
  }],
  [3, () => {
    const fd = pick(fds);
    if (fd === undefined) return;
    forget(fds, fd);
    attempt(`fs.closeSync(${fd}) behind iomux's back`, () => closeSync(fd));
  }],
  [3, () => {
    const sock = pick(sockets);
    if (sock === undefined) return;
    forget(sockets, sock);
    attempt(`Socket.close(${sock.fileno()})`, () => sock.close());
  }],
  [1, () => {
    const sock = pick(sockets);
    if (sock === undefined) return;
    forget(sockets, sock);
    attempt(`Socket.detach(${sock.fileno()}) then os.close`, () => os.close(sock.detach()));
  }],
  [5, () => {
    const fd = pick([...fds, ...sockets.map((s) => s.fileno())]);
    if (fd === undefined) return;
    attempt(`write(${fd})`, () => os.write(fd, Buffer.from('x')));
  }],
  [3, () => {
    const fd = pick([...fds, ...sockets.map((s) => s.fileno())]);
    if (fd !== undefined) attempt(`read(${fd})`, () => readSome(fd));
  }],
  [3, () => {
    const [name, Cls] = pick(SELECTOR_CLASSES)!;
    attempt(`new ${name}`, () => selectors.push(new Cls<string>()));
  }],
  [2, () => {
    const sel = pick(selectors);
    if (sel === undefined) return;
    forget(selectors, sel);
    attempt('selector.close()', () => sel.close());
  }],
  [8, () => {
    const sel = pick(selectors);
    const target = anyFd();
    if (sel === undefined || target === undefined) return;
    const events = randomEvents();
    attempt(`register(${typeof target === 'number' ? target : target.fileno()}, ${events})`, () => sel.register(target, events, 'data'));
  }],
  [5, () => {
    const sel = pick(selectors);
    const key = sel?.getMap() ? pick([...sel.getMap()!.values()]) : undefined;
    if (sel === undefined || key === undefined) return;
    const events = randomEvents();
    attempt(`modify(${key.fd}, ${events})`, () => sel.modify(key.fileobj, events, 'data'));
  }],
  [3, () => {
    const sel = pick(selectors);
    const fd = pick(fds);
    if (sel === undefined || fd === undefined) return;
    const events = randomEvents();
    attempt(`register(re-entrant fileno() of ${fd}, ${events})`, () => sel.register(reentrantFile(fd, sel), events, 'data'));
  }],
  [2, () => {
    const fd = pick(fds);
    if (fd === undefined) return;
    const events = randomEvents();
    attempt(`watch(re-entrant fileno() of ${fd}, ${events})`, () => {
      watchers.push(watch(reentrantFile(fd, pick(selectors)), events, (ready) => onReady(fd, ready)));
    });
  }],
  [4, () => {
    const sel = pick(selectors);
    const key = sel?.getMap() ? pick([...sel.getMap()!.values()]) : undefined;
    if (sel === undefined || key === undefined) return;
    attempt(`unregister(${key.fd})`, () => sel.unregister(key.fileobj));
  }],
  [4, () => {
    const sel = pick(selectors);
    if (sel === undefined) return;
    attempt('attach', () => sel.attach((key, events) => onReady(key.fd, events)));
  }],
  [3, () => {
    const sel = pick(selectors);
    if (sel !== undefined) attempt('detach', () => sel.detach());
  }],
  [2, () => {
    const sel = pick(selectors);
    if (sel !== undefined) attempt('select(0)', () => sel.select(0));
  }],
  [4, async () => {
    const sel = pick(selectors);
    if (sel === undefined) return;
    const timeout = pick([0, 0.001, 0.01, -1, 0.02])!;
    const abort = random() < 0.3 ? AbortSignal.timeout(5) : undefined;
    note(`selectAsync(${timeout}${abort ? ', signal' : ''})`);
    let promise: Promise<unknown>;
    try {
      promise = sel.selectAsync(timeout, abort ? { signal: abort } : undefined);
    } catch (err) {
      fail(`selectAsync threw synchronously: ${String(err)}`);
    }
    if (random() < 0.5) await bounded('selectAsync', promise);
    else pendingWaits.push(promise.catch((err: unknown) => {
      if (!expected(err)) fail(`selectAsync rejected with ${String(err)}`);
    }));
  }],
  [7, () => {
    const target = anyFd();
    if (target === undefined) return;
    const events = randomEvents();
    const fd = typeof target === 'number' ? target : target.fileno();
    attempt(`watch(${fd}, ${events})`, () => watchers.push(watch(target, events, (ready) => onReady(fd, ready))));
  }],
  [4, () => {
    const watcher = pick(watchers);
    if (watcher === undefined) return;
    const events = randomEvents();
    attempt(`watcher(${watcher.fd}).modify(${events})`, () => watcher.modify(events));
  }],
  [4, () => {
    const watcher = pick(watchers);
    if (watcher === undefined) return;
    forget(watchers, watcher);
    attempt(`watcher(${watcher.fd}).close()`, () => watcher.close());
  }],
  [8, async () => {
    note('loop turn');
    await turn();
  }],
];
const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);

for (let i = 0; i < OPS; i++) {
  let r = random() * totalWeight;
  for (const [weight, run] of operations) {
    r -= weight;
    if (r < 0) {
      await run();
      break;
    }
  }
}

// Everything closes; the process must hold exactly the fds it started with, and no poll handle.
for (const watcher of watchers.splice(0)) attempt('final watcher.close()', () => watcher.close());
for (const sel of selectors.splice(0)) attempt('final selector.close()', () => sel.close());
await bounded('pending selectAsync() calls', Promise.all(pendingWaits));
for (const sock of sockets.splice(0)) attempt('final Socket.close()', () => sock.close());
for (const fd of fds.splice(0)) attempt(`final os.close(${fd})`, () => os.close(fd));
await turn();
await turn();
// libkqueue's monitoring thread releases a closed kqueue's internal pipe end a moment after close():
// give it a bounded while before calling a surplus a leak.
const fdCount = (): number => readdirSync('/proc/self/fd').length;
for (const deadline = Date.now() + 3000; fdCount() > fdsAtStart && Date.now() < deadline; ) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const fdsAtEnd = fdCount();
if (fdsAtEnd !== fdsAtStart) fail(`fd leak: ${fdsAtStart} fds at start, ${fdsAtEnd} at the end`);
const stats = loopStats();
if (stats.openHandles !== 0 || stats.watches !== 0) fail(`loop still holds ${JSON.stringify(stats)}`);
console.log(`ok ${seed}`);
