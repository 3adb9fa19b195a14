/**
 * One --workers thread: a complete echo server (core + backend, any --backend and --driver) on the listener
 * or hand-off inbox the main thread opened for it, counting into the shared tally. It cannot receive
 * signals: the main thread posts `stop`, which a blocking loop sees within one tick of its wait. Its log
 * lines go to the main thread as whole texts, which writes them (prefixed), so lines never interleave.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Socket } from '../../socket/index.js';
import type { Backend } from '../core/backend.js';
import { EchoCore } from '../core/echo-core.js';
import { serve } from '../core/serve.js';
import { EventLog } from '../log/event-log.js';
import { createBackend } from '../backends/index.js';
import { SharedTally } from './shared-tally.js';
import type { LogWriter } from '../log/stderr-writer.js';
import { HandoffInbox } from './worker-handoff.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-messages.js';

/** The log's lines, posted to the main thread whole (the main thread counts what stderr drops). */
class PortLogWriter implements LogWriter {
  readonly droppedLines = 0;
  readonly droppedBytes = 0;
  readonly #port: MessagePort;

  constructor(port: MessagePort) {
    this.#port = port;
  }

  write(text: string): void {
    this.#port.postMessage({ type: 'log', text } satisfies FromWorker);
  }
}

async function runWorker(port: MessagePort, data: WorkerData): Promise<void> {
  const post = (message: FromWorker): void => port.postMessage(message);
  const log = new EventLog(!data.options.quiet, new PortLogWriter(port));
  const listener = data.taken === null
    ? new Socket(undefined, undefined, undefined, data.fd)
    : new HandoffInbox(data.fd, data.taken, data.index);
  // Until `ready` is posted the fd stays the main thread's to close (it does when this thread exits first):
  // a failure here lets go of it without closing, so a number reused meanwhile is never closed twice.
  let core: EchoCore;
  let backend: Backend;
  try {
    core = new EchoCore(data.options, listener, log, new SharedTally(data.tally, data.index));
    backend = createBackend(core);
  } catch (err) {
    listener.detach();
    throw err;
  }
  core.attach(backend);
  const onMessage = (message: ToWorker): void => {
    if (message.type === 'stop') core.stop(message.reason);
  };
  port.on('message', onMessage);
  post({ type: 'ready', backend: backend.name });
  try {
    await serve(core, backend);
  } finally {
    // Also after a throw: the connections are closed and counted, so the summary and the tally stay true.
    port.off('message', onMessage);
    try {
      core.shutdown();
      backend.close();
    } finally {
      post({ type: 'done', served: core.served, refused: core.refused, bytesEchoed: core.bytesEchoed, peak: core.peak });
    }
  }
}

if (parentPort === null) throw new Error('worker-main.js runs as a worker thread of `iomux echo-server --workers N`');
await runWorker(parentPort, workerData as WorkerData);
