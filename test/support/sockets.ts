/** Sockets in tests, closed when the test ends. */
import { socketpair, type Socket } from 'iomux/socket';
import type { After } from './fds.js';

/** A connected socketpair (`socketpair(...args)`, by default AF_UNIX stream), both ends closed after the test. */
export function socketPair(t: After, ...args: Parameters<typeof socketpair>): [Socket, Socket] {
  const pair = socketpair(...args);
  t.after(() => {
    pair[0].close();
    pair[1].close();
  });
  return pair;
}
