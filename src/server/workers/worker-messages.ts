/** What the main thread and the --workers threads tell each other. */
import type { BalanceName, ServerOptions } from '../options.js';

export interface WorkerData {
  /** 0-based; the log calls it `worker index+1`. */
  index: number;
  options: ServerOptions;
  balance: BalanceName;
  /** The worker's listener (kernel) or inbox (handoff): an fd of the process, now the worker's to close. */
  fd: number;
  /** The shared tally's cells (shared-tally.ts). */
  tally: SharedArrayBuffer;
  /** handoff: the cells where inboxes count the connections taken out (HandoffAcceptor.taken). */
  taken: Int32Array | null;
}

export type ToWorker = { type: 'stop'; reason: string };

export interface WorkerCounts {
  served: number;
  refused: number;
  bytesEchoed: number;
  peak: number;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'log'; text: string }
  | ({ type: 'done' } & WorkerCounts);
