/**
 * What --max-connections and --max-total-pending count against. A single-threaded server counts its own
 * connections and queues (`LocalTally`); with --workers every worker counts into one `SharedTally`
 * (shared-tally.ts), so both limits hold for the process as a whole, not per worker.
 */
export interface Tally {
  /** Connections open, in all. */
  readonly open: number;
  /** Takes a connection slot unless `max` are open in all already; false: the connection is to be refused. */
  tryOpen(max: number): boolean;
  /** Gives back a slot `tryOpen` took. */
  closed(): void;
  /** Unsent bytes, in all. */
  readonly pending: number;
  /** This server's unsent bytes grew by `delta` (shrank, when negative). */
  addPending(delta: number): void;
  /** Connections holding unsent bytes, in all. */
  readonly holders: number;
  /** A connection of this server started (+1) or stopped (-1) holding unsent bytes. */
  addHolders(delta: number): void;
}

export class LocalTally implements Tally {
  open = 0;
  pending = 0;
  holders = 0;

  tryOpen(max: number): boolean {
    if (this.open >= max) return false;
    this.open++;
    return true;
  }

  closed(): void {
    this.open--;
  }

  addPending(delta: number): void {
    this.pending += delta;
  }

  addHolders(delta: number): void {
    this.holders += delta;
  }
}
