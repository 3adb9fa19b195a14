/**
 * The echo server's policies on their own, without sockets: the fair scheduler, backpressure (its water
 * marks and the interest it yields), the sweeper, admission and the echo style. The echo-server-*.test
 * files check the same rules end to end, through a real server's log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { READ, WRITE } from '../src/server/core/backend.js';
import { ConnectionTable } from '../src/server/core/connection.js';
import { LocalTally } from '../src/server/core/tally.js';
import { ACCEPT_BACKOFF_MS, Admission } from '../src/server/policies/admission.js';
import { Backpressure, BUDGET_PAUSE, BUDGET_RESUME, PAUSE, RESUME, type FlowState } from '../src/server/policies/backpressure.js';
import {
  CALL_COST_BYTES, FairScheduler, MIN_TURNS_PER_RING, READ_BUFFER_BYTES, WAKE_UP_BUDGET_BYTES, type TurnTaker,
} from '../src/server/policies/scheduler.js';
import { IDLE, KEEP, NEXT_WINDOW, Sweeper, TOO_SLOW } from '../src/server/policies/sweeper.js';
import { SERVER_STYLE, styleOf, TUTORIAL_STYLE } from '../src/server/policies/tutorial.js';

// ---- the fair scheduler ---------------------------------------------------------------------------------

class Conn {
  open = true;
  heavy = false;
  deferred = false;
  writeDeferred = false;
  constructor(readonly name: string) {}
}

/** Takes the turns as the core does: each read moves `bytes` (and stays heavy), recorded by name. */
function taker(scheduler: FairScheduler<Conn>, bytes: number, log: string[]): TurnTaker<Conn> {
  return {
    running: true,
    readTurn(conn) {
      log.push(`read ${conn.name}`);
      scheduler.spend(CALL_COST_BYTES + bytes);
      if (conn.heavy) scheduler.deferRead(conn); // a full read: back to the heavy ring's tail
      return true;
    },
    writeTurn(conn) {
      log.push(`write ${conn.name}`);
      scheduler.spend(CALL_COST_BYTES + bytes);
    },
  };
}

test('scheduler: light connections are read at once while the budget lasts; heavy ones always wait their turn', () => {
  const s = new FairScheduler<Conn>();
  const light = new Conn('light');
  const heavy = Object.assign(new Conn('heavy'), { heavy: true });
  assert.equal(s.defersRead(light), false);
  assert.equal(s.defersRead(heavy), true);
  s.spend(WAKE_UP_BUDGET_BYTES - 1);
  assert.equal(s.defersRead(light), false, 'one byte of budget left');
  assert.equal(s.defersWrite(), false);
  s.spend(1);
  assert.equal(s.defersRead(light), true, 'the budget is spent');
  assert.equal(s.defersWrite(), true);
  s.deferRead(light);
  assert.equal(light.deferred, true);
  assert.equal(s.waiting, 1);
  assert.equal(s.endWakeUp(taker(s, 0, [])), 1);
  assert.equal(light.deferred, false);
  const other = new Conn('other');
  assert.equal(s.defersRead(other), false, 'a new wake-up has a new budget');
  s.deferRead(light);
  assert.equal(s.defersRead(other), true, 'a light one queues behind light ones already waiting');
});

test('scheduler: the end of a wake-up serves light, then heavy, then writes, each once, at least MIN_TURNS_PER_RING per ring', () => {
  const s = new FairScheduler<Conn>();
  const log: string[] = [];
  const turns = taker(s, WAKE_UP_BUDGET_BYTES, log); // every turn spends a whole budget
  const conns = ['L1', 'L2', 'L3', 'H1', 'H2', 'H3', 'W1', 'W2', 'W3'].map((n) => new Conn(n));
  for (const c of conns.slice(3, 6)) c.heavy = true;
  for (const c of conns.slice(0, 6)) s.deferRead(c);
  for (const c of conns.slice(6)) s.deferWrite(c);
  // The heavy ring's turns come from the previous wake-up's end: this first one has none to give yet.
  s.endWakeUp(turns);
  assert.deepEqual(log, ['read L1', 'read L2', 'write W1', 'write W2'], `${MIN_TURNS_PER_RING} per ring once the budget is spent`);
  log.length = 0;
  s.endWakeUp(turns);
  assert.deepEqual(log, ['read L3', 'read H1', 'read H2', 'write W3']);
  log.length = 0;
  s.endWakeUp(turns);
  assert.deepEqual(log, ['read H3', 'read H1'], 'H1 and H2 went back to the tail; H2 waits for the next wake-up');
});

