/**
 * How errors raised by user code that libuv called (through koffi) reach the application: never by
 * throwing into C — a pending exception there silences every poll callback of the thread while libuv keeps
 * waking up, a 100% CPU spin — but re-thrown from the check phase of the same loop iteration, where Node
 * handles it like any other uncaught exception ('uncaughtException', or exit code 1 with the stack).
 */

function rethrow(err: unknown): never {
  throw err;
}

/** Re-throws `err` as an ordinary uncaught exception, from a fresh stack in this loop iteration. */
export function reportUncaught(err: unknown): void {
  setImmediate(rethrow, err);
}
