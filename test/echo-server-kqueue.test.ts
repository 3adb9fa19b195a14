// The shared echo-server tests on kqueue (libkqueue on Linux, which npm test's pretest builds; importing
// support/kqueue points the server child at it and fails loudly when it is missing).
import './support/kqueue.js';
import { requireKqueue } from './support/kqueue.js';
import { describeBackend } from './echo-server-harness.js';

requireKqueue();
// libkqueue holds about 5 fds more than an epoll fd (its monitoring thread's epoll and eventfd, the kqueue's
// pipe pair and its own epoll): the EMFILE test's limit grows by that much, so as many connections fit.
describeBackend({ title: '--backend kqueue', args: ['--backend', 'kqueue'], selectLimited: false, ownFds: 6 });
