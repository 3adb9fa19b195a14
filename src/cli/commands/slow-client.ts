/**
 * `iomux slow-client`: the seeds' slow client. One socket, a pause after each part, then the echo read back
 * in 16-byte pieces until every byte sent has come back: the pieces do not follow the parts, because TCP
 * carries a byte stream, not messages.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OSError } from '../../errors.js';
import { showPayload } from '../../server/show.js';
import { createConnection } from '../../socket/index.js';
import { intOption, runCommand, secondsOption, stringOption, type CommandSpec } from '../args.js';

export const DEFAULT_PARTS = ['Part one of the message.', 'Part two of the message.'];
const PIECE_BYTES = 16;

export const spec: CommandSpec = {
  name: 'slow-client',
  summary:
    'The slow client of the seeds: one socket, a pause after each PART, then the echo read back in\n' +
    '16-byte pieces until every byte has come back. Exits with status 1 if the echo differs.',
  positionals: '[PART ...]',
  options: {
    host: { type: 'string', metavar: 'HOST', help: 'server address (default 127.0.0.1)' },
    port: { type: 'string', metavar: 'PORT', help: 'server port (default 10000)' },
    delay: { type: 'string', metavar: 'SEC', help: 'pause after each part (default 1.5)' },
    timeout: { type: 'string', metavar: 'SEC', help: 'give up when a connect or a read takes longer (default 10)' },
  },
  epilog: `The parts default to the seeds' message: ${DEFAULT_PARTS.map((p) => JSON.stringify(p)).join(', ')}.`,
};

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const host = stringOption(args, 'host', '127.0.0.1');
    const port = intOption(args, 'port', 10000, 1, 65535);
    const delay = secondsOption(args, 'delay', 1.5, 0, 3600);
    const timeout = secondsOption(args, 'timeout', 10, 0, 3600, true);
    const parts = (args.positionals.length > 0 ? args.positionals : DEFAULT_PARTS).map((p) => Buffer.from(p));
    return runSlowClient(host, port, delay, timeout, parts);
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runSlowClient(host: string, port: number, delay: number, timeout: number, parts: Buffer[]): Promise<number> {
  say(`connecting to ${host} port ${port}`);
  let sock;
  try {
    sock = createConnection([host, port], timeout);
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    process.stderr.write(`iomux slow-client: cannot connect to ${host} port ${port}: ${err.message}\n`);
    return 1;
  }
  try {
    for (const part of parts) {
      say(`sending ${showPayload(part, 0, part.length)}`);
      sock.sendall(part);
      await sleep(delay * 1000);
    }
    const sent = Buffer.concat(parts);
    const pieces: Buffer[] = [];
    let received = 0;
    while (received < sent.length) {
      const data = sock.recv(PIECE_BYTES);
      if (data.length === 0) {
        process.stderr.write(`iomux slow-client: the server closed the connection after ${received} of ${sent.length} bytes\n`);
        return 1;
      }
      say(`received ${showPayload(data, 0, data.length)}`);
      pieces.push(data);
      received += data.length;
    }
    if (!Buffer.concat(pieces).equals(sent)) {
      process.stderr.write('iomux slow-client: the echo differs from what was sent\n');
      return 1;
    }
    return 0;
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    process.stderr.write(`iomux slow-client: ${err.message}\n`);
    return 1;
  } finally {
    say('closing socket');
    sock.close();
  }
}
