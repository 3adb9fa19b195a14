/**
 * When the reader of our stdout goes away (`iomux demo | head -1`: EPIPE), that is not an error of ours: the
 * program ends quietly with the status it has so far. A command that started child processes first stops
 * them (`whenOutputCloses`), so nothing it started outlives it.
 */

let onClosed: () => void = () => process.exit(process.exitCode ?? 0);
let closed = false;

/** Replaces what happens when stdout's reader goes away (called once); the handler must end the process. */
export function whenOutputCloses(handler: () => void): void {
  onClosed = handler;
}

/** True once stdout's reader went away: there is no point in writing more. */
export function outputClosed(): boolean {
  return closed;
}

/** Installs the EPIPE handling on stdout; any other stdout error is thrown on as before. */
export function handleOutputClosed(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (closed) return;
    closed = true;
    onClosed();
  });
}
