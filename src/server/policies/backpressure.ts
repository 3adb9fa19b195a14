/**
 * Backpressure: when the server stops reading a connection and when it reads it again, as two rules of two
 * named transitions each, with a high and a low water mark (asyncio's _FlowControlMixin: pause_reading
 * past the high mark, resume_reading at the low one, so reading does not flap at the limit):
 *
 * - per connection (--max-pending): PAUSE past maxPending unsent bytes, RESUME at half of it;
 * - the whole server (--max-total-pending): from 7/8 of the budget, a connection holding at least the
 *   average pauses (the ones holding the most go first), from the budget itself every one holding any
 *   (BUDGET_PAUSE); below 3/4 of it they all read again, and one that holds nothing reads again at once
 *   (BUDGET_RESUME). A connection holding nothing is always read, near the budget in small reads only.
 *
 * And from those, what the backend watches: `interest`.
 */
import { READ, WRITE } from '../core/backend.js';
import type { EchoStyle } from './tutorial.js';

/** The budget's marks, as fractions of --max-total-pending. */
const BUDGET_SELECTIVE = 7 / 8;
const BUDGET_RESUME_BELOW = 3 / 4;
/** The read size near the total budget: it can be passed by at most this much per connection holding nothing. */
const OVER_BUDGET_READ_BYTES = 4 * 1024;

/** Transitions `transitions()` finds due (bits, several at once). */
export const PAUSE = 1;
export const RESUME = 2;
export const BUDGET_PAUSE = 4;
export const BUDGET_RESUME = 8;

/** What a connection's interest depends on (Connection packs it into its flag bits). */
export interface FlowState {
  /** Unsent bytes. */
  readonly pending: number;
  /** Paused by its own high water mark. */
  readonly paused: boolean;
  /** Paused by the total budget. */
  readonly overBudget: boolean;
  /** The client shut down its sending side. */
  readonly eof: boolean;
  /** Waiting in the scheduler's heavy ring (its turn is its readiness) or its write ring. */
  readonly heavy: boolean;
  readonly deferred: boolean;
  readonly writeDeferred: boolean;
  /** --tutorial: the drained queue is still to be reported on a writable event. */
  readonly emptyUnannounced: boolean;
}

/** The whole server's numbers the budget is judged on (a Tally). */
export interface Totals {
  /** Unsent bytes, in all. */
  readonly pending: number;
  /** Connections holding unsent bytes. */
  readonly holders: number;
}

export interface FlowLimits {
  maxPending: number;
  maxTotalPending: number;
}

export class Backpressure {
  /** Per connection: PAUSE above this many unsent bytes... */
  readonly highWater: number;
  /** ...RESUME at or below this many. */
  readonly lowWater: number;
  /** The total budget (Infinity: none). */
  readonly budget: number;
  /** From here the budget pauses the connections holding at least the average. */
  readonly selectiveAt: number;
  /** Below this, every connection the budget paused reads again. */
  readonly budgetResumeBelow: number;

  constructor(limits: FlowLimits) {
    this.highWater = limits.maxPending;
    this.lowWater = Math.floor(limits.maxPending / 2);
    this.budget = limits.maxTotalPending;
    this.selectiveAt = limits.maxTotalPending * BUDGET_SELECTIVE;
    this.budgetResumeBelow = limits.maxTotalPending * BUDGET_RESUME_BELOW;
  }

  /** The transitions due for `conn` with the server holding `totals` (PAUSE | RESUME | BUDGET_PAUSE | BUDGET_RESUME bits). */
  transitions(conn: FlowState, totals: Totals): number {
    const pending = conn.pending;
    let due = 0;
    if (conn.overBudget) {
      // Holding nothing now, it cannot add to the total by more than one read: read it again.
      if (pending === 0) due |= BUDGET_RESUME;
    } else if (pending > 0 && this.overBudget(pending, totals)) {
      due |= BUDGET_PAUSE;
    }
    if (conn.paused) {
      if (pending <= this.lowWater) due |= RESUME;
    } else if (pending > this.highWater) {
      due |= PAUSE;
    }
    return due;
  }

  /** Whether a connection holding `pending` bytes must stop reading, the server holding `totals`. */
  overBudget(pending: number, totals: Totals): boolean {
    const total = totals.pending;
    if (total >= this.budget) return true;
    return total >= this.selectiveAt && pending * totals.holders >= total;
  }

  /** Whether every connection the budget paused may read again. */
  budgetResumes(totals: Totals): boolean {
    return totals.pending < this.budgetResumeBelow;
  }

  /** How much one read may take: `wanted`, or a small read near the budget. */
  readLength(wanted: number, totals: Totals): number {
    return totals.pending >= this.selectiveAt ? OVER_BUDGET_READ_BYTES : wanted;
  }

  /** Whether the connection's state lets it be read (it is not past EOF nor paused by a limit). */
  readable(conn: FlowState): boolean {
    return !(conn.eof || conn.paused || conn.overBudget);
  }

  /**
   * What the backend is to watch for `conn` once its transitions are applied: READ while it may be read
   * (and is not waiting in the heavy ring, whose turn stands for its readiness), WRITE while it has output
   * (and is not waiting in the write ring). A connection in the light ring stays watched: light ones wait
   * there only when a wake-up's budget ran out, a few at a time, and this spares two epoll_ctl calls each.
   */
  interest(conn: FlowState, style: EchoStyle): number {
    const output = conn.pending > 0 || conn.emptyUnannounced;
    const reading = this.readable(conn) && !(conn.deferred && conn.heavy) && !(output && style.oneStepAtATime);
    const writing = output && !conn.writeDeferred;
    return (reading ? READ : 0) | (writing ? WRITE : 0);
  }
}