test('scheduler: no heavy connection waits more than ring length / MIN_TURNS_PER_RING wake-ups', () => {
  const s = new FairScheduler<Conn>();
  const log: string[] = [];
  const turns = taker(s, READ_BUFFER_BYTES, log);
  const conns = Array.from({ length: 30 }, (_, i) => Object.assign(new Conn(`c${i}`), { heavy: true }));
  for (const c of conns) s.deferRead(c);
  const lastRead = new Map<string, number>();
  let longest = 0;
  for (let wake = 1; wake <= 100; wake++) {
    log.length = 0;
    s.endWakeUp(turns);
    const names = log.map((l) => l.slice(5));
    assert.equal(new Set(names).size, names.length, `wake-up ${wake} read a connection twice`);
    for (const name of names) {
      longest = Math.max(longest, wake - (lastRead.get(name) ?? 0));
      lastRead.set(name, wake);
    }
  }
  assert.equal(lastRead.size, 30, 'every connection was read');
  assert.ok(longest <= 30 / MIN_TURNS_PER_RING + 1, `a connection waited ${longest} wake-ups`);
});

test('scheduler: closed connections are skipped, and a turn refused (paused meanwhile) is not counted', () => {
  const s = new FairScheduler<Conn>();
  const a = new Conn('a');
  const b = new Conn('b');
  const c = new Conn('c');
  for (const x of [a, b, c]) s.deferRead(x);
  a.open = false;
  const read: string[] = [];
  const turns: TurnTaker<Conn> = {
    running: true,
    readTurn: (conn) => (read.push(conn.name), conn !== b),
    writeTurn: () => assert.fail('no writes'),
  };
  assert.equal(s.endWakeUp(turns), 1);
  assert.deepEqual(read, ['b', 'c']);
  assert.equal(s.waiting, 0);
  assert.equal(a.deferred || b.deferred || c.deferred, false);
});

test('scheduler: the read share of a wake-up is 1 MiB among its events, between 4 KiB and the 64 KiB buffer', () => {
  const s = new FairScheduler<Conn>();
  const share = (batch: number): number => (s.startWakeUp(batch), s.readShare);
  assert.equal(share(0), READ_BUFFER_BYTES);
  assert.equal(share(1), READ_BUFFER_BYTES);
  assert.equal(share(16), 64 * 1024);
  assert.equal(share(32), 32 * 1024);
  assert.equal(share(1000), 4 * 1024);
});

// ---- backpressure ----------------------------------------------------------------------------------------

function flow(state: Partial<FlowState> = {}): FlowState {
  return {
    pending: 0, paused: false, overBudget: false, eof: false, heavy: false, deferred: false, writeDeferred: false,
    emptyUnannounced: false, ...state,
  };
}

const idleTotals = { pending: 0, holders: 0 };

test('backpressure: a connection pauses above its high water mark and resumes at its low one (hysteresis)', () => {
  const b = new Backpressure({ maxPending: 1000, maxTotalPending: Number.POSITIVE_INFINITY });
  assert.equal(b.highWater, 1000);
  assert.equal(b.lowWater, 500);
  assert.equal(b.transitions(flow({ pending: 1000 }), idleTotals), 0, 'at the mark: still reading');
  assert.equal(b.transitions(flow({ pending: 1001 }), idleTotals), PAUSE);
  assert.equal(b.transitions(flow({ pending: 501, paused: true }), idleTotals), 0, 'between the marks: still paused');
  assert.equal(b.transitions(flow({ pending: 500, paused: true }), idleTotals), RESUME);
  assert.equal(b.transitions(flow({ pending: 2000, paused: true }), idleTotals), 0);
});

