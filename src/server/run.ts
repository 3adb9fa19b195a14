/** Starting, running and stopping the echo server: the listener, the backend, signals and the summary. */
import { OSError } from '../errors.js';
import type { Socket } from '../socket/index.js';
import { createBackend } from './backends/index.js';
import type { Backend } from './core/backend.js';
import { EchoCore } from './core/echo-core.js';
import { serve } from './core/serve.js';
import { EventLog } from './log/event-log.js';
import type { ServerOptions } from './options.js';
import { openListener } from './listener.js';
import { ServerStartError } from './start-error.js';
import { runWorkers } from './workers/workers.js';

/**
 * Runs the server until SIGINT or SIGTERM, then closes everything, prints the summary and resolves with
 * the exit status (0; 1 when a worker failed). Rejects with a ServerStartError when the listener or the
 * backend cannot be made. With --workers N > 1 the serving is done by N threads (workers.ts); with 1, here
 * on the main thread.
 */
export async function runEchoServer(options: ServerOptions, log = new EventLog(!options.quiet)): Promise<number> {
  if (options.workers > 1) return runWorkers(options, log);
  let listener: Socket;
  try {
    listener = openListener(options.host, options.port);
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    throw new ServerStartError(`cannot listen on ${options.host} port ${options.port}`, err);
  }
  const core = new EchoCore(options, listener, log);
  let backend: Backend;
  try {
    backend = createBackend(core);
  } catch (err) {
    listener.close();
    if (!(err instanceof OSError)) throw err;
    throw new ServerStartError(`cannot start the ${options.backend} backend`, err);
  }
  core.attach(backend);
  const [, port] = listener.getsockname() as [string, number];
  log.info(`starting up on ${options.host} port ${port} (backend ${backend.name})`);

  const onSignal = (signal: NodeJS.Signals): void => core.stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await serve(core, backend);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    core.shutdown();
    backend.close();
  }
  return 0;
}
