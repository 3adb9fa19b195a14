/**
 * Fairness: one wake-up does a bounded amount of work, and the light connections go first. A connection is
 * light when its last read emptied its socket (an interactive client, a new one) and heavy when its last
 * read filled the whole read length (it is streaming). Light ones are read at once, in event order, while
 * the wake-up's budget lasts; a heavy one, or a light one past the budget, waits for its turn in a first in
 * first out ring, and so does a writable connection past the budget. At the end of the wake-up the rings
 * are served while the budget lasts (light, then heavy, then sends), at least MIN_TURNS_PER_RING each, the
 * rest in the next wake-ups. Readiness is level-triggered, so nothing is lost by waiting, and nothing
 * starves: a connection waits at most (its ring's length / MIN_TURNS_PER_RING) wake-ups.
 *
 * The single constant that decides it is WAKE_UP_BUDGET_BYTES (as libuv's 32 reads per uv__read).
 */
import { ReadyRing } from './ready-ring.js';

/** One read's worth: the read buffer, and the most a turn in a ring reads. */
export const READ_BUFFER_BYTES = 64 * 1024;
/**
 * What the reads and sends of one wake-up may move together (the last one may pass it): the wake-up stays
 * short whatever the number of busy clients, so the listener and quiet clients are served again soon.
 */
export const WAKE_UP_BUDGET_BYTES = 512 * 1024;
/** The read size while many events are ready: 1 MiB shared among them... */
const SHARED_READ_BYTES = 1024 * 1024;
/** ...but no read smaller than this, so a huge crowd still moves. */
const MIN_READ_BYTES = 4 * 1024;
/**
 * What a read or a send counts against the budget besides its bytes: its system calls, which cost about
 * as much as copying this much (a small read and its echo take ~10 µs on loopback).
 */
export const CALL_COST_BYTES = 8 * 1024;
/** Turns each ring gets per wake-up even once the budget is spent, so every ring moves. */
export const MIN_TURNS_PER_RING = 2;

/** What the scheduler keeps on a connection (Connection packs it into its flag bits). */
export interface Schedulable {
  readonly open: boolean;
  /** Its last read filled the read length: more is probably waiting. */
  heavy: boolean;
  /** Waiting in a read ring. */
  deferred: boolean;
  /** Waiting in the write ring. */
  writeDeferred: boolean;
}

/** Who takes the turns the rings hand out: the core's read and send. */
export interface TurnTaker<C> {
  readonly running: boolean;
  /** Reads `conn` once, up to READ_BUFFER_BYTES; false when it cannot be read now (no turn was used). */
  readTurn(conn: C): boolean;
  /** Sends what `conn` has queued. */
  writeTurn(conn: C): void;
}

export class FairScheduler<C extends Schedulable> {
  /** Bytes (and call costs) the reads and sends of this wake-up have moved so far. */
  #spent = 0;
  /** The read size of a light connection in this wake-up: its share among the ready events. */
  #readShare = READ_BUFFER_BYTES;
  readonly #light = new ReadyRing<C>();
  readonly #heavy = new ReadyRing<C>();
  readonly #write = new ReadyRing<C>();
  /**
   * How many at the head of the heavy ring were there when the last wake-up ended: those behind them were
   * read in this wake-up (a full read sends a connection to the tail), and wait for the next one.
   */
  #heavyTurns = 0;

  /** A wake-up with `batch` ready events begins: they share SHARED_READ_BYTES (1: a whole buffer each). */
  startWakeUp(batch: number): void {
    this.#readShare = batch <= 1 ? READ_BUFFER_BYTES : Math.max(MIN_READ_BYTES, Math.min(READ_BUFFER_BYTES, Math.floor(SHARED_READ_BYTES / batch)));
  }

  get readShare(): number {
    return this.#readShare;
  }

  /** Connections waiting for a turn: while there are, the next wait must not block. */
  get waiting(): number {
    return this.#light.size + this.#heavy.size + this.#write.size;
  }

  /** What a read or a send costs against the budget: CALL_COST_BYTES for its calls, then the bytes it moved. */
  spend(bytes: number): void {
    this.#spent += bytes;
  }

  /** Whether a ready `conn` waits for its turn: heavy ones always, light ones behind others or past the budget. */
  defersRead(conn: C): boolean {
    return conn.heavy || this.#light.size > 0 || this.#spent >= WAKE_UP_BUDGET_BYTES;
  }

  /** `conn` waits in its ring: the heavy one (a full read streams on) or the light one. */
  deferRead(conn: C): void {
    conn.deferred = true;
    (conn.heavy ? this.#heavy : this.#light).push(conn);
  }

  /** Whether a writable connection waits for its turn: past the budget, or behind others. */
  defersWrite(): boolean {
    return this.#write.size > 0 || this.#spent >= WAKE_UP_BUDGET_BYTES;
  }

  deferWrite(conn: C): void {
    conn.writeDeferred = true;
    this.#write.push(conn);
  }

  /**
   * The end of a wake-up: the rings' turns — the deferred light connections, then the heavy ones, then
   * the sends, each in arrival order while the budget lasts and at least MIN_TURNS_PER_RING of each, each
   * connection once — then the next wake-up's budget starts. Returns the turns taken.
   */
  endWakeUp(taker: TurnTaker<C>): number {
    if (this.waiting === 0) {
      this.#heavyTurns = 0;
      this.#spent = 0;
      return 0;
    }
    const reads = this.#readTurns(this.#light, this.#light.size, taker) + this.#readTurns(this.#heavy, this.#heavyTurns, taker);
    this.#heavyTurns = this.#heavy.size;
    let writes = 0;
    for (let left = this.#write.size; left > 0 && (writes < MIN_TURNS_PER_RING || this.#spent < WAKE_UP_BUDGET_BYTES); left--) {
      const conn = this.#write.shift()!;
      conn.writeDeferred = false;
      if (!conn.open) continue;
      writes++;
      taker.writeTurn(conn);
    }
    this.#spent = 0;
    return reads + writes;
  }

  /** Serves up to `turns` connections from the head of `ring`. */
  #readTurns(ring: ReadyRing<C>, turns: number, taker: TurnTaker<C>): number {
    let reads = 0;
    for (let left = turns; left > 0 && taker.running && (reads < MIN_TURNS_PER_RING || this.#spent < WAKE_UP_BUDGET_BYTES); left--) {
      const conn = ring.shift()!;
      conn.deferred = false;
      if (!conn.open) continue;
      if (taker.readTurn(conn)) reads++;
    }
    return reads;
  }
}
