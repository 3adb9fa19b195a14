/**
 * `iomux demo` (`npm run demo`): starts an echo server as a child process on a port the OS picks, runs the
 * multi-socket client and the slow client against it, stops the server with SIGTERM and prints the server's
 * event log: the seeds' walkthrough in one command.
 *
 * The demo owns its children: interrupted (SIGINT, SIGTERM, SIGHUP), cut off by its reader (`| head -1`) or
 * failing, it stops the server and any running client before it ends, and ends by the signal it got, quietly
 * (status 0) when its reader went away, with one line "iomux demo: …" (status 1) when the server does not
 * start (its own reason, e.g. no libkqueue for --backend kqueue), with a stack (status 1) on an unexpected error.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BACKENDS } from '../../server/options.js';
import { choiceOption, runCommand, secondsOption, type CommandSpec } from '../../cmdline/args.js';
import { Children, stopOnSignals } from '../children.js';
import { complain } from '../failures.js';
import { outputClosed, whenOutputCloses } from '../../cmdline/output.js';

export const spec: CommandSpec = {
  name: 'demo',
  summary:
    'Starts an echo server (a child process, on a port the OS picks), runs echo-client and slow-client\n' +
    'against it, stops the server with SIGTERM and prints its event log. Interrupted, it stops what it started.',
  options: {
    backend: { type: 'string', metavar: 'NAME', help: `server backend: ${BACKENDS.join('|')} (default default)` },
    delay: { type: 'string', metavar: 'SEC', help: "slow-client's pause after each part (default 1.5)" },
  },
};

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/** The demo cannot go on (its server did not start): the message is its one line. */
class DemoFailure extends Error {}

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const backend = choiceOption(args, 'backend', 'default', BACKENDS);
    const delay = secondsOption(args, 'delay', 1.5, 0, 60);
    const children = new Children();
    let stopped = false;
    const release = stopOnSignals(children, () => (stopped = true));
    whenOutputCloses(() => {
      stopped = true;
      void children.stopAll().finally(() => process.exit(process.exitCode ?? 0));
    });
    try {
      return await runDemo(children, backend, delay, () => stopped || outputClosed());
    } catch (err) {
      if (!(err instanceof DemoFailure)) throw err;
      complain(spec.name, err.message);
      return 1;
    } finally {
      await children.stopAll();
      // A signal that arrived meanwhile ends the process once its handler has seen the children stop.
      if (!stopped) release();
    }
  });
}

function say(text: string): void {
  if (!outputClosed()) process.stdout.write(text);
}

/** The walkthrough; `stopped()` turns true when a signal or the reader's going away ends it early. */
async function runDemo(children: Children, backend: string, delay: number, stopped: () => boolean): Promise<number> {
  const serverArgs = ['echo-server', '--port', '0', '--backend', backend];
  say(`$ iomux ${serverArgs.join(' ')} &   (its event log is shown at the end)\n`);
  const server = children.spawn(process.execPath, [MAIN, ...serverArgs], ['ignore', 'inherit', 'pipe']);
  let log = '';
  server.stderr!.setEncoding('utf8');
  server.stderr!.on('data', (chunk: string) => (log += chunk));
  const exited = once(server, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const port = await boundPort(server, () => log, stopped);
  if (port === null) return 0;
  let status = 0;
  for (const client of [['echo-client'], ['slow-client', '--delay', String(delay)]]) {
    if (stopped()) return status;
    const clientArgs = [...client, '--port', String(port)];
    say(`\n$ iomux ${clientArgs.join(' ')}\n`);
    const child = children.spawn(process.execPath, [MAIN, ...clientArgs], ['ignore', 'inherit', 'inherit']);
    const [code] = (await once(child, 'exit')) as [number | null];
    if (stopped()) return status;
    if (code !== 0) {
      say(`(${client[0]} exited with status ${code})\n`);
      status = 1;
    }
  }
  say('\n$ kill -TERM <server>\n');
  server.kill('SIGTERM');
  const [code, signal] = await exited;
  if (stopped()) return status;
  say(`\n--- the server's event log (stderr) ---\n${log}`);
  if (code !== 0) {
    say(`(the server exited with ${code === null ? `signal ${signal}` : `status ${code}`})\n`);
    status = 1;
  }
  return status;
}

/**
 * Waits for the server's "starting up on HOST port N" line and returns N; null when stopped meanwhile. A
 * server that exits first, or says nothing in time, is a DemoFailure giving the server's own reason.
 */
async function boundPort(server: ChildProcess, log: () => string, stopped: () => boolean): Promise<number | null> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const m = /starting up on \S+ port (\d+)/.exec(log());
    if (m) return Number(m[1]);
    if (stopped()) return null;
    if (server.exitCode !== null || server.signalCode !== null) {
      const how = server.exitCode !== null ? `status ${server.exitCode}` : `signal ${server.signalCode}`;
      throw new DemoFailure(`the echo server did not start: ${lastLine(log()) ?? `it exited with ${how}`}`);
    }
    if (Date.now() > deadline) {
      const said = lastLine(log());
      throw new DemoFailure(`the echo server did not start within ${START_TIMEOUT_MS / 1000} s${said === null ? '' : ` (its last line: ${said})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The server's last line of log, without the "iomux echo-server: " its failures begin with; null if none. */
function lastLine(log: string): string | null {
  const line = log.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return line === '' ? null : line.replace(/^iomux echo-server: /, '');
}
