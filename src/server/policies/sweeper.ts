/**
 * The sweeper: closes connections silent for --idle-timeout, and those that moved fewer than --min-rate
 * bytes a second over their last --rate-window (a client trickling a byte every few seconds is never idle,
 * yet holds a slot for good: slowloris). It visits every connection every quarter of the shorter period,
 * at most every second.
 */

/** What `verdict` decides for one connection. */
export const KEEP = 0;
/** Silent for the idle timeout. */
export const IDLE = 1;
/** Moved too little over a finished window. */
export const TOO_SLOW = 2;
/** Its window is over and it moved enough: the next window starts. */
export const NEXT_WINDOW = 3;

export interface SweepLimits {
  /** Seconds; null: never. */
  idleTimeout: number | null;
  /** Bytes a second; 0: no rule. */
  minRate: number;
  /** Seconds. */
  rateWindow: number;
}

/** The activity the sweeper reads (ConnectionTable): per fd, the last activity and the rate window. */
export interface ActivityTable<C> {
  readonly fdBound: number;
  get(fd: number): C | undefined;
  lastActive(fd: number): number;
  windowStart(fd: number): number;
  windowMoved(fd: number): number;
  restartWindow(fd: number, now: number): void;
}

export class Sweeper {
  readonly #idleMs: number;
  readonly #windowMs: number;
  /** Bytes a window must move. */
  readonly #windowBytes: number;
  #next = 0;

  constructor(limits: SweepLimits) {
    this.#idleMs = limits.idleTimeout === null ? Number.POSITIVE_INFINITY : limits.idleTimeout * 1000;
    this.#windowMs = limits.minRate > 0 ? limits.rateWindow * 1000 : Number.POSITIVE_INFINITY;
    this.#windowBytes = limits.minRate * limits.rateWindow;
  }

  /** Whether a sweep is due at `now` (monotonic ms). */
  due(now: number): boolean {
    return now >= this.#next;
  }

  /** The verdict on a connection from its numbers at `now`. */
  verdict(now: number, lastActive: number, windowStart: number, windowMoved: number): number {
    if (now - lastActive >= this.#idleMs) return IDLE;
    if (now - windowStart < this.#windowMs) return KEEP;
    return windowMoved < this.#windowBytes ? TOO_SLOW : NEXT_WINDOW;
  }

  /** Visits every connection of `table`: `close(conn, IDLE | TOO_SLOW, bytes moved in its window)`. */
  sweep<C>(now: number, table: ActivityTable<C>, close: (conn: C, why: number, moved: number) => void): void {
    if (this.#idleMs === Number.POSITIVE_INFINITY && this.#windowMs === Number.POSITIVE_INFINITY) {
      this.#next = Number.POSITIVE_INFINITY;
      return;
    }
    for (let fd = 0; fd < table.fdBound; fd++) {
      const conn = table.get(fd);
      if (conn === undefined) continue;
      const why = this.verdict(now, table.lastActive(fd), table.windowStart(fd), table.windowMoved(fd));
      if (why === NEXT_WINDOW) table.restartWindow(fd, now);
      else if (why !== KEEP) close(conn, why, table.windowMoved(fd));
    }
    this.#next = now + Math.min(this.#idleMs / 4, this.#windowMs / 4, 1000);
  }
}