test('backpressure: the total budget pauses the big holders from 7/8, every holder from the budget, and resumes below 3/4', () => {
  const b = new Backpressure({ maxPending: Number.POSITIVE_INFINITY, maxTotalPending: 800 });
  // 700 of 800 held by 7 connections: 100 each on average.
  const totals = { pending: 700, holders: 7 };
  assert.equal(b.transitions(flow({ pending: 100 }), totals), BUDGET_PAUSE, 'at the average');
  assert.equal(b.transitions(flow({ pending: 99 }), totals), 0, 'below the average');
  assert.equal(b.transitions(flow({ pending: 0 }), totals), 0, 'holding nothing: always read');
  assert.equal(b.transitions(flow({ pending: 1 }), { pending: 800, holders: 8 }), BUDGET_PAUSE, 'at the budget: every holder');
  assert.equal(b.transitions(flow({ pending: 600 }), { pending: 699, holders: 1 }), 0, 'below 7/8');
  assert.equal(b.transitions(flow({ pending: 0, overBudget: true }), totals), BUDGET_RESUME, 'paused, now holding nothing');
  assert.equal(b.transitions(flow({ pending: 5, overBudget: true }), totals), 0);
  assert.equal(b.budgetResumes({ pending: 600, holders: 1 }), false);
  assert.equal(b.budgetResumes({ pending: 599, holders: 1 }), true);
  assert.equal(b.readLength(READ_BUFFER_BYTES, { pending: 700, holders: 1 }), 4 * 1024, 'small reads near the budget');
  assert.equal(b.readLength(READ_BUFFER_BYTES, { pending: 699, holders: 1 }), READ_BUFFER_BYTES);
});

test('backpressure: the interest follows the state, for the server and for the tutorial', () => {
  const b = new Backpressure({ maxPending: 1000, maxTotalPending: Number.POSITIVE_INFINITY });
  const server = (s: Partial<FlowState>): number => b.interest(flow(s), SERVER_STYLE);
  assert.equal(server({}), READ);
  assert.equal(server({ pending: 10 }), READ | WRITE);
  assert.equal(server({ pending: 10, paused: true }), WRITE);
  assert.equal(server({ pending: 10, overBudget: true }), WRITE);
  assert.equal(server({ pending: 10, eof: true }), WRITE);
  assert.equal(server({ eof: true }), 0);
  assert.equal(server({ heavy: true, deferred: true }), 0, 'the heavy ring stands for its readiness');
  assert.equal(server({ deferred: true }), READ, 'the light ring does not');
  assert.equal(server({ pending: 10, writeDeferred: true }), READ);
  const tutorial = (s: Partial<FlowState>): number => b.interest(flow(s), TUTORIAL_STYLE);
  assert.equal(tutorial({}), READ);
  assert.equal(tutorial({ pending: 10 }), WRITE, 'one step at a time: no reading while the echo is queued');
  assert.equal(tutorial({ emptyUnannounced: true }), WRITE, 'nor until the empty queue is reported');
});

// ---- the sweeper -----------------------------------------------------------------------------------------

test('sweeper: the verdict on idle, slow and moving connections', () => {
  const s = new Sweeper({ idleTimeout: 60, minRate: 1, rateWindow: 60 });
  assert.equal(s.verdict(60_000, 0, 0, 1000), IDLE);
  assert.equal(s.verdict(59_999, 0, 0, 0), KEEP, 'the window is not over');
  assert.equal(s.verdict(60_000, 59_000, 0, 59), TOO_SLOW);
  assert.equal(s.verdict(60_000, 59_000, 0, 60), NEXT_WINDOW);
  const off = new Sweeper({ idleTimeout: null, minRate: 0, rateWindow: 60 });
  assert.equal(off.verdict(1e12, 0, 0, 0), KEEP);
});

