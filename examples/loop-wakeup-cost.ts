/**
 * What one event-loop wake-up costs: two pipes play ping-pong with a one-byte token (each side reads it and
 * writes it into the other pipe), so every round trip is two "fd became readable → JavaScript runs" steps.
 * Measured through
 *
 *   - a blocking `select()` loop of each selector class (no event loop at all: the baselines),
 *   - `watch()` (one libuv poll handle per eventfd),
 *   - an attached `EpollSelector` (one poll handle on the epoll fd, `epoll_wait(0)` per wake-up),
 *   - attached `PollSelector` / `SelectSelector` (a private epoll mirror wakes them, then poll(0)/select(0)),
 *   - `selectAsync()` in a loop (a Promise per wake-up).
 *
 *   npm run build && npm run build:dev && node build/examples/loop-wakeup-cost.js [ROUND_TRIPS]
 *
 * Figures from this machine are in docs/loop.md.
 */
import { EVENT_READ, watch } from 'iomux/loop';
import { EpollSelector, PollSelector, SelectSelector, type BaseSelector } from 'iomux/selectors';
import * as os from 'iomux/os';

const ROUND_TRIPS = Number(process.argv[2] ?? 100_000);

/** A non-blocking pipe: [read end, write end]. */
function eventPair(): [number, number] {
  const [r, w] = os.pipe();
  os.setBlocking(r, false);
  os.setBlocking(w, false);
  return [r, w];
}

const one = Buffer.from('x');

/** Reads the token a side was sent (watch() and the selectors only report readiness; consuming is ours). */
function take(fd: number): void {
  os.read(fd, 1); // the same cost in every variant
}

function send(fd: number): void {
  os.write(fd, one);
}

interface Side {
  r: number;
  w: number;
}

function sides(): [Side, Side, () => void] {
  const [ar, aw] = eventPair();
  const [br, bw] = eventPair();
  return [{ r: ar, w: aw }, { r: br, w: bw }, () => [ar, aw, br, bw].forEach((fd) => os.close(fd))];
}

function report(name: string, t0: bigint, trips: number): void {
  const ns = Number(process.hrtime.bigint() - t0) / trips;
  const perWake = ns / 2 / 1000;
  console.log(`${name.padEnd(34)} ${(ns / 1000).toFixed(2).padStart(7)} µs/round trip   ${perWake.toFixed(2).padStart(6)} µs/wake-up`);
}

function blockingLoop(name: string, sel: BaseSelector<Side>): void {
  const [a, b, close] = sides();
  sel.register(a.r, EVENT_READ, a);
  sel.register(b.r, EVENT_READ, b);
  let trips = 0;
  const t0 = process.hrtime.bigint();
  send(a.w);
  while (trips < ROUND_TRIPS) {
    for (const [key] of sel.select()) {
      take(key.fd);
      if (key.data === a) send(b.w);
      else if (++trips < ROUND_TRIPS) send(a.w);
    }
  }
  report(name, t0, trips);
  sel.close();
  close();
}

function viaWatch(): Promise<void> {
  const [a, b, close] = sides();
  return new Promise((resolve) => {
    let trips = 0;
    const t0 = process.hrtime.bigint();
    const wa = watch(a.r, EVENT_READ, () => {
      take(a.r);
      send(b.w);
    });
    const wb = watch(b.r, EVENT_READ, () => {
      take(b.r);
      if (++trips < ROUND_TRIPS) return send(a.w);
      report('watch() (a poll handle per fd)', t0, trips);
      wa.close();
      wb.close();
      close();
      resolve();
    });
    send(a.w);
  });
}

function viaAttach(name: string, sel: BaseSelector<Side>): Promise<void> {
  const [a, b, close] = sides();
  return new Promise((resolve) => {
    let trips = 0;
    sel.register(a.r, EVENT_READ, a);
    sel.register(b.r, EVENT_READ, b);
    const t0 = process.hrtime.bigint();
    sel.attach((key) => {
      take(key.fd);
      if (key.data === a) return send(b.w);
      if (++trips < ROUND_TRIPS) return send(a.w);
      report(name, t0, trips);
      sel.close();
      close();
      resolve();
    });
    send(a.w);
  });
}

async function viaSelectAsync(): Promise<void> {
  const [a, b, close] = sides();
  const sel = new EpollSelector<Side>();
  sel.register(a.r, EVENT_READ, a);
  sel.register(b.r, EVENT_READ, b);
  let trips = 0;
  const t0 = process.hrtime.bigint();
  send(a.w);
  while (trips < ROUND_TRIPS) {
    for (const [key] of await sel.selectAsync()) {
      take(key.fd);
      if (key.data === a) send(b.w);
      else if (++trips < ROUND_TRIPS) send(a.w);
    }
  }
  report('EpollSelector.selectAsync() loop', t0, trips);
  sel.close();
  close();
}

async function main(): Promise<void> {
  console.log(`${ROUND_TRIPS} round trips (2 wake-ups each), node ${process.version}, ${process.arch}`);
  for (let run = 0; run < 2; run++) {
    if (run === 1) console.log('-- again, warmed up:');
    blockingLoop('blocking EpollSelector.select()', new EpollSelector<Side>());
    await viaAttach('attached EpollSelector', new EpollSelector<Side>());
    await viaWatch();
    await viaSelectAsync();
    blockingLoop('blocking PollSelector.select()', new PollSelector<Side>());
    await viaAttach('attached PollSelector', new PollSelector<Side>());
    blockingLoop('blocking SelectSelector.select()', new SelectSelector<Side>());
    await viaAttach('attached SelectSelector', new SelectSelector<Side>());
  }
}

await main();
