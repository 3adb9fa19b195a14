/**
 * What Node does when one of its own callbacks returns, done for iomux's: run the nextTick queue, then the
 * microtask queue (promise reactions, queueMicrotask). libuv calls iomux's poll callback through koffi, outside
 * any Node callback scope; up to Node 26.3 something on the way out still ran the microtasks, but from 26.4.0
 * nothing does (nodejs/node#62969, intended), so a promise resolved in a watch() callback would wait for some
 * unrelated timer or I/O callback of Node's. docs/loop.md states the contract this keeps on every Node line.
 */
import { setImmediate } from 'node:timers';

/**
 * Node's `runNextTicks` (lib/internal/process/task_queues.js), the function its timers and immediates call
 * between two callbacks: it allocates nothing and costs ~30 ns when both queues are empty. It is reachable only
 * as `process._tickCallback`, undocumented (DEP0134, documentation-only); under `--pending-deprecation` Node
 * wraps it to print that warning, and a later Node may drop it — then the fallback below is used instead.
 */
const runNextTicks = pickRunNextTicks();

function pickRunNextTicks(): (() => void) | null {
  const candidate: unknown = (process as unknown as { _tickCallback?: unknown })._tickCallback;
  return typeof candidate === 'function' && candidate.name === 'runNextTicks' ? (candidate as () => void) : null;
}

let immediateArmed = false;

function immediateRan(): void {
  immediateArmed = false;
}

/**
 * Runs the nextTicks and microtasks the callback that just returned queued, before anything else happens (the
 * next member's callback, or Node's next poll). Without Node's function, one empty immediate is armed per
 * batch instead: Node runs it in a callback scope at the end of this loop iteration, and drains there.
 */
export function runQueuedTasks(): void {
  if (runNextTicks !== null) {
    runNextTicks();
  } else if (!immediateArmed) {
    immediateArmed = true;
    setImmediate(immediateRan);
  }
}
