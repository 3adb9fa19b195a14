/**
 * `iomux echo-client`: the seeds' multi-socket client. Every part is sent on every socket, then the echo is
 * read back on each; the exit status says whether every echo matched.
 */
import { showAddress, showPayload } from '../../server/log/show.js';
import type { Socket } from '../../socket/index.js';
import { intOption, runCommand, type CommandSpec } from '../../cmdline/args.js';
import {
  clientTimeout, complain, connectAll, messageParts, partsEpilog, reportOSError, say, serverHost, serverPort,
  SERVER_OPTIONS, timeoutOptionSpec,
} from '../client.js';

export const DEFAULT_PARTS = ['This is the message. ', 'It will be sent ', 'in parts.'];

export const spec: CommandSpec = {
  name: 'echo-client',
  summary:
    'The multi-socket client of the seeds: connects several sockets, sends each PART on every socket and\n' +
    'reads the echo back on each. Exits with status 1 if an echo differs from what was sent.',
  positionals: '[PART ...]',
  options: {
    ...SERVER_OPTIONS,
    sockets: { type: 'string', metavar: 'N', help: 'number of sockets (default 2)' },
    timeout: timeoutOptionSpec('an echo'),
  },
  epilog: partsEpilog(DEFAULT_PARTS),
};

const RECV_BYTES = 1024;

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const host = serverHost(args);
    const port = serverPort(args);
    const count = intOption(args, 'sockets', 2, 1, 10_000);
    const timeout = clientTimeout(args);
    return runEchoClient(host, port, count, timeout, messageParts(args, DEFAULT_PARTS));
  });
}

async function runEchoClient(host: string, port: number, count: number, timeout: number, parts: Buffer[]): Promise<number> {
  const socks = connectAll(spec.name, host, port, count, timeout);
  if (socks === null) return 1;
  const labels = socks.map((s) => showAddress(s.getsockname()));
  const open = socks.map(() => true);
  let ok = true;
  // What a timeout interrupted, for its message.
  let waitingFor = (): string => 'the server';
  try {
    for (const [p, part] of parts.entries()) {
      socks.forEach((s, i) => {
        if (!open[i]) return;
        waitingFor = () => `the server to take part ${p + 1} of ${parts.length} on ${labels[i]}`;
        say(`${labels[i]}: sending ${showPayload(part, 0, part.length)}`);
        s.sendall(part);
      });
      socks.forEach((s, i) => {
        if (!open[i]) return;
        waitingFor = () => `the echo of part ${p + 1} of ${parts.length} on ${labels[i]}`;
        const echo = readEcho(s, labels[i]!, part.length);
        if (echo.length < part.length) {
          say(`closing socket ${labels[i]}`);
          s.close();
          open[i] = false;
        }
        if (!echo.equals(part)) {
          complain(spec.name, `${labels[i]}: the echo differs from what was sent ` +
            `(sent ${showPayload(part, 0, part.length)}, got ${showPayload(echo, 0, echo.length)})`);
          ok = false;
        }
      });
    }
  } catch (err) {
    reportOSError(spec.name, err, waitingFor, timeout);
    ok = false;
  } finally {
    socks.forEach((s, i) => {
      if (open[i]) say(`closing socket ${labels[i]}`);
      s.close();
    });
  }
  return ok ? 0 : 1;
}

/** Reads until `expected` bytes came back (TCP may split them) or the server closes; prints each read. */
function readEcho(s: Socket, label: string, expected: number): Buffer {
  const got: Buffer[] = [];
  let received = 0;
  while (received < expected) {
    const data = s.recv(RECV_BYTES);
    say(`${label}: received ${showPayload(data, 0, data.length)}`);
    if (data.length === 0) break;
    got.push(data);
    received += data.length;
  }
  return Buffer.concat(got);
}
