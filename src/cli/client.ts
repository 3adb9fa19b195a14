/**
 * What the seeds' clients (echo-client, slow-client) share: the options naming the server and the parts to
 * send, connecting with the "connecting to …" line, and how they print progress and failures.
 */
import { OSError, TimeoutError } from '../errors.js';
import { createConnection, type Socket } from '../socket/index.js';
import { intOption, secondsOption, stringOption, type OptionSpec, type ParsedArgs } from '../cmdline/args.js';
import { complain, errorText } from './failures.js';

/** --host and --port, in that order, as both clients take them. */
export const SERVER_OPTIONS: Record<string, OptionSpec> = {
  host: { type: 'string', metavar: 'HOST', help: 'server address (default 127.0.0.1)' },
  port: { type: 'string', metavar: 'PORT', help: 'server port (default 10000)' },
};

/** --timeout; `waitsFor` names what else than a connect may take too long ("an echo"). */
export function timeoutOptionSpec(waitsFor: string): OptionSpec {
  return { type: 'string', metavar: 'SEC', help: `give up when a connect or ${waitsFor} takes longer (default 10)` };
}

/** The help text's last paragraph: what is sent when no PART is given. */
export function partsEpilog(defaults: readonly string[]): string {
  return `The parts default to the seeds' message: ${defaults.map((p) => JSON.stringify(p)).join(', ')}.`;
}

export function serverHost(args: ParsedArgs): string {
  return stringOption(args, 'host', '127.0.0.1');
}

export function serverPort(args: ParsedArgs): number {
  return intOption(args, 'port', 10000, 1, 65535);
}

/** Seconds a connect or a read may take. */
export function clientTimeout(args: ParsedArgs): number {
  return secondsOption(args, 'timeout', 10, 0, 3600, true);
}

/** The PART arguments as bytes, or `defaults` when there are none. */
export function messageParts(args: ParsedArgs, defaults: readonly string[]): Buffer[] {
  return (args.positionals.length > 0 ? args.positionals : defaults).map((p) => Buffer.from(p));
}

/** A line of the client's transcript, on stdout. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export { complain } from './failures.js';

/**
 * Reports an OSError as a failure of `command`; anything else is a bug and is thrown on. A socket timeout
 * ("timed out") says what the client waited for: `waitingFor()` describes it ("the echo of part 2"), and
 * `timeout` is the --timeout that ran out.
 */
export function reportOSError(command: string, err: unknown, waitingFor?: () => string, timeout?: number): void {
  if (!(err instanceof OSError)) throw err;
  if (err instanceof TimeoutError && err.errno === null && waitingFor !== undefined) {
    complain(command, `timed out after ${timeout} s (--timeout) waiting for ${waitingFor()}`);
    return;
  }
  complain(command, errorText(err));
}

/**
 * Says "connecting to HOST port PORT" and opens `count` connections. If one fails with an OSError, the ones
 * already open are closed, the failure is reported, and the result is null.
 */
export function connectAll(command: string, host: string, port: number, count: number, timeout: number): Socket[] | null {
  say(`connecting to ${host} port ${port}`);
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < count; i++) socks.push(createConnection([host, port], timeout));
    return socks;
  } catch (err) {
    for (const s of socks) s.close();
    if (!(err instanceof OSError)) throw err;
    complain(command, `cannot connect to ${host} port ${port}: ${errorText(err)}`);
    return null;
  }
}
