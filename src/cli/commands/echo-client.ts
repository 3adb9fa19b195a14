/**
 * `iomux echo-client`: the seeds' multi-socket client. Every part is sent on every socket, then the echo is
 * read back on each; the exit status says whether every echo matched.
 */
import { OSError } from '../../errors.js';
import { formatAddress, showPayload } from '../../server/show.js';
import { createConnection, type Socket } from '../../socket/index.js';
import { intOption, runCommand, secondsOption, stringOption, type CommandSpec } from '../args.js';

export const DEFAULT_PARTS = ['This is the message. ', 'It will be sent ', 'in parts.'];

export const spec: CommandSpec = {
  name: 'echo-client',
  summary:
    'The multi-socket client of the seeds: connects several sockets, sends each PART on every socket and\n' +
    'reads the echo back on each. Exits with status 1 if an echo differs from what was sent.',
  positionals: '[PART ...]',
  options: {
    host: { type: 'string', metavar: 'HOST', help: 'server address (default 127.0.0.1)' },
    port: { type: 'string', metavar: 'PORT', help: 'server port (default 10000)' },
    sockets: { type: 'string', metavar: 'N', help: 'number of sockets (default 2)' },
    timeout: { type: 'string', metavar: 'SEC', help: 'give up when a connect or an echo takes longer (default 10)' },
  },
  epilog: `The parts default to the seeds' message: ${DEFAULT_PARTS.map((p) => JSON.stringify(p)).join(', ')}.`,
};

const RECV_BYTES = 1024;

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async (args) => {
    const host = stringOption(args, 'host', '127.0.0.1');
    const port = intOption(args, 'port', 10000, 1, 65535);
    const count = intOption(args, 'sockets', 2, 1, 10_000);
    const timeout = secondsOption(args, 'timeout', 10, 0, 3600, true);
    const parts = args.positionals.length > 0 ? args.positionals : DEFAULT_PARTS;
    return runEchoClient(host, port, count, timeout, parts.map((p) => Buffer.from(p)));
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runEchoClient(host: string, port: number, count: number, timeout: number, parts: Buffer[]): Promise<number> {
  say(`connecting to ${host} port ${port}`);
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < count; i++) socks.push(createConnection([host, port], timeout));
  } catch (err) {
    for (const s of socks) s.close();
    if (!(err instanceof OSError)) throw err;
    process.stderr.write(`iomux echo-client: cannot connect to ${host} port ${port}: ${err.message}\n`);
    return 1;
  }
  const labels = socks.map((s) => formatAddress(s.getsockname()));
  const open = socks.map(() => true);
  let ok = true;
  try {
    for (const part of parts) {
      socks.forEach((s, i) => {
        if (!open[i]) return;
        say(`${labels[i]}: sending ${showPayload(part, 0, part.length)}`);
        s.sendall(part);
      });
      socks.forEach((s, i) => {
        if (!open[i]) return;
        const echo = readEcho(s, labels[i]!, part.length);
        if (echo.length < part.length) {
          say(`closing socket ${labels[i]}`);
          s.close();
          open[i] = false;
        }
        if (!echo.equals(part)) {
          process.stderr.write(`iomux echo-client: ${labels[i]}: the echo differs from what was sent ` +
            `(sent ${showPayload(part, 0, part.length)}, got ${showPayload(echo, 0, echo.length)})\n`);
          ok = false;
        }
      });
    }
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    process.stderr.write(`iomux echo-client: ${err.message}\n`);
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
