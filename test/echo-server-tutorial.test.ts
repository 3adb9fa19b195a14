/**
 * --tutorial: the log follows the PyMOTW select tutorial's server step by step (it sends in the writable
 * step, so each message is received, then sent on the next wake-up, then found empty on the one after).
 * The tutorial's own log for its two-socket client is quoted below and compared, connection by connection,
 * with the server's log for `iomux echo-client`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli, withServer } from './echo-server-harness.js';

/** The log printed in "select – Wait for I/O Efficiently" (PyMOTW), for `select_echo_multiclient.py`. */
const TUTORIAL_LOG = `
starting up on localhost port 10000

waiting for the next event
new connection from ('127.0.0.1', 55821)

waiting for the next event
new connection from ('127.0.0.1', 55822)
received "This is the message. " from ('127.0.0.1', 55821)

waiting for the next event
sending "This is the message. " to ('127.0.0.1', 55821)

waiting for the next event
output queue for ('127.0.0.1', 55821) is empty

waiting for the next event
received "This is the message. " from ('127.0.0.1', 55822)

waiting for the next event
sending "This is the message. " to ('127.0.0.1', 55822)

waiting for the next event
output queue for ('127.0.0.1', 55822) is empty

waiting for the next event
received "It will be sent " from ('127.0.0.1', 55821)
received "It will be sent " from ('127.0.0.1', 55822)

waiting for the next event
sending "It will be sent " to ('127.0.0.1', 55821)
sending "It will be sent " to ('127.0.0.1', 55822)

waiting for the next event
output queue for ('127.0.0.1', 55821) is empty
output queue for ('127.0.0.1', 55822) is empty

waiting for the next event
received "in parts." from ('127.0.0.1', 55821)
received "in parts." from ('127.0.0.1', 55822)

waiting for the next event
sending "in parts." to ('127.0.0.1', 55821)
sending "in parts." to ('127.0.0.1', 55822)

waiting for the next event
output queue for ('127.0.0.1', 55821) is empty
output queue for ('127.0.0.1', 55822) is empty

waiting for the next event
closing ('127.0.0.1', 55822) after reading no data
closing ('127.0.0.1', 55822) after reading no data

waiting for the next event`;

const WAIT = 'waiting for the next event';

/**
 * What one connection went through, in order: its own lines with its address replaced by PEER, and a
 * WAIT wherever the server waited in between (consecutive waits count as one; identical consecutive
 * lines too: the tutorial logs its last "closing" twice).
 */
function steps(lines: string[], address: string): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let step: string | undefined;
    if (line === WAIT) step = 'WAIT';
    else if (line.includes(address)) step = line.replace(address, 'PEER');
    if (step === undefined || step === out[out.length - 1]) continue;
    out.push(step);
  }
  const first = out.findIndex((s) => s !== 'WAIT');
  while (out[out.length - 1] === 'WAIT') out.pop();
  return out.slice(first);
}

describe('echo-server --tutorial', () => {
  // The tutorial's second connection: its first one's "closing" line names the other address (a bug of
  // the tutorial's server: it prints client_address, the last one accepted).
  const expected = steps(TUTORIAL_LOG.split('\n'), "('127.0.0.1', 55822)");

  test('the quoted tutorial log has the step sequence the test expects', () => {
    assert.deepEqual(expected.filter((s) => s !== 'WAIT').map((s) => s.split(' ')[0]), [
      'new', 'received', 'sending', 'output', 'received', 'sending', 'output', 'received', 'sending', 'output', 'closing',
    ]);
    assert.ok(expected.every((s, i) => i % 2 === 0 ? s !== 'WAIT' : s === 'WAIT'), 'every step on a wake-up of its own');
  });

  for (const backend of ['select', 'poll', 'uring']) {
    test(`--backend ${backend}: each connection's log follows the tutorial's sequence`, async () => {
      await withServer(['--tutorial', '--backend', backend], async (server) => {
        const r = await runCli(['echo-client', '--port', String(server.port)]);
        assert.equal(r.code, 0, r.stderr);
        const peers = [...new Set(r.stdout.split('\n').map((l) => /^(127\.0\.0\.1:\d+): /.exec(l)?.[1]).filter((p) => p !== undefined))];
        assert.equal(peers.length, 2, r.stdout);
        for (const peer of peers) await server.waitFor(new RegExp(`closing ${peer} after reading no data`));
        for (const peer of peers) {
          // Addresses are shown as host:port, not as Python's tuple (see docs/cli.md): both become PEER.
          const got = steps(server.lines(), peer);
          assert.deepEqual(got, expected, server.log);
        }
      });
    });
  }
});
