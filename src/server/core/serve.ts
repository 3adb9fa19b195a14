/**
 * The echo server's loop, written once for every backend (as libuv's uv_run over each platform's
 * uv__io_poll, or mio's Poll::poll over its Selector). Each turn, in this order:
 *
 * 1. `beforeWait`  ends the last wake-up: the scheduler's rings get their turns (they may queue output and
 *                  change interest, which the wait must then see), and the log writes its lines.
 * 2. `waitTimeout` is asked after that, because turns left waiting mean the wait must not block (0).
 * 3. `wait`        blocks in the kernel (at most a tick, so signals get through).
 * 4. `afterWait`   stamps the time and sizes this wake-up's reads by its batch, before any is dispatched;
 *                  it also runs the timers (back-off, sweeper, memory return).
 * 5. dispatch      hands each ready entry to the core, in the order the kernel reported them.
 * 6. yield         lets Node's event loop run (signal handlers) when idle or every 50 ms.
 *
 * With --driver loop, libuv does 3 and 5 and nothing blocks here: a turn after each batch libuv dispatches
 * runs 4 then 1 (and again on the next loop turns while turns wait in a ring), and a timer covers the rest.
 */
import { READ, URGENT, WRITE, type AttachedBackend, type Backend, type WaitingBackend } from './backend.js';
import type { EchoCore } from './echo-core.js';

/** How often the Node-loop driver runs its timers when no event comes. */
const TIMER_TICK_MS = 50;

/** Serves until `core.running` turns false. */
export function serve(core: EchoCore, backend: Backend): Promise<void> {
  return backend.driver === 'loop' ? serveAttached(core, backend) : serveBlocking(core, backend);
}

async function serveBlocking(core: EchoCore, backend: WaitingBackend): Promise<void> {
  const listenFd = core.listener.fileno();
  while (core.running) {
    core.beforeWait();
    const n = backend.wait(core.waitTimeout());
    core.afterWait(n);
    for (let i = 0; i < n; i++) dispatch(core, listenFd, backend.fd(i), backend.events(i));
    if (core.yieldDue(n)) await core.yieldToNode();
  }
}

async function serveAttached(core: EchoCore, backend: AttachedBackend): Promise<void> {
  const listenFd = core.listener.fileno();
  let events = 0;
  let turnQueued = false;
  const turn = (): void => {
    turnQueued = false;
    // libuv dispatches the ready keys itself, so the reads are not shared out per batch: full-size reads.
    core.afterWait(events, 1);
    events = 0;
    core.beforeWait();
    if (core.waitingTurns > 0) queueTurn();
  };
  // An immediate runs right after libuv's poll phase: once per batch.
  const queueTurn = (): void => {
    if (turnQueued) return;
    turnQueued = true;
    setImmediate(turn);
  };
  backend.attach((fd, ready) => {
    events++;
    queueTurn();
    dispatch(core, listenFd, fd, ready);
  });
  const timers = setInterval(turn, Math.min(TIMER_TICK_MS, (core.options.timeout ?? 1) * 1000));
  core.beforeWait();
  try {
    await core.stopped;
  } finally {
    clearInterval(timers);
    backend.detach();
  }
}

/** One ready entry to the core: the listener accepts; a connection closed earlier in the batch is skipped. */
function dispatch(core: EchoCore, listenFd: number, fd: number, events: number): void {
  if (fd === listenFd) {
    if (events & READ) core.acceptAll();
    return;
  }
  const conn = core.connection(fd);
  if (conn === undefined) return;
  const echo = core.echo;
  if (events & READ) echo.onReadable(conn);
  if (events & WRITE) echo.onWritable(conn);
  if (events & URGENT) echo.onException(conn);
}
