#!/usr/bin/env node
/**
 * The `iomux` command: the seed programs (echo server and clients), the demo and the echo load generator
 * (the benchmark suite is a development tool of the repository, bench/main.ts, and does not ship). Each
 * command lives in src/cli/commands/<name>.ts and exports `main(argv): Promise<number>` (the exit code);
 * they are imported only when run, so `iomux --help` stays fast.
 */
import { readFileSync } from 'node:fs';
import { runSubcommand, UsageError, type Subcommand } from '../cmdline/args.js';
import { handleOutputClosed } from '../cmdline/output.js';

const commands: Record<string, Subcommand> = {
  'echo-server': { summary: 'the multiplexed echo server (select, poll, epoll or selectors)', load: () => import('./commands/echo-server.js') },
  'echo-client': { summary: 'the multi-socket client: sends each part on every socket, checks the echo', load: () => import('./commands/echo-client.js') },
  'slow-client': { summary: 'one socket, a pause between parts, reads the echo in 16-byte pieces', load: () => import('./commands/slow-client.js') },
  demo: { summary: 'starts a server, runs both clients against it, prints the transcripts', load: () => import('./commands/demo.js') },
  'echo-bench': { summary: 'load generator on iomux epoll: pipelined connections, verified echoes', load: () => import('./commands/echo-bench.js') },
};

const HELP_EPILOG = "iomux --version (or -V) prints iomux's version; iomux --help (or -h) shows this help.";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  return runSubcommand('iomux', commands, argv, HELP_EPILOG);
}

// `iomux echo-client | head -1`: a reader that goes away is not an error of ours; end quietly.
handleOutputClosed();

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Commands print their own usage errors; one that gets here still gets its one line and status 2.
    // Anything else is unexpected, and its stack is what a bug report needs.
    if (err instanceof UsageError) {
      process.stderr.write(`iomux: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`iomux: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
