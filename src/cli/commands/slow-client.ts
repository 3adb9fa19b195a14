/**
 * `iomux slow-client`: the seeds' slow client. One socket, a pause after each part, then the echo read back
 * in 16-byte pieces until every byte sent has come back: the pieces do not follow the parts, because TCP
 * carries a byte stream, not messages.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { showPayload } from '../../server/log/show.js';
import { runCommand, secondsOption, type CommandSpec } from '../../cmdline/args.js';
import {
  clientTimeout, complain, connectAll, messageParts, partsEpilog, reportOSError, say, serverHost, serverPort,
  SERVER_OPTIONS, timeoutOptionSpec,
} from '../client.js';

export const DEFAULT_PARTS = ['Part one of the message.', 'Part two of the message.'];
const PIECE_BYTES = 16;

export const spec: CommandSpec = {
  name: 'slow-client',
  summary:
    'The slow client of the seeds: one socket, a pause after each PART, then the echo read back in\n' +
    '16-byte pieces until every byte has come back. Exits with status 1 if the echo differs.',
  positionals: '[PART ...]',
  options: {
    ...SERVER_OPTIONS,
    delay: { type: 'string', metavar: 'SEC', help: 'pause after each part (default 1.5)' },
    timeout: timeoutOptionSpec('a read'),
  },
  epilog: partsEpilog(DEFAULT_PARTS),
};

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const host = serverHost(args);
    const port = serverPort(args);
    const delay = secondsOption(args, 'delay', 1.5, 0, 3600);
    const timeout = clientTimeout(args);
    return runSlowClient(host, port, delay, timeout, messageParts(args, DEFAULT_PARTS));
  });
}

async function runSlowClient(host: string, port: number, delay: number, timeout: number, parts: Buffer[]): Promise<number> {
  const socks = connectAll(spec.name, host, port, 1, timeout);
  if (socks === null) return 1;
  const sock = socks[0]!;
  const sent = Buffer.concat(parts);
  let received = 0;
  // What a timeout interrupted, for its message.
  let waitingFor = (): string => 'the server to take the first part';
  try {
    for (const [i, part] of parts.entries()) {
      say(`sending ${showPayload(part, 0, part.length)}`);
      waitingFor = () => `the server to take part ${i + 1} of ${parts.length}`;
      sock.sendall(part);
      await sleep(delay * 1000);
    }
    waitingFor = () => `the echo (${received} of ${sent.length} bytes came back)`;
    const pieces: Buffer[] = [];
    while (received < sent.length) {
      const data = sock.recv(PIECE_BYTES);
      if (data.length === 0) {
        complain(spec.name, `the server closed the connection after ${received} of ${sent.length} bytes`);
        return 1;
      }
      say(`received ${showPayload(data, 0, data.length)}`);
      pieces.push(data);
      received += data.length;
    }
    if (!Buffer.concat(pieces).equals(sent)) {
      complain(spec.name, 'the echo differs from what was sent');
      return 1;
    }
    return 0;
  } catch (err) {
    reportOSError(spec.name, err, waitingFor, timeout);
    return 1;
  } finally {
    say('closing socket');
    sock.close();
  }
}