test('sweeper: a sweep closes what its verdict says, restarts windows, and says when the next one is due', () => {
  const s = new Sweeper({ idleTimeout: 10, minRate: 10, rateWindow: 4 });
  const table = new ConnectionTable<{ fd: number }>();
  const [idle, slow, busy, young] = [{ fd: 3 }, { fd: 5 }, { fd: 6 }, { fd: 9 }];
  for (const c of [idle, slow, busy]) table.add(c, 0);
  table.add(young, 3000);
  table.active(slow.fd, 39, 3500);
  table.active(busy.fd, 40, 3500);
  const closed: Array<[number, number, number]> = [];
  assert.equal(s.due(0), true);
  s.sweep(4000, table, (conn, why, moved) => {
    closed.push([conn.fd, why, moved]);
    table.remove(conn);
  });
  assert.deepEqual(closed, [[3, TOO_SLOW, 0], [5, TOO_SLOW, 39]], 'fd 3 moved nothing in its window either');
  assert.equal(table.windowStart(busy.fd), 4000, 'a new window for the busy one');
  assert.equal(table.windowStart(young.fd), 3000);
  assert.equal(s.due(4999), false, 'every quarter of the shorter period (1 s here)');
  assert.equal(s.due(5000), true);
  const off = new Sweeper({ idleTimeout: null, minRate: 0, rateWindow: 60 });
  off.sweep(0, table, () => assert.fail('nothing to close'));
  assert.equal(off.due(1e15), false, 'with both rules off, never again');
});

// ---- admission -------------------------------------------------------------------------------------------

test('admission: --max-connections and the backend fd limit refuse with their reasons', () => {
  const tally = new LocalTally();
  const a = new Admission({ maxConnections: 1 }, tally);
  const select = { name: 'select', fdLimit: 1024 };
  assert.equal(a.admit(1024, select), 'fd 1024 is out of range for select (FD_SETSIZE 1024)');
  assert.equal(tally.open, 0, 'no slot taken by a refusal');
  assert.equal(a.admit(1023, select), null);
  assert.equal(tally.open, 1);
  assert.equal(a.admit(7, select), '1 connection is open (--max-connections 1)');
  const two = new Admission({ maxConnections: 2 }, Object.assign(new LocalTally(), { open: 2 }));
  assert.equal(two.admit(7, select), '2 connections are open (--max-connections 2)');
});

test('admission: a failing accept rests the listener ACCEPT_BACKOFF_MS, logging once per episode', () => {
  const a = new Admission({ maxConnections: Number.POSITIVE_INFINITY }, new LocalTally());
  assert.equal(a.resting, false);
  assert.equal(a.restLeft(0), Number.POSITIVE_INFINITY);
  assert.equal(a.failed(1000), true, 'the first failure of an episode');
  assert.equal(a.resting, true);
  assert.equal(a.restLeft(1040), ACCEPT_BACKOFF_MS - 40);
  assert.equal(a.resumes(1000 + ACCEPT_BACKOFF_MS - 1), false);
  assert.equal(a.resumes(1000 + ACCEPT_BACKOFF_MS), true);
  assert.equal(a.resumes(1000 + ACCEPT_BACKOFF_MS), false, 'once');
  assert.equal(a.failed(2000), false, 'still the same episode');
  assert.equal(a.accepted(), 2, 'an accept ends it, saying how many failed');
  assert.equal(a.accepted(), 0);
  a.failed(3000);
  a.drained();
  assert.equal(a.failed(3100), true, 'nothing pending ended the episode too');
});

// ---- the echo style --------------------------------------------------------------------------------------

test('echo style: --tutorial reads 1024 bytes a step; the server reads its share', () => {
  assert.equal(styleOf({ tutorial: false }), SERVER_STYLE);
  assert.equal(styleOf({ tutorial: true }), TUTORIAL_STYLE);
  assert.equal(SERVER_STYLE.readLength(12345), 12345);
  assert.equal(TUTORIAL_STYLE.readLength(12345), 1024);
  assert.equal(SERVER_STYLE.oneStepAtATime, false);
  assert.equal(TUTORIAL_STYLE.oneStepAtATime, true);
});
